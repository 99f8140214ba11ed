"""What changed between two positions of the log, as the feeds and pages need to know it.

The read models say what things look like now but not what moved (rm_milestones has no index
on updated_position); the log does, by primary key. A window larger than `limit` events is
answered with None: re-reading everything is then cheaper than following it event by event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from chronicle.domain import MilestoneRetracted, MilestoneRevised
from chronicle.repository import MILESTONE_STREAM_PREFIX
from chronicle.store import SqlEventStore
from chronicle.store.dialects import dialect_for

WINDOW_LIMIT = 2_000


@dataclass(slots=True)
class Changes:
    """The events of one window (after, upto], summarised."""

    milestone_ids: set[str] = field(default_factory=set)   # recorded, revised or retracted
    revised_at: list[dt.datetime] = field(default_factory=list)  # each revision's recorded time
    retracted: bool = False
    other: bool = False             # events of other streams (anniversary posts)


class LogChanges:
    """Reads windows of the log over the read models' engine (never closes it)."""

    def __init__(self, engine: Engine, limit: int = WINDOW_LIMIT) -> None:
        from chronicle.upcasters import UPCASTERS

        self._store = SqlEventStore(engine, dialect_for(engine), UPCASTERS)
        self.limit = limit

    def link(self, position: int) -> str | None:
        """`POSITION:HASH` of the row at `position`, as `chronicle head` prints it."""
        found = self._store.hash_at(position) if position > 0 else None
        return None if found is None else f"{position}:{found}"

    def between(self, after: int, upto: int) -> Changes | None:
        """The changes of positions after..upto, or None when there are more than `limit`."""
        if upto - after > self.limit:
            return None
        changes = Changes()
        events = self._store.read_all(after=after, limit=self.limit + 1)
        window = [event for event in events if event.position <= upto]
        if len(window) > self.limit or (len(events) > self.limit
                                        and events[-1].position < upto):
            return None
        for event in window:
            if not event.stream_id.startswith(MILESTONE_STREAM_PREFIX):
                changes.other = True
                continue
            changes.milestone_ids.add(event.stream_id.removeprefix(MILESTONE_STREAM_PREFIX))
            if event.type == MilestoneRevised.type:
                changes.revised_at.append(event.recorded_at.astimezone(dt.UTC))
            elif event.type == MilestoneRetracted.type:
                changes.retracted = True
        return changes
