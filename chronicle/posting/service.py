"""Posting what is due, exactly once per (milestone, year, channel), whoever else is trying.

The fence is the log, not leadership: a post is claimed by appending
``AnniversaryPostClaimed`` with the stream's current version as the expected version
(0 for the first attempt). Of any number of workers, threads or replicas that try at once,
one append wins; the others get ConcurrencyError and do nothing. The winner publishes and
appends the outcome with ``expected_version`` = the version its claim created.

Reconciliation after a crash (a claim with no outcome):
a claim is *stale* when its worker is this process but no publish of it is running, when its
worker was a process on this host that no longer exists, or when it is older than the claim
lease (10 minutes by default). A stale claim inside the grace window is taken over by
appending a new claim (again fenced by the stream version) and publishing the *same text*
under the *same key* again. That retry is safe: the outbox finds its key and answers
``already_published``; X answers 403 "duplicate content" for the same text, which the X
publisher reports as already published. The outcome is then recorded (Published, with
``already_published`` set when the channel had it). A stale claim found after the grace window
is recorded as Skipped ("too late") and not sent again: whether that earlier attempt was
delivered is then unknown, and the rule is never to post late.

Transient failures become ``AnniversaryPostFailed`` with ``retry_at`` (the channel's, or our
back-off); the post is claimed again from ``retry_at`` on until the grace window closes, then
Skipped ("too late"). Permanent failures end the post. A milestone retracted (or re-dated)
while its post is pending gets Skipped ("retracted" / "no longer due"). A text that cannot fit
X's limit is never sent: Skipped ("too long").

What is sent is the post's draft (``AnniversaryPostDrafted``, recorded ahead of time or at the
latest just before the claim): the text composed for the channel, or an editor's edit. A held
post is not sent. With ``posting.require_approval`` only a draft whose exact hash an editor
approved is claimed; at the posting time an unapproved post is recorded as held ("not
approved") once, and an approval inside the grace window sends it on the next pass (or at once,
from ``chronicle approve``). After the window it is Skipped ("too late").

``post_date`` is the operator's command: a date after today (in the posting zone) is refused,
a date whose grace window has closed needs ``late_by`` (who is sending it late), recorded on
the claim and the outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from chronicle.config import Settings
from chronicle.posting import events as ev
from chronicle.posting.alerts import Alerts
from chronicle.posting.anniversaries import PlannedPost, Planner, due_at, local_today
from chronicle.posting.clock import Clock
from chronicle.posting.images import post_image
from chronicle.posting.reminders import (
    approval_reminder,
    outcome_alert,
    preflight_alerts,
)
from chronicle.posting.statuses import pending_posts
from chronicle.projections import Projector, ReadModels
from chronicle.publishers import OutgoingPost, Publisher, PublishError, TextLimit
from chronicle.redaction import redact
from chronicle.store import ConcurrencyError, NewEvent, SqlEventStore

log = logging.getLogger(__name__)

PUBLISHED = "published"
ALREADY_ON_CHANNEL = "already on channel"
ALREADY_PUBLISHED = "already published"
FINISHED = "finished earlier"
SKIPPED = "skipped"
FAILED = "failed"
WAITING = "waiting"
CLAIMED_ELSEWHERE = "claimed elsewhere"
WOULD_PUBLISH = "would publish"
HELD = "held"

DEFAULT_LEASE = dt.timedelta(minutes=10)  # longer than any one publish (X waits <= 2 min)


@dataclass(frozen=True, kw_only=True, slots=True)
class PostResult:
    """What one pass did with one post."""

    post: PlannedPost
    outcome: str
    detail: str | None = None
    retry_at: dt.datetime | None = None


class NotYetDue(ValueError):
    """`post --date` for a day after today: nothing goes out before its day."""


class OutsideWindow(ValueError):
    """`post --date` for a day whose grace window closed, without `--late`."""


def backoff(attempt: int) -> dt.timedelta:
    """Our own retry spacing when a channel gives no retry time: 1, 2, 4 … 30 minutes."""
    return dt.timedelta(minutes=min(30, 2 ** max(0, attempt - 1)))


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class PostingService:
    """Computes what is due from the read models and the log, and acts on it."""

    def __init__(self, store: SqlEventStore, settings: Settings,
                 publishers: Mapping[str, Publisher], clock: Clock, *,
                 worker: ev.Worker | None = None, claim_lease: dt.timedelta = DEFAULT_LEASE,
                 lookback_days: int = 1, alerts: Alerts | None = None) -> None:
        self.store = store
        self.settings = settings
        self.publishers = dict(publishers)
        self.clock = clock
        self.worker = worker or ev.Worker()
        self.claim_lease = claim_lease
        self.lookback_days = lookback_days
        self.grace = dt.timedelta(hours=settings.posting.grace_hours)
        self.require_approval = settings.posting.require_approval
        self.alerts = alerts
        self._limits: dict[str, TextLimit] | None = None
        self._preflight_day: dt.date | None = None
        self._projector = Projector(store)
        self._prepared = False
        self._running: set[str] = set()
        self._lock = threading.Lock()

    @property
    def channels(self) -> list[str]:
        return list(self.publishers)

    def read_models(self) -> ReadModels:
        """Read models caught up with the log (the milestones may have just been loaded)."""
        if not self._prepared:
            self._projector.prepare()
            self._prepared = True
        self._projector.catch_up()
        return ReadModels(self.store.engine)

    def limits(self) -> dict[str, TextLimit]:
        """Each channel's text limit, asked once (a channel may ask its server the first time)."""
        if self._limits is None:
            self._limits = {name: p.text_limit() for name, p in self.publishers.items()}
        return self._limits

    def planner(self, read_models: ReadModels | None = None) -> Planner:
        return Planner(self.settings, read_models or self.read_models(), self.limits())

    def state(self, post: PlannedPost) -> ev.PostState:
        return ev.fold_post(self.store.read_stream(post.stream_id))

    # -- the scheduled pass -------------------------------------------------------------

    def post_due(self) -> list[PostResult]:
        """Act on every post due by now whose grace window is open (or just closed)."""
        now = self.clock.now()
        read_models = self.read_models()
        planner = self.planner(read_models)
        today = local_today(now, self.settings.posting)
        results: list[PostResult] = []
        for back in range(self.lookback_days, -1, -1):
            day = today - dt.timedelta(days=back)
            if due_at(day, self.settings.posting) > now:
                continue  # not due yet: not even composed (its text may still change)
            plans = planner.plan(day, self.channels)
            results += [self._act(post, now, post.window_end(self.grace)) for post in plans]
            results += self._orphans(day, {p.key for p in plans}, now, read_models)
        drafts = self.draft_ahead(planner, today, now)
        if self.alerts is not None:
            self._warn(results, drafts, today, now)
        return results

    def draft_ahead(self, planner: Planner, today: dt.date, now: dt.datetime, *,
                    by: str = ev.SCHEDULER, days: int | None = None
                    ) -> list[tuple[PlannedPost, ev.PostState]]:
        """Record the draft of every post due within `posting.draft_days` that has none yet."""
        horizon = self.settings.posting.draft_days if days is None else days
        found = []
        for ahead in range(horizon + 1):
            for post in planner.plan(today + dt.timedelta(days=ahead), self.channels):
                if post.due_at - now > dt.timedelta(days=self.settings.posting.draft_days):
                    continue
                found.append((post, self.ensure_draft(post, self.state(post), by=by)))
        return found

    def _warn(self, results: list[PostResult], drafts: list[tuple[PlannedPost, ev.PostState]],
              today: dt.date, now: dt.datetime) -> None:
        """Alerts for posts that stopped, drafts awaiting approval, and the daily preflight."""
        assert self.alerts is not None
        posting = self.settings.posting
        for result in results:
            stopped = result.outcome in (HELD, SKIPPED) or (
                result.outcome == FAILED and result.retry_at is None)
            if stopped:
                self.alerts.send(outcome_alert(result.post, result.outcome, result.detail,
                                               posting))
        for post, state in drafts:
            if not self.needs_approval(post):
                continue
            reminder = None if state.review.approved or state.finished else (
                approval_reminder(post, now, posting))
            if reminder is not None:
                self.alerts.send(reminder)
        if self.alerts.urls and self._preflight_day != today:  # read-only, but still a call
            self._preflight_day = today
            checks = [publisher.preflight() for publisher in self.publishers.values()]
            for alert in preflight_alerts(checks, today):
                self.alerts.send(alert)

    def post_date(self, local_date: dt.date, *, channels: list[str] | None = None,
                  dry_run: bool = False, late_by: str | None = None) -> list[PostResult]:
        """Post what is due on `local_date` now (an operator's command); never a future day.

        Raises NotYetDue for a day after today, OutsideWindow for a day whose grace window
        closed unless `late_by` names who sends it late. Nothing is written when it raises.
        """
        chosen = self.check_channels(channels)
        now = self.clock.now()
        posting = self.settings.posting
        today = local_today(now, posting)
        if local_date > today and not dry_run:
            raise NotYetDue(
                f"--date {local_date.isoformat()} is in the future (today is {today.isoformat()} "
                f"in {posting.timezone}): nothing was posted. See what would go out with "
                f"--dry-run or `chronicle rehearse --date {local_date.isoformat()}`")
        window_end = due_at(local_date, posting) + self.grace
        plans = self.planner().plan(local_date, chosen)
        if dry_run:
            return [self._preview(post) for post in plans]
        if now > window_end and late_by is None:
            raise OutsideWindow(
                f"--date {local_date.isoformat()}: its grace window closed at "
                f"{window_end.astimezone(posting.zone):%Y-%m-%d %H:%M} {posting.timezone}; "
                "nothing was posted. Add --late to send it anyway (recorded as sent late, "
                "with who ran it)")
        late = late_by if now > window_end else None
        return [self._act(post, now, None if late else window_end, late_by=late)
                for post in plans]

    def check_channels(self, channels: list[str] | None) -> list[str]:
        chosen = channels or self.channels
        unknown = [c for c in chosen if c not in self.publishers]
        if unknown:
            raise ValueError(f"channel(s) not configured: {', '.join(unknown)} "
                             f"(configured: {', '.join(self.channels)})")
        return chosen

    def act_now(self, post: PlannedPost) -> PostResult | None:
        """Act on one post if it is due and its window is open (an approval sends at once)."""
        now = self.clock.now()
        if post.due_at > now or now > post.window_end(self.grace):
            return None
        return self._act(post, now, post.window_end(self.grace))

    def plans(self, local_date: dt.date) -> list[PlannedPost]:
        return self.planner().plan(local_date, self.channels)

    # -- drafts ---------------------------------------------------------------------------

    def sendable_text(self, post: PlannedPost, state: ev.PostState) -> str | None:
        """What would go out: the claimed text, else the draft if it still stands, else new."""
        review = state.review
        if state.text is not None:
            return state.text
        if review.draft is not None and (review.edited or post.text is None
                                         or review.draft == post.text):
            return review.draft
        return post.text

    def ensure_draft(self, post: PlannedPost, state: ev.PostState, *, by: str
                     ) -> ev.PostState:
        """Record the current text as the post's draft unless it is already (or was claimed)."""
        for _ in range(3):  # another writer may append between our read and our append
            text = self.sendable_text(post, state)
            if state.finished or state.text is not None or text in (None, state.review.draft):
                return state
            event = ev.drafted(post, text, self.clock.now(), by=by, edited=False)
            try:
                self.store.append(post.stream_id, [event], expected_version=state.version)
            except ConcurrencyError:
                state = self.state(post)
                continue
            return self.state(post)
        return state

    # -- one post -----------------------------------------------------------------------

    def _preview(self, post: PlannedPost) -> PostResult:
        state = self.state(post)
        if state.finished:
            return self._finished(post, state)
        shown = replace(post, text=self.sendable_text(post, state))
        return PostResult(post=shown, outcome=WOULD_PUBLISH, detail=post.problem)

    def _act(self, post: PlannedPost, now: dt.datetime, window_end: dt.datetime | None, *,
             late_by: str | None = None) -> PostResult:
        state = self.state(post)
        if state.finished:
            return self._finished(post, state)
        if state.in_flight and not self._stale(state, post, now):
            # Checked before the window: a live publish may still land, so its outcome is its own.
            return PostResult(post=post, outcome=WAITING, detail="claimed by a running worker")
        if window_end is not None and now > window_end:
            detail = "the grace window closed at " + window_end.isoformat()
            if state.in_flight:
                detail += "; an earlier claim never reported back"
            elif state.review.held is not None:
                detail += f"; held ({state.review.held})"
            return self._record(post, state.version, ev.skipped(post, now, ev.TOO_LATE, detail),
                                SKIPPED, detail)
        drafted = self.ensure_draft(post, state, by=ev.SCHEDULER)
        if drafted.version != state.version:  # the stream moved on (our draft, or a claim)
            return self._act(post, now, window_end, late_by=late_by)
        text = self.sendable_text(post, state)
        if text is None:
            return self._record(post, state.version,
                                ev.skipped(post, now, ev.TOO_LONG, post.problem), SKIPPED,
                                post.problem)
        if state.review.held is not None:
            return PostResult(post=post, outcome=HELD, detail=state.review.held)
        if self.needs_approval(post) and state.text is None and not (
                state.review.approved and state.review.draft == text):
            reason = ev.NOT_APPROVED if self.require_approval else ev.NOT_REVIEWED
            return self._record(post, state.version,
                                ev.held(post, reason, now, by=ev.SCHEDULER), HELD, reason)
        if state.last_type == ev.FAILED and state.retry_at and now < state.retry_at:
            return PostResult(post=post, outcome=WAITING, retry_at=state.retry_at,
                              detail="retry scheduled")
        return self._claim_and_publish(post, state, text, late_by)

    def needs_approval(self, post: PlannedPost) -> bool:
        """Whether only an approved text of `post` may go out: always with
        `posting.require_approval`, and for a translation nobody has reviewed yet."""
        return self.require_approval or not post.reviewed

    def _finished(self, post: PlannedPost, state: ev.PostState) -> PostResult:
        if state.last_type == ev.PUBLISHED:
            return PostResult(post=post, outcome=ALREADY_PUBLISHED)
        return PostResult(post=post, outcome=FINISHED, detail=state.last_type)

    def _stale(self, state: ev.PostState, post: PlannedPost, now: dt.datetime) -> bool:
        claim = state.claim or {}
        with self._lock:
            if post.key in self._running:
                return False
        if claim.get("worker_id") == self.worker.worker_id:
            return True
        if claim.get("host") == self.worker.host and _process_gone(int(claim.get("pid", 0))):
            return True
        claimed_at = state.claimed_at()
        return claimed_at is None or now - claimed_at >= self.claim_lease

    def _claim_and_publish(self, post: PlannedPost, state: ev.PostState, text: str,
                           late_by: str | None) -> PostResult:
        attempt = state.attempts + 1
        try:
            claim = ev.claimed(post, self.worker, self.clock.now(), text, attempt,
                               late_by=late_by)
            self.store.append(post.stream_id, [claim], expected_version=state.version)
        except ConcurrencyError:
            return PostResult(post=post, outcome=CLAIMED_ELSEWHERE)
        with self._lock:
            self._running.add(post.key)
        try:
            return self._publish(post, text, attempt, state.version + 1, late_by)
        finally:
            with self._lock:
                self._running.discard(post.key)

    def _publish(self, post: PlannedPost, text: str, attempt: int, version: int,
                 late_by: str | None) -> PostResult:
        outgoing = OutgoingPost(key=post.key, channel=post.channel, text=text,
                                milestone_ids=post.milestone_ids, local_date=post.local_date,
                                language=post.language,
                                image=post_image(self.settings, self.read_models(), post))
        try:
            receipt = self.publishers[post.channel].publish(outgoing)
        except Exception as exc:  # anything a channel throws is a failed attempt, never a crash
            return self._failed(post, attempt, version, exc)
        event = ev.published(post, text, self.clock.now(), remote_id=receipt.remote_id,
                             url=receipt.url, already_published=receipt.already_published,
                             attempt=attempt, late_by=late_by)
        outcome = ALREADY_ON_CHANNEL if receipt.already_published else PUBLISHED
        log.info("post %s: %s%s", post.key, outcome,
                 f" as {receipt.url or receipt.remote_id}" if receipt.remote_id else "")
        return self._record(post, version, event, outcome, receipt.url)

    def _failed(self, post: PlannedPost, attempt: int, version: int, exc: Exception
                ) -> PostResult:
        now = self.clock.now()
        permanent = isinstance(exc, PublishError) and exc.permanent
        channel_retry = exc.retry_at if isinstance(exc, PublishError) else None
        retry_at = None if permanent else (channel_retry or now + backoff(attempt))
        error = redact(str(exc) if isinstance(exc, PublishError)
                       else f"{type(exc).__name__}: {exc}")
        log.warning("post %s: attempt %d failed%s: %s", post.key, attempt,
                    " for good" if permanent else f", retry at {retry_at}", error)
        event = ev.failed(post, now, attempt=attempt, error=error, permanent=permanent,
                          retry_at=retry_at)
        result = self._record(post, version, event, FAILED, error)
        return PostResult(post=post, outcome=result.outcome, detail=error, retry_at=retry_at)

    def _record(self, post: PlannedPost, version: int, event: NewEvent, outcome: str,
                detail: str | None) -> PostResult:
        """Append an outcome after `version`; losing that race means another worker took over."""
        try:
            self.store.append(post.stream_id, [event], expected_version=version)
        except ConcurrencyError:
            log.info("post %s: another worker recorded an outcome first", post.key)
            return PostResult(post=post, outcome=CLAIMED_ELSEWHERE, detail=outcome)
        return PostResult(post=post, outcome=outcome, detail=detail)

    def _orphans(self, day: dt.date, planned: set[str], now: dt.datetime,
                 read_models: ReadModels) -> list[PostResult]:
        """Pending posts of `day` that are no longer planned: retracted or re-dated milestones."""
        results = []
        for pending in pending_posts(self.store.engine, day):
            if pending.key in planned:
                continue
            retracted = [m for m in pending.milestone_ids if read_models.retracted(m)]
            reason = ev.RETRACTED if retracted else ev.NO_LONGER_DUE
            state = ev.fold_post(self.store.read_stream(pending.stream_id))
            if state.finished:
                continue
            post = PlannedPost(key=pending.key, stream_id=pending.stream_id,
                               channel=pending.channel, local_date=day,
                               due_at=pending.due_at or due_at(day, self.settings.posting),
                               milestone_ids=pending.milestone_ids, years=(), text=state.text)
            results.append(self._record(post, state.version, ev.skipped(post, now, reason),
                                        SKIPPED, reason))
        return results
