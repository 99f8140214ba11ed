"""The milestone read models: current milestones, tags, the on-this-day index, history, retractions.

Events are applied a batch at a time: rows touched by the batch are kept in memory and written
once at the end, so a rebuild inserts in bulk instead of row by row.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.dates import HistoricalDate, InvalidDate, date_from_json_cached
from chronicle.domain import (
    MILESTONE_FIELDS,
    Milestone,
    MilestoneEvent,
    MilestoneRecorded,
    MilestoneRetracted,
    MilestoneRevised,
    Source,
    milestone_from_log,
    recorded_from_log,
)
from chronicle.projections import tables as t
from chronicle.projections.base import Projection, insert_rows
from chronicle.repository import is_milestone_event, to_domain
from chronicle.store import StoredEvent
from chronicle.store.hashing import canonical_json
from chronicle.store.statements import ReplayedEvent

CHUNK = 500
LIST_FIELDS = ("tags", "people", "places", "sources")   # tuples in a Milestone, lists in JSON
MILESTONE_KEYS = frozenset(MILESTONE_FIELDS)
CHANGEABLE = frozenset(MILESTONE_FIELDS[1:])            # what a MilestoneRevised may change
REVISION_KEYS = frozenset(("milestone_id", "changes", "reason"))
SOURCE_KEYS = frozenset(f.name for f in fields(Source))
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


@functools.lru_cache(maxsize=65536)
def _date_json(date: HistoricalDate) -> dict[str, Any]:
    return date.to_json()


def canonical_date(payload: Mapping[str, Any]) -> HistoricalDate | None:
    """The date of a milestone payload that is already its milestone's `to_payload()`, or None.

    Such a payload (every one our store wrote) gives its row without building the Milestone:
    every key present and no other, lists where the milestone has tuples, sources with exactly
    a Source's keys, and the date as its own `to_json()`. Anything else returns None and takes
    the decoding path, with its checks.
    """
    if payload.keys() != MILESTONE_KEYS:
        return None
    for name in LIST_FIELDS:
        if type(payload[name]) is not list:
            return None
    for source in payload["sources"]:
        if type(source) is not dict or source.keys() != SOURCE_KEYS:
            return None
    try:
        date = date_from_json_cached(payload["date"])
    except InvalidDate:
        return None
    return date if _date_json(date) == payload["date"] else None


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
    return _row(milestone.id, milestone.title, milestone.date,
                payload if payload is not None else canonical_json(milestone.to_payload()),
                recorded=recorded, updated=updated, revisions=revisions)


def _row(milestone_id: str, title: str, date: HistoricalDate, payload: str, *,
         recorded: dict[str, Any], updated: StoredEvent, revisions: int) -> dict[str, Any]:
    key, precision, year_start, year_end, month_day = _date_columns(date)
    return {
        "id": milestone_id,
        "title": title,
        "sort_key": key,
        "precision": precision,
        "year_start": year_start,
        "year_end": year_end,
        "month_day": month_day,
        "payload": payload,
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
    batch grows with its events, not with the size of the read model. A milestone recorded
    from a canonical payload keeps that payload and is decoded only if the batch revises it.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: dict[str, dict[str, Any] | None] = {}
        # The milestone of each live row: decoded, or its canonical payload (see canonical_date).
        self.milestones: dict[str, Milestone | Mapping[str, Any]] = {}
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

    def _payload(self, milestone_id: str, row: dict[str, Any]) -> Mapping[str, Any]:
        """The live milestone's canonical payload (its `to_payload()`)."""
        found = self.milestones.get(milestone_id)
        if isinstance(found, Milestone):
            return found.to_payload()
        return found if found is not None else json.loads(row["payload"])

    def apply(self, stored: StoredEvent, event: Decoded) -> None:
        """Fold one event, decoded by `_decode`, into the batch."""
        if isinstance(event, _CanonicalRecord):
            self.recorded_canonical(stored, event.date)
        elif isinstance(event, MilestoneRecorded):
            self.recorded(event, stored)
        elif isinstance(event, MilestoneRevised | _Revision):
            self.revised(event, stored)
        else:
            self.retracted_(event, stored)

    def recorded(self, event: MilestoneRecorded, stored: StoredEvent) -> None:
        self.rows[event.milestone_id] = milestone_row(
            event.milestone, recorded=stored, updated=stored, revisions=0,
            payload=payload_text(event.milestone, stored))
        self.milestones[event.milestone_id] = event.milestone
        self._history(stored, event.milestone_id, None, {})

    def recorded_canonical(self, stored: StoredEvent, date: HistoricalDate) -> None:
        """`recorded` of a payload that `canonical_date` accepted: no Milestone is built."""
        payload = stored.payload
        text = stored.payload_json if isinstance(stored, ReplayedEvent) else None
        milestone_id = payload["id"]
        self.rows[milestone_id] = _row(
            milestone_id, payload["title"], date,
            text if text is not None else canonical_json(payload),
            recorded={"recorded_at": stored.recorded_at, "recorded_position": stored.position},
            updated=stored, revisions=0)
        self.milestones[milestone_id] = payload
        self._history(stored, milestone_id, None, {})

    def revised(self, event: MilestoneRevised | _Revision, stored: StoredEvent) -> None:
        """`MilestoneState.apply` of a revision, on the replay path (see `milestone_from_log`).

        The row is looked up by the event's milestone id, so the state's stream checks hold;
        the revised payload stays a payload when it is canonical.
        """
        milestone_id = event.milestone_id
        row = self.current(milestone_id)
        after = self._payload(milestone_id, row) | event.changes
        date = canonical_date(after)
        revisions = row["revisions"] + 1
        if date is not None:
            self.rows[milestone_id] = _row(milestone_id, after["title"], date,
                                           canonical_json(after), recorded=row,
                                           updated=stored, revisions=revisions)
            self.milestones[milestone_id] = after
        else:
            milestone = milestone_from_log(after)
            self.rows[milestone_id] = milestone_row(milestone, recorded=row, updated=stored,
                                                    revisions=revisions)
            self.milestones[milestone_id] = milestone
        self.replaced.add(milestone_id)
        self._history(stored, milestone_id, event.reason, event.changes)

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

    def _tags(self, milestone_id: str) -> Sequence[str]:
        found = self.milestones[milestone_id]
        return found.tags if isinstance(found, Milestone) else found["tags"]

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
        insert_rows(conn, t.milestones, live)
        insert_rows(conn, t.milestone_tags, [
            {"milestone_id": row["id"], "tag": tag, "recorded_position": row["recorded_position"]}
            for row in live for tag in self._tags(row["id"])])
        insert_rows(conn, t.on_this_day, [{"month_day": row["month_day"], "milestone_id": row["id"]}
                                      for row in live if row["month_day"]])
        insert_rows(conn, t.history, [h for entries in self.history.values() for h in entries])
        insert_rows(conn, t.retracted, self.retracted)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


class _CanonicalRecord(NamedTuple):
    """A MilestoneRecorded whose payload is its milestone's canonical payload (see below)."""

    milestone_id: str
    date: HistoricalDate


class _Revision(NamedTuple):
    """A MilestoneRevised read without building the domain event (same fields)."""

    milestone_id: str
    changes: dict[str, Any]
    reason: str


Decoded = MilestoneEvent | _CanonicalRecord | _Revision


def _decode(stored: StoredEvent) -> Decoded:
    """The event as the batch applies it: current-version payloads take trusted paths.

    A canonical MilestoneRecorded (see `canonical_date`) and a well-formed MilestoneRevised
    are not decoded into domain events; anything else is, with the domain's checks.
    """
    payload = stored.payload
    if stored.type == MilestoneRecorded.type:
        if stored.schema_version == MilestoneRecorded.schema_version:
            date = canonical_date(payload)
            return (_CanonicalRecord(payload["id"], date) if date is not None
                    else recorded_from_log(payload))
    elif (stored.type == MilestoneRevised.type
          and stored.schema_version == MilestoneRevised.schema_version
          and payload.keys() == REVISION_KEYS):
        changes = payload["changes"]
        if type(changes) is dict and changes and changes.keys() <= CHANGEABLE:
            return _Revision(payload["milestone_id"], changes, payload["reason"])
    return to_domain(stored)


class MilestonesProjection(Projection):
    name = "milestones"
    version = 1

    def tables(self) -> Sequence[sa.Table]:
        return (t.milestones, t.milestone_tags, t.on_this_day, t.history, t.retracted)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        batch = _Batch(conn)
        decoded = [(stored, _decode(stored)) for stored in events if is_milestone_event(stored)]
        recorded_here = {event.milestone_id for _, event in decoded
                         if isinstance(event, _CanonicalRecord | MilestoneRecorded)}
        batch.prefetch(event.milestone_id for _, event in decoded
                       if event.milestone_id not in recorded_here)
        for stored, event in decoded:
            batch.apply(stored, event)
        batch.flush()
