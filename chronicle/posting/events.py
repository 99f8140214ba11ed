"""Posting outcomes as events in the log: the log is the outbox.

One stream per post (``post-<milestone>-<year>-<channel>``, digests
``post-digest-<date>-<channel>``). Every event carries the post's key, channel, local date
and milestones, so each one reads on its own (the posts projection needs nothing else).

- ``AnniversaryPostClaimed``: a worker took the post (worker id, host, pid, claimed_at,
  text, local date, due_at UTC, attempt). Appended with the stream's current version as the
  expected version: only one worker wins each attempt.
- ``AnniversaryPostPublished``: where it landed (remote id, url, already_published).
- ``AnniversaryPostFailed``: attempt, error, permanent, retry_at.
- ``AnniversaryPostSkipped``: never sent, and why ("too late", "retracted", "too long",
  "no longer due", "not approved").

The editor's review lives in the same stream, so the claim's expected version also fences it:

- ``AnniversaryPostDrafted``: the text this channel will send and its SHA-256, by whom
  (``scheduler`` when composed, the editor when edited: ``edited`` true). A new draft voids
  any earlier approval.
- ``AnniversaryPostApproved``: the editor, and the hash of the exact text approved.
- ``AnniversaryPostHeld``: stopped, by an editor (``hold``) or at the posting time because
  approval was required and missing ("not approved", or "translation not reviewed" for a post
  in a language whose translation nobody reviewed); only an approval lifts it.

Every review event carries ``by`` (the acting user) and ``at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

from chronicle.posting.anniversaries import PlannedPost
from chronicle.store import NewEvent, StoredEvent

CLAIMED = "AnniversaryPostClaimed"
PUBLISHED = "AnniversaryPostPublished"
FAILED = "AnniversaryPostFailed"
SKIPPED = "AnniversaryPostSkipped"
DRAFTED = "AnniversaryPostDrafted"
APPROVED = "AnniversaryPostApproved"
HELD = "AnniversaryPostHeld"
POST_EVENT_TYPES = frozenset({CLAIMED, PUBLISHED, FAILED, SKIPPED, DRAFTED, APPROVED, HELD})
SCHEDULER = "scheduler"
POST_STREAM_PREFIX = "post-"
# Operator alerts (chronicle.posting.alerts): one stream per cause, so each is sent once.
ALERT_RAISED, ALERT_DELIVERED, ALERT_FAILED = (
    "OperatorAlertRaised", "OperatorAlertDelivered", "OperatorAlertFailed")
ALERT_EVENT_TYPES = frozenset({ALERT_RAISED, ALERT_DELIVERED, ALERT_FAILED})
ALERT_STREAM_PREFIX = "alert-"

TOO_LATE = "too late"
RETRACTED = "retracted"
TOO_LONG = "too long"
NO_LONGER_DUE = "no longer due"
NOT_APPROVED = "not approved"
NOT_REVIEWED = "translation not reviewed"


def text_hash(text: str) -> str:
    """What an approval names: the SHA-256 of the exact text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_post_event(stored: StoredEvent) -> bool:
    return stored.stream_id.startswith(POST_STREAM_PREFIX) and stored.type in POST_EVENT_TYPES


@dataclass(frozen=True, slots=True)
class Worker:
    """Who claims: a process, named so a claim left by a crash can be recognised."""

    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def _common(post: PlannedPost) -> dict[str, Any]:
    return {"key": post.key, "channel": post.channel, "local_date": post.local_date.isoformat(),
            "milestone_ids": list(post.milestone_ids)}


def claimed(post: PlannedPost, worker: Worker, now: dt.datetime, text: str, attempt: int,
            *, late_by: str | None = None) -> NewEvent:
    """A claim; ``late_by`` names who sent a post after its grace window (``post --late``)."""
    late = {} if late_by is None else {"late": True, "by": late_by}
    return NewEvent(type=CLAIMED, payload={
        **_common(post), "worker_id": worker.worker_id, "host": worker.host, "pid": worker.pid,
        "claimed_at": _iso(now), "text": text, "due_at": _iso(post.due_at),
        "years": list(post.years), "attempt": attempt, **late,
    })


def published(post: PlannedPost, text: str, now: dt.datetime, *, remote_id: str | None,
              url: str | None, already_published: bool, attempt: int,
              late_by: str | None = None) -> NewEvent:
    late = {} if late_by is None else {"late": True, "by": late_by}
    return NewEvent(type=PUBLISHED, payload={
        **_common(post), "text": text, "published_at": _iso(now), "remote_id": remote_id,
        "url": url, "already_published": already_published, "attempt": attempt, **late,
    })


def drafted(post: PlannedPost, text: str, now: dt.datetime, *, by: str, edited: bool
            ) -> NewEvent:
    return NewEvent(type=DRAFTED, payload={
        **_common(post), "text": text, "text_hash": text_hash(text), "by": by, "at": _iso(now),
        "edited": edited, "due_at": _iso(post.due_at), "years": list(post.years),
    })


def approved(post: PlannedPost, hash_: str, now: dt.datetime, *, by: str) -> NewEvent:
    return NewEvent(type=APPROVED, payload={
        **_common(post), "text_hash": hash_, "by": by, "at": _iso(now),
    })


def held(post: PlannedPost, reason: str, now: dt.datetime, *, by: str) -> NewEvent:
    return NewEvent(type=HELD, payload={
        **_common(post), "reason": reason, "by": by, "at": _iso(now),
    })


def failed(post: PlannedPost, now: dt.datetime, *, attempt: int, error: str, permanent: bool,
           retry_at: dt.datetime | None) -> NewEvent:
    return NewEvent(type=FAILED, payload={
        **_common(post), "failed_at": _iso(now), "attempt": attempt, "error": error,
        "permanent": permanent, "retry_at": _iso(retry_at),
    })


def skipped(post: PlannedPost, now: dt.datetime, reason: str, detail: str | None = None
            ) -> NewEvent:
    return NewEvent(type=SKIPPED, payload={
        **_common(post), "skipped_at": _iso(now), "reason": reason, "detail": detail,
        "text": post.text, "due_at": _iso(post.due_at),
    })


@dataclass(frozen=True, slots=True)
class Review:
    """Where the editor's review of a post stands: the draft, its approval, a hold."""

    draft: str | None = None
    draft_hash: str | None = None
    edited: bool = False
    approved_hash: str | None = None
    held: str | None = None          # the reason, until an approval lifts it
    actions: tuple[dict[str, Any], ...] = ()  # every review event's payload, oldest first

    @property
    def approved(self) -> bool:
        return self.draft_hash is not None and self.approved_hash == self.draft_hash

    def state(self) -> str:
        if self.held is not None:
            return "held"
        if self.approved:
            return "approved"
        return "draft" if self.draft is not None else "scheduled"

    def apply(self, type_: str, payload: dict[str, Any]) -> Review:
        actions = (*self.actions, {"type": type_, **payload})
        if type_ == DRAFTED:
            return Review(draft=payload["text"], draft_hash=payload["text_hash"],
                          edited=bool(payload.get("edited")), approved_hash=None,
                          held=self.held, actions=actions)
        if type_ == APPROVED:
            return Review(draft=self.draft, draft_hash=self.draft_hash, edited=self.edited,
                          approved_hash=payload["text_hash"], held=None, actions=actions)
        return Review(draft=self.draft, draft_hash=self.draft_hash, edited=self.edited,
                      approved_hash=self.approved_hash, held=payload["reason"], actions=actions)


@dataclass(frozen=True, slots=True)
class PostState:
    """One post stream folded: how far the post got, and what the next append expects."""

    version: int = 0
    last_type: str | None = None
    attempts: int = 0
    text: str | None = None          # the text of the first claim: every retry sends it again
    claim: dict[str, Any] | None = None
    retry_at: dt.datetime | None = None
    permanent: bool = False
    review: Review = field(default_factory=Review)
    outcome: dict[str, Any] | None = None  # the last claim/outcome event's payload

    @property
    def finished(self) -> bool:
        """Published, skipped, or failed for good: nothing more will happen."""
        return self.last_type in (PUBLISHED, SKIPPED) or (self.last_type == FAILED
                                                           and self.permanent)

    @property
    def in_flight(self) -> bool:
        """Claimed without an outcome: being published now, or left behind by a crash."""
        return self.last_type == CLAIMED

    def claimed_at(self) -> dt.datetime | None:
        value = self.claim and self.claim.get("claimed_at")
        return dt.datetime.fromisoformat(value) if value else None


REVIEW_TYPES = frozenset({DRAFTED, APPROVED, HELD})


def fold_post(events: list[StoredEvent]) -> PostState:
    state = PostState()
    for stored in events:
        payload = stored.payload
        if stored.type in REVIEW_TYPES:  # the review moves on; the delivery stays where it is
            state = PostState(version=stored.stream_version, last_type=state.last_type,
                              attempts=state.attempts, text=state.text, claim=state.claim,
                              retry_at=state.retry_at, permanent=state.permanent,
                              review=state.review.apply(stored.type, payload),
                              outcome=state.outcome)
            continue
        text, claim, retry_at, permanent = state.text, state.claim, state.retry_at, False
        attempts = state.attempts
        if stored.type == CLAIMED:
            text = text or payload["text"]
            claim = payload
            attempts = max(attempts, int(payload.get("attempt", attempts + 1)))
        elif stored.type == FAILED:
            permanent = bool(payload["permanent"])
            retry_at = dt.datetime.fromisoformat(payload["retry_at"]) if payload.get(
                "retry_at") else None
        state = PostState(version=stored.stream_version, last_type=stored.type,
                          attempts=attempts, text=text, claim=claim, retry_at=retry_at,
                          permanent=permanent, review=state.review, outcome=payload)
    return state
