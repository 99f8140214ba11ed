"""The editor's desk: the queue of drafts, approving, holding and editing a post's text.

Everything is an event in the post's own stream (see ``events``), appended with the stream's
version as the expected version, so a review action racing a claim either lands before it
(and counts) or fails with a clear message (the post is already on its way). Drafts are
recorded here too when the scheduler has not yet, so the whole review works from the command
line without a running server.
"""

from __future__ import annotations

import calendar
import datetime as dt
import getpass
from dataclasses import dataclass

from chronicle.posting import events as ev
from chronicle.posting.anniversaries import FEB29, PlannedPost, Unposted, local_today
from chronicle.posting.images import describe_image
from chronicle.posting.service import PostingService, PostResult
from chronicle.store import ConcurrencyError, NewEvent

LOOKUP_DAYS_BACK = 2


class ReviewError(ValueError):
    """A review action that cannot apply (unknown key, post already sent, text too long)."""


def default_user() -> str:
    """Who acts when `--by` is not given: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueEntry:
    """One post as the editor sees it."""

    post: PlannedPost
    state: str
    text: str | None
    length: int | None
    max_length: int
    actions: tuple[dict[str, object], ...]
    outcome: dict[str, object] | None
    image: str = "none"

    @property
    def fits(self) -> bool:
        return self.length is not None and self.length <= self.max_length


def post_state(state: ev.PostState) -> str:
    """draft, approved, held, sending, published, failed, skipped (or scheduled: no draft)."""
    if state.last_type == ev.PUBLISHED:
        return "published"
    if state.last_type == ev.SKIPPED:
        return "skipped"
    if state.last_type == ev.FAILED:
        return "failed" if state.permanent else "failed (retrying)"
    if state.last_type == ev.CLAIMED:
        return "sending"
    return state.review.state()


class ReviewDesk:
    """Queue, approve, hold and edit, over a posting service's plans and log."""

    def __init__(self, service: PostingService) -> None:
        self.service = service
        self.settings = service.settings

    # -- reading ---------------------------------------------------------------------

    def entries(self, days: int, *, by: str, languages: list[str] | None = None
                ) -> list[QueueEntry]:
        """Posts from yesterday to `days` ahead (in `languages`, default all configured);
        drafts recorded for those due within `posting.draft_days`."""
        return self.queue(days, by=by, languages=languages)[0]

    def queue(self, days: int, *, by: str, languages: list[str] | None = None
              ) -> tuple[list[QueueEntry], list[Unposted]]:
        """The entries, and the milestones that get no post in some language on those days."""
        now = self.service.clock.now()
        today = local_today(now, self.settings.posting)
        planner = self.service.planner()
        horizon = dt.timedelta(days=self.settings.posting.draft_days)
        found = []
        unposted = []
        for offset in range(-1, days):
            day = planner.plan_day(today + dt.timedelta(days=offset), self.service.channels,
                                   languages)
            unposted += day.unposted
            for post in day.posts:
                state = self.service.state(post)
                if post.due_at - now <= horizon and not state.finished:
                    state = self.service.ensure_draft(post, state, by=by)
                found.append(self.entry(post, state))
        return found, unposted

    def entry(self, post: PlannedPost, state: ev.PostState) -> QueueEntry:
        text = self.service.sendable_text(post, state)
        limit = self.service.limits()[post.channel]
        return QueueEntry(post=post, state=post_state(state), text=text,
                          length=limit.measure(text) if text else None,
                          max_length=limit.max_length, actions=state.review.actions,
                          outcome=state.outcome,
                          image=describe_image(self.settings, self.service.read_models(), post))

    def find(self, key: str) -> PlannedPost:
        """The post of `key` (``<milestone>/<year>/<channel>[/<language>]``), planned for its
        day."""
        parts = key.split("/")
        if len(parts) < 3 or not parts[1].isdigit():
            raise ReviewError(f"{key!r} is not a post key (<milestone>/<year>/<channel>, as "
                              "`chronicle queue` lists them)")
        name, year = parts[0], int(parts[1])
        for day in self._days_of(name, year):
            for post in self.service.planner().plan(day, self.service.channels):
                if post.key == key:
                    return post
        raise ReviewError(f"no post {key!r} is planned (see `chronicle queue`); is the channel "
                          "configured and the milestone posted that year?")

    def _days_of(self, name: str, year: int) -> list[dt.date]:
        if name.startswith("digest-"):
            month, day = (int(n) for n in name.removeprefix("digest-").split("-"))
            return [dt.date(year, month, day)]
        view = self.service.read_models().milestone(name)
        month_day = view.milestone.date.month_day() if view else None
        if month_day is None:
            return []
        if month_day == FEB29 and not calendar.isleap(year):
            return [dt.date(year, 2, 28), dt.date(year, 3, 1)]
        return [dt.date(year, *month_day)]

    # -- acting ----------------------------------------------------------------------

    def _open(self, post: PlannedPost) -> ev.PostState:
        state = self.service.state(post)
        if state.finished or state.text is not None:
            raise ReviewError(f"{post.key}: already {post_state(state)}; its text can no longer "
                              "change")
        return state

    def _append(self, post: PlannedPost, state: ev.PostState, event: NewEvent) -> None:
        try:
            self.service.store.append(post.stream_id, [event], expected_version=state.version)
        except ConcurrencyError:
            raise ReviewError(f"{post.key}: changed while you acted (another review or the "
                              "scheduler); look at `chronicle queue` and try again") from None

    def approve(self, post: PlannedPost, *, by: str) -> PostResult | None:
        """Approve the post's current draft (recording it first if needed); send it at once if
        it is due and its grace window is open."""
        state = self.service.ensure_draft(post, self._open(post), by=by)
        draft = state.review.draft
        if draft is None:
            raise ReviewError(f"{post.key}: no text to approve ({post.problem}); write one with "
                              "`chronicle edit-post`")
        if not state.review.approved:
            self._append(post, state, ev.approved(post, ev.text_hash(draft),
                                                  self.service.clock.now(), by=by))
        return self.service.act_now(post)

    def hold(self, post: PlannedPost, reason: str, *, by: str) -> None:
        state = self._open(post)
        self._append(post, state, ev.held(post, reason, self.service.clock.now(), by=by))

    def edit(self, post: PlannedPost, text: str, *, by: str) -> int:
        """Record `text` as the post's new draft (voiding any approval); returns its length."""
        limit = self.service.limits()[post.channel]
        text = text.strip()
        length = limit.measure(text)
        if not text or length > limit.max_length:
            raise ReviewError(f"{post.key}: the text measures {length} on {post.channel}, which "
                              f"takes at most {limit.max_length}")
        state = self._open(post)
        self._append(post, state, ev.drafted(post, text, self.service.clock.now(), by=by,
                                             edited=True))
        return length
