"""A milestone's audit trail: every recording, revision and retraction, from the log.

Live milestones read it from the history read model; a retraction removes that history, so
a retracted milestone's page reads its stream from the log itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from chronicle.dates import HistoricalDate, InvalidDate
from chronicle.domain import Milestone, MilestoneState, fold, stream_id
from chronicle.projections import HistoryEntry, ReadModels
from chronicle.repository import to_domain
from chronicle.store import SqlEventStore, StoredEvent
from chronicle.store.dialects import dialect_for

LABELS = {"MilestoneRecorded": "Recorded", "MilestoneRevised": "Revised",
          "MilestoneRetracted": "Retracted"}
# The anniversary posts' review and outcome, as stored (chronicle.posting.events): every
# action an editor or the scheduler took on a post of this milestone, with who and when.
POST_LABELS = {"AnniversaryPostDrafted": "Post drafted", "AnniversaryPostApproved": "Post approved",
               "AnniversaryPostHeld": "Post held", "AnniversaryPostClaimed": "Post sending",
               "AnniversaryPostPublished": "Post published", "AnniversaryPostFailed": "Post failed",
               "AnniversaryPostSkipped": "Post skipped"}
LABELS |= POST_LABELS


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field: what it said before (None when recorded) and what it says now."""

    field: str
    value: str
    old: str | None = None

    def text(self) -> str:
        """"title: old → new", as `show` prints it."""
        return f"{self.field}: {self.value}" if self.old is None else (
            f"{self.field}: {self.old} → {self.value}")


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    position: int
    type: str
    recorded_at: dt.datetime
    reason: str | None
    changes: tuple[Change, ...] = ()

    @property
    def label(self) -> str:
        return LABELS.get(self.type, self.type)

    @property
    def kind(self) -> str:
        return self.label.lower().replace(" ", "-")


def value_text(name: str, value: Any) -> str:
    """A changed field's new value as a reader sees it: dates in words, lists joined."""
    if value is None or value in ([], ""):
        return "(none)"
    if name == "date" and isinstance(value, dict):
        try:
            return HistoricalDate.from_json(value).words()
        except InvalidDate:
            return str(value.get("date"))
    if name == "sources" and isinstance(value, list):
        return "; ".join(str(s.get("title", "")) if isinstance(s, dict) else str(s) for s in value)
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def _changes(changes: dict[str, Any], previous: dict[str, Any] | None) -> tuple[Change, ...]:
    """Each field's new value and, when the trail knows it, the value it replaced."""
    return tuple(Change(name, value_text(name, value),
                        None if previous is None else value_text(name, previous.get(name)))
                 for name, value in changes.items())


def from_history(entries: Iterable[HistoryEntry]) -> list[AuditEntry]:
    return [AuditEntry(position=e.position, type=e.type, recorded_at=e.recorded_at.astimezone(
        dt.UTC), reason=e.reason, changes=_changes(e.changes, e.previous if e.changes else None))
        for e in entries]


def from_stream(events: Iterable[StoredEvent]) -> list[AuditEntry]:
    """The trail of a stream read from the log: old values followed from the recording on."""
    trail = []
    state: dict[str, Any] = {}
    for event in events:
        payload = event.payload
        changes = payload.get("changes") if event.type == "MilestoneRevised" else None
        changes = changes if isinstance(changes, dict) else {}
        if event.type == "MilestoneRecorded":
            state = dict(payload)
        trail.append(AuditEntry(position=event.position, type=event.type,
                                recorded_at=event.recorded_at.astimezone(dt.UTC),
                                reason=payload.get("reason"),
                                changes=_changes(changes, dict(state) if changes else None)))
        state.update(changes)
    return trail


def post_entry(event: StoredEvent) -> AuditEntry | None:
    """A post's review or outcome as a trail entry: which post, who acted, and why."""
    if event.type not in POST_LABELS:
        return None
    p = event.payload
    language = str(p["key"]).split("/")[3] if str(p.get("key", "")).count("/") >= 3 else None
    what = f"{p.get('channel')}, {p.get('local_date')}" + (f", {language}" if language else "")
    detail = p.get("reason") or p.get("error")
    text = what + (f", by {p['by']}" if p.get("by") else "") + (
        " (sent late)" if p.get("late") else "") + (f": {detail}" if detail else "")
    return AuditEntry(position=event.position, type=event.type,
                      recorded_at=event.recorded_at.astimezone(dt.UTC), reason=text)


def trail_json(trail: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """The audit trail for scripts and the API: each change with its old and new value."""
    return [{"position": e.position, "type": e.type, "recorded_at": e.recorded_at.isoformat(),
             "reason": e.reason,
             "changes": [{"field": c.field, "old": c.old, "new": c.value} for c in e.changes]}
            for e in trail]


def audit_trail(read_models: ReadModels, milestone_id: str) -> list[AuditEntry]:
    """A live milestone's trail from the history read model; a retracted one's from the log."""
    if read_models.milestone(milestone_id) is not None:
        return from_history(read_models.history(milestone_id))
    return from_stream(LogReader(read_models.engine).stream(milestone_id))


class LogReader:
    """Reads milestone streams over the read models' engine (never closes it)."""

    def __init__(self, engine: Engine) -> None:
        from chronicle.upcasters import UPCASTERS

        self._store = SqlEventStore(engine, dialect_for(engine), UPCASTERS)

    def stream(self, milestone_id: str) -> list[StoredEvent]:
        return self._store.read_stream(stream_id(milestone_id))

    def post_trail(self, streams: Iterable[str]) -> list[AuditEntry]:
        """The review and outcome of the posts in `streams`, in log order."""
        entries = [post_entry(event) for name in streams for event in self._store.read_stream(name)]
        return sorted((e for e in entries if e is not None), key=lambda e: e.position)

    def last_known(self, events: Iterable[StoredEvent]) -> Milestone | None:
        """The milestone as it stood when it was withdrawn."""
        state: MilestoneState = fold(to_domain(e) for e in events)
        return state.milestone
