"""The milestone read models: current milestones, tags, the on-this-day index, history, retractions.

Events are applied a batch at a time: rows touched by the batch are kept in memory and written
once at the end, so a rebuild inserts in bulk instead of row by row.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.dates import HistoricalDate
from chronicle.domain import (
    Milestone,
    MilestoneEvent,
    MilestoneRecorded,
    MilestoneRetracted,
    MilestoneRevised,
    MilestoneState,
    milestone_from_log,
    recorded_from_log,
)
from chronicle.projections import tables as t
from chronicle.projections.base import Projection
from chronicle.repository import is_milestone_event, to_domain
from chronicle.store import StoredEvent
from chronicle.store.hashing import canonical_json
from chronicle.store.sql import ReplayedEvent

CHUNK = 500
DELETE_DAY = t.on_this_day.delete().where(
    t.on_this_day.c.month_day == sa.bindparam("day"),
    t.on_this_day.c.milestone_id == sa.bindparam("mid"))


def sort_key(date: HistoricalDate) -> str:
    """A text that sorts like the historical dates do (4-digit years keep ISO text ordered)."""
    first, rank, last, end_rank, circa = date.sort_key()
    return f"{first.isoformat()}|{rank}|{last.isoformat()}|{end_rank + 1}|{int(circa)}"


def month_day_text(date: HistoricalDate) -> str | None:
    md = date.month_day()
    return f"{md[0]:02d}-{md[1]:02d}" if md else None


@functools.lru_cache(maxsize=65536)
def _date_columns(date: HistoricalDate) -> tuple[str, str, int, int, str | None]:
    """sort_key, precision, year_start, year_end, month_day: computed once per distinct date."""
    return (sort_key(date), date.precision.value, date.first_day().year,
            date.last_day().year, month_day_text(date))


def payload_text(milestone: Milestone, stored: StoredEvent | None = None) -> str:
    """The milestone's canonical JSON, reusing the log's text when it holds the same payload.

    The store writes payloads as canonical JSON, so a MilestoneRecorded whose payload equals
    the milestone's own payload already carries the exact text this row needs.
    """
    payload = milestone.to_payload()
    if (isinstance(stored, ReplayedEvent) and stored.payload_json is not None
            and stored.type == MilestoneRecorded.type and stored.payload == payload):
        return stored.payload_json
    return canonical_json(payload)


def milestone_row(milestone: Milestone, *, recorded: StoredEvent | dict[str, Any],
                  updated: StoredEvent, revisions: int, payload: str | None = None
                  ) -> dict[str, Any]:
    if isinstance(recorded, StoredEvent):
        recorded = {"recorded_at": recorded.recorded_at, "recorded_position": recorded.position}
    key, precision, year_start, year_end, month_day = _date_columns(milestone.date)
    return {
        "id": milestone.id,
        "title": milestone.title,
        "sort_key": key,
        "precision": precision,
        "year_start": year_start,
        "year_end": year_end,
        "month_day": month_day,
        "payload": payload if payload is not None else canonical_json(milestone.to_payload()),
        "recorded_at": recorded["recorded_at"],
        "recorded_position": recorded["recorded_position"],
        "updated_at": updated.recorded_at,
        "updated_position": updated.position,
        "revisions": revisions,
    }


class _Batch:
    """Rows touched by one batch of events, written in bulk by `flush`.

    Milestones stay decoded while the batch runs (a row is parsed from the database at most
    once, and the rows a batch revises or retracts are fetched in one query), so the cost of a
    batch grows with its events, not with the size of the read model.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: dict[str, dict[str, Any] | None] = {}
        self.milestones: dict[str, Milestone] = {}  # the decoded milestone of each live row
        self.replaced: set[str] = set()          # ids whose stored rows must be deleted first
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.retracted: list[dict[str, Any]] = []
        self.stored_days: dict[str, str] = {}    # the on-this-day key of each fetched row

    def prefetch(self, milestone_ids: Iterable[str]) -> None:
        """Load the stored rows of milestones this batch changes but did not record."""
        wanted = sorted({i for i in milestone_ids if i not in self.rows})
        for ids in _chunks(wanted):
            for found in self.conn.execute(sa.select(t.milestones)
                                           .where(t.milestones.c.id.in_(ids))):
                self.rows[found.id] = dict(found._mapping)
                if found.month_day is not None:
                    self.stored_days[found.id] = found.month_day

    def current(self, milestone_id: str) -> dict[str, Any]:
        if milestone_id not in self.rows:
            self.prefetch([milestone_id])
        row = self.rows.get(milestone_id)
        if row is None:
            raise LookupError(f"milestone {milestone_id!r} is not in the read model")
        return row

    def _milestone(self, milestone_id: str, row: dict[str, Any]) -> Milestone:
        found = self.milestones.get(milestone_id)
        return found if found is not None else milestone_from_log(json.loads(row["payload"]))

    def recorded(self, event: MilestoneRecorded, stored: StoredEvent) -> None:
        self.rows[event.milestone_id] = milestone_row(
            event.milestone, recorded=stored, updated=stored, revisions=0,
            payload=payload_text(event.milestone, stored))
        self.milestones[event.milestone_id] = event.milestone
        self._history(stored, event.milestone_id, None, {})

    def revised(self, event: MilestoneRevised, stored: StoredEvent) -> None:
        row = self.current(event.milestone_id)
        before = self._milestone(event.milestone_id, row)
        after = _revise(before, event)
        self.rows[event.milestone_id] = milestone_row(
            after, recorded=row, updated=stored, revisions=row["revisions"] + 1)
        self.milestones[event.milestone_id] = after
        self.replaced.add(event.milestone_id)
        self._history(stored, event.milestone_id, event.reason, event.changes)

    def retracted_(self, event: MilestoneRetracted, stored: StoredEvent) -> None:
        row = self.current(event.milestone_id)
        self.rows[event.milestone_id] = None
        self.milestones.pop(event.milestone_id, None)
        self.replaced.add(event.milestone_id)
        self.history.pop(event.milestone_id, None)
        self.retracted.append({"id": event.milestone_id, "title": row["title"],
                               "reason": event.reason, "retracted_at": stored.recorded_at,
                               "position": stored.position})

    def _history(self, stored: StoredEvent, milestone_id: str, reason: str | None,
                 changes: dict[str, Any]) -> None:
        self.history.setdefault(milestone_id, []).append(
            {"milestone_id": milestone_id, "position": stored.position, "type": stored.type,
             "recorded_at": stored.recorded_at, "reason": reason,
             "changes": canonical_json(changes) if changes else "{}"})

    def flush(self) -> None:
        conn = self.conn
        gone = [i for i in self.replaced if self.rows.get(i) is None]
        for ids in _chunks(sorted(self.replaced)):
            conn.execute(t.milestones.delete().where(t.milestones.c.id.in_(ids)))
            conn.execute(t.milestone_tags.delete().where(t.milestone_tags.c.milestone_id.in_(ids)))
        # By primary key: the index has no milestone_id prefix, an IN (...) would scan it.
        # Only fetched rows can have an entry; rows recorded in this batch are not stored yet.
        days = [{"day": self.stored_days[i], "mid": i}
                for i in sorted(self.replaced) if i in self.stored_days]
        if days:
            conn.execute(DELETE_DAY, days)
        for ids in _chunks(sorted(gone)):
            conn.execute(t.history.delete().where(t.history.c.milestone_id.in_(ids)))
        live = [row for row in self.rows.values() if row is not None]
        _insert(conn, t.milestones, live)
        _insert(conn, t.milestone_tags, [
            {"milestone_id": row["id"], "tag": tag, "recorded_position": row["recorded_position"]}
            for row in live for tag in self.milestones[row["id"]].tags])
        _insert(conn, t.on_this_day, [{"month_day": row["month_day"], "milestone_id": row["id"]}
                                      for row in live if row["month_day"]])
        _insert(conn, t.history, [h for entries in self.history.values() for h in entries])
        _insert(conn, t.retracted, self.retracted)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _revise(before: Milestone, event: MilestoneRevised) -> Milestone:
    """`MilestoneState.apply` of a revision, on the replay path (see `milestone_from_log`)."""
    MilestoneState(before, None, 1)._current(event)   # the same stream checks
    return milestone_from_log(before.to_payload() | event.changes)


class _DriverInsert:
    """A table's INSERT compiled once per dialect and run on the driver's executemany.

    SQLAlchemy would build every row's parameters on each call; here the statement and the
    type conversions come from SQLAlchemy once, and a conversion (recorded times, shared by
    whole appends) runs once per distinct value of a call.
    """

    def __init__(self, table: sa.Table, dialect: sa.engine.Dialect) -> None:
        compiled = table.insert().compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = compiled.positional
        self.keys = list(compiled.positiontup or []) if self.positional else []
        names = [c.key for c in table.columns]
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for column in table.columns:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[column.key] = process
        assert not self.positional or sorted(self.keys) == sorted(names)

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        keys = self.keys if self.positional else list(rows[0])
        columns = [self._column(key, rows) for key in keys]
        params = list(zip(*columns, strict=True))
        if self.positional:
            conn.exec_driver_sql(self.sql, params)
        else:
            conn.exec_driver_sql(self.sql, [dict(zip(keys, p, strict=True)) for p in params])

    def _column(self, key: str, rows: list[dict[str, Any]]) -> list[Any]:
        values = [row[key] for row in rows]
        process = self.processors.get(key)
        if process is None:
            return values
        memo: dict[Any, Any] = {}
        converted = []
        for value in values:
            try:
                found = memo.get(value, memo)
            except TypeError:  # unhashable: convert it every time
                found = process(value)
            else:
                if found is memo:
                    found = memo[value] = process(value)
            converted.append(found)
        return converted


_PLANS: dict[tuple[str, str, str, str], _DriverInsert] = {}


def _insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = conn.dialect
    key = (table.name, dialect.name, dialect.driver, str(dialect.paramstyle))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _DriverInsert(table, dialect)
    plan.run(conn, rows)


def _decode(stored: StoredEvent) -> MilestoneEvent:
    """The domain event; a current-version MilestoneRecorded takes the trusted replay path."""
    if (stored.type == MilestoneRecorded.type
            and stored.schema_version == MilestoneRecorded.schema_version):
        return recorded_from_log(stored.payload)
    return to_domain(stored)


class MilestonesProjection(Projection):
    name = "milestones"
    version = 1

    def tables(self) -> Sequence[sa.Table]:
        return (t.milestones, t.milestone_tags, t.on_this_day, t.history, t.retracted)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        batch = _Batch(conn)
        decoded = [(_decode(stored), stored) for stored in events if is_milestone_event(stored)]
        recorded_here = {e.milestone_id for e, _ in decoded if isinstance(e, MilestoneRecorded)}
        batch.prefetch(e.milestone_id for e, _ in decoded if e.milestone_id not in recorded_here)
        for event, stored in decoded:
            if isinstance(event, MilestoneRecorded):
                batch.recorded(event, stored)
            elif isinstance(event, MilestoneRevised):
                batch.revised(event, stored)
            else:
                batch.retracted_(event, stored)
        batch.flush()
