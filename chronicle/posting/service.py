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
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from chronicle.config import Settings
from chronicle.posting import events as ev
from chronicle.posting.anniversaries import PlannedPost, Planner, due_at, local_today
from chronicle.posting.clock import Clock
from chronicle.posting.queries import pending_posts
from chronicle.projections import Projector, ReadModels
from chronicle.publishers import OutgoingPost, Publisher, PublishError
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

DEFAULT_LEASE = dt.timedelta(minutes=10)  # longer than any one publish (X waits <= 2 min)


@dataclass(frozen=True, kw_only=True, slots=True)
class PostResult:
    """What one pass did with one post."""

    post: PlannedPost
    outcome: str
    detail: str | None = None
    retry_at: dt.datetime | None = None


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
                 lookback_days: int = 1) -> None:
        self.store = store
        self.settings = settings
        self.publishers = dict(publishers)
        self.clock = clock
        self.worker = worker or ev.Worker()
        self.claim_lease = claim_lease
        self.lookback_days = lookback_days
        self.grace = dt.timedelta(hours=settings.posting.grace_hours)
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

    # -- the scheduled pass -------------------------------------------------------------

    def post_due(self) -> list[PostResult]:
        """Act on every post due by now whose grace window is open (or just closed)."""
        now = self.clock.now()
        read_models = self.read_models()
        planner = Planner(self.settings, read_models)
        today = local_today(now, self.settings.posting)
        results: list[PostResult] = []
        for back in range(self.lookback_days, -1, -1):
            day = today - dt.timedelta(days=back)
            if due_at(day, self.settings.posting) > now:
                continue  # not due yet: not even composed (its text may still change)
            plans = planner.plan(day, self.channels)
            results += [self._act(post, now, post.window_end(self.grace)) for post in plans]
            results += self._orphans(day, {p.key for p in plans}, now, read_models)
        return results

    def post_date(self, local_date: dt.date, *, channels: list[str] | None = None,
                  dry_run: bool = False) -> list[PostResult]:
        """Post what is due on `local_date` now, whatever the time (an operator's command)."""
        chosen = channels or self.channels
        unknown = [c for c in chosen if c not in self.publishers]
        if unknown:
            raise ValueError(f"channel(s) not configured: {', '.join(unknown)}")
        planner = Planner(self.settings, self.read_models())
        now = self.clock.now()
        plans = planner.plan(local_date, chosen)
        if dry_run:
            return [self._preview(post) for post in plans]
        return [self._act(post, now, None) for post in plans]

    def plans(self, local_date: dt.date) -> list[PlannedPost]:
        return Planner(self.settings, self.read_models()).plan(local_date, self.channels)

    # -- one post -----------------------------------------------------------------------

    def _preview(self, post: PlannedPost) -> PostResult:
        state = ev.fold_post(self.store.read_stream(post.stream_id))
        if state.finished:
            return self._finished(post, state)
        return PostResult(post=post, outcome=WOULD_PUBLISH, detail=post.problem)

    def _act(self, post: PlannedPost, now: dt.datetime, window_end: dt.datetime | None
             ) -> PostResult:
        state = ev.fold_post(self.store.read_stream(post.stream_id))
        if state.finished:
            return self._finished(post, state)
        if state.in_flight and not self._stale(state, post, now):
            # Checked before the window: a live publish may still land, so its outcome is its own.
            return PostResult(post=post, outcome=WAITING, detail="claimed by a running worker")
        if window_end is not None and now > window_end:
            detail = "the grace window closed at " + window_end.isoformat()
            if state.in_flight:
                detail += "; an earlier claim never reported back"
            return self._record(post, state.version, ev.skipped(post, now, ev.TOO_LATE, detail),
                                SKIPPED, detail)
        if state.text is None and post.text is None:
            return self._record(post, state.version,
                                ev.skipped(post, now, ev.TOO_LONG, post.problem), SKIPPED,
                                post.problem)
        if state.last_type == ev.FAILED and state.retry_at and now < state.retry_at:
            return PostResult(post=post, outcome=WAITING, retry_at=state.retry_at,
                              detail="retry scheduled")
        return self._claim_and_publish(post, state)

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

    def _claim_and_publish(self, post: PlannedPost, state: ev.PostState) -> PostResult:
        text = state.text or post.text
        assert text is not None
        attempt = state.attempts + 1
        try:
            claim = ev.claimed(post, self.worker, self.clock.now(), text, attempt)
            self.store.append(post.stream_id, [claim], expected_version=state.version)
        except ConcurrencyError:
            return PostResult(post=post, outcome=CLAIMED_ELSEWHERE)
        with self._lock:
            self._running.add(post.key)
        try:
            return self._publish(post, text, attempt, state.version + 1)
        finally:
            with self._lock:
                self._running.discard(post.key)

    def _publish(self, post: PlannedPost, text: str, attempt: int, version: int) -> PostResult:
        outgoing = OutgoingPost(key=post.key, channel=post.channel, text=text,
                                milestone_ids=post.milestone_ids, local_date=post.local_date)
        try:
            receipt = self.publishers[post.channel].publish(outgoing)
        except Exception as exc:  # anything a channel throws is a failed attempt, never a crash
            return self._failed(post, attempt, version, exc)
        event = ev.published(post, text, self.clock.now(), remote_id=receipt.remote_id,
                             url=receipt.url, already_published=receipt.already_published,
                             attempt=attempt)
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
        error = str(exc) if isinstance(exc, PublishError) else f"{type(exc).__name__}: {exc}"
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
