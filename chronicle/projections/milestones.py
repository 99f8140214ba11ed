"""The milestone read models: current milestones, tags, the on-this-day index, history, retractions.

Events are applied a batch at a time: rows touched by the batch are kept in memory and written
once at the end, so a rebuild inserts in bulk instead of row by row. Rows are the driver's
tuples (see milestone_rows).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.dates import HistoricalDate
from chronicle.domain import (
    MILESTONE_FIELDS,
    Milestone,
    MilestoneEvent,
    MilestoneRecorded,
    MilestoneRetracted,
    MilestoneRevised,
    milestone_from_log,
    recorded_from_log,
)
from chronicle.projections import tables as t
from chronicle.projections.base import (
    PAYLOADS_AFTER,
    Projection,
    delete_in,
    in_bulk_load,
    insert_tuples,
    note,
    select_in,
)
from chronicle.projections.milestone_rows import (
    ID,
    MONTH_DAY,
    PAYLOAD,
    RECORDED_AT,
    RECORDED_POSITION,
    REVISIONS,
    TITLE,
    DateColumns,
    Row,
    StoredRows,
    TimeBinder,
    canonical_columns,
    canonical_date,
    date_columns,
    milestone_tuple,
    month_day_text,
    payload_text,
    sort_key,
)
from chronicle.repository import is_milestone_event, to_domain
from chronicle.store import StoredEvent
from chronicle.store.hashing import canonical_json
from chronicle.store.jsondecode import loads as loads_json
from chronicle.store.statements import ReplayedEvent

__all__ = ["MilestonesProjection", "canonical_date", "month_day_text", "payload_text",
           "sort_key"]

CHANGEABLE = frozenset(MILESTONE_FIELDS[1:])            # what a MilestoneRevised may change
REVISION_KEYS = frozenset(("milestone_id", "changes", "reason"))
_POSITION = operator.itemgetter(1)   # of a rm_history row
DELETE_DAY = t.on_this_day.delete().where(
    t.on_this_day.c.month_day == sa.bindparam("day"),
    t.on_this_day.c.milestone_id == sa.bindparam("mid"))


class _Batch:
    """Rows touched by one batch of events, written in bulk by `flush`.

    Milestones stay decoded while the batch runs (a row is parsed from the database at most
    once, and the rows a batch revises or retracts are fetched in one query), so the cost of a
    batch grows with its events, not with the size of the read model. A milestone recorded
    from a canonical payload keeps that payload and is decoded only if the batch revises it.
    Rows are rm_milestones tuples (see milestone_rows) with their times already bound.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.time = TimeBinder(conn.dialect)
        self.stored = StoredRows(conn.dialect, self.time)
        self.rows: dict[str, Row | None] = {}
        # The milestone of each live row: decoded, or its canonical payload (see canonical_date).
        self.milestones: dict[str, Milestone | Mapping[str, Any]] = {}
        self.replaced: set[str] = set()          # ids whose stored rows must be deleted first
        self.history: dict[str, list[Row]] = {}
        self.retracted: list[Row] = []
        self.stored_days: dict[str, str] = {}    # the on-this-day key of each fetched row
        self.rows_fetched: set[str] = set()      # ids whose rows are stored (fetched here)

    def prefetch(self, milestone_ids: Iterable[str]) -> None:
        """Load the stored rows of milestones this batch changes but did not record."""
        wanted = {i for i in milestone_ids if i not in self.rows}
        for fetched in select_in(self.conn, t.milestones.columns, t.milestones.c.id, wanted):
            row = self.stored(fetched)
            self.rows[row[ID]] = row
            self.rows_fetched.add(row[ID])
            if row[MONTH_DAY] is not None:
                self.stored_days[row[ID]] = row[MONTH_DAY]

    def current(self, milestone_id: str) -> Row:
        if milestone_id not in self.rows:
            self.prefetch([milestone_id])
        row = self.rows.get(milestone_id)
        if row is None:
            raise LookupError(f"milestone {milestone_id!r} is not in the read model")
        return row

    def payload_after(self, milestone_id: str) -> Mapping[str, Any] | None:
        """The payload of a milestone this batch touched as its row now stands (None:
        retracted); KeyError for one it did not touch. What the search projection reads."""
        row = self.rows[milestone_id]
        return None if row is None else self._payload(milestone_id, row)

    def _payload(self, milestone_id: str, row: Row) -> Mapping[str, Any]:
        """The live milestone's canonical payload (its `to_payload()`)."""
        found = self.milestones.get(milestone_id)
        if isinstance(found, Milestone):
            return found.to_payload()
        return found if found is not None else loads_json(row[PAYLOAD])

    def apply(self, stored: StoredEvent, event: Decoded) -> None:
        """Fold one event, decoded by `_decode`, into the batch."""
        if isinstance(event, _CanonicalRecord):
            self.recorded_canonical(stored, event.columns)
        elif isinstance(event, MilestoneRecorded):
            self.recorded(event, stored)
        elif isinstance(event, MilestoneRevised | _Revision):
            self.revised(event, stored)
        else:
            self.retracted_(event, stored)

    def recorded(self, event: MilestoneRecorded, stored: StoredEvent) -> None:
        milestone = event.milestone
        when = self.time(stored.recorded_at)
        self.rows[milestone.id] = milestone_tuple(
            milestone.id, milestone.title, date_columns(milestone.date),
            payload_text(milestone, stored), when, stored.position, when, stored.position, 0)
        self.milestones[milestone.id] = milestone
        self._history(stored, milestone.id, None, {}, {})

    def recorded_canonical(self, stored: StoredEvent, columns: DateColumns) -> None:
        """`recorded` of a payload that `canonical_date` accepted: no Milestone is built."""
        payload = stored.payload
        text = stored.payload_json if isinstance(stored, ReplayedEvent) else None
        milestone_id = payload["id"]
        when = self.time(stored.recorded_at)
        self.rows[milestone_id] = milestone_tuple(
            milestone_id, payload["title"], columns,
            text if text is not None else canonical_json(payload),
            when, stored.position, when, stored.position, 0)
        self.milestones[milestone_id] = payload
        self.history.setdefault(milestone_id, []).append(
            (milestone_id, stored.position, stored.type, when, None, "{}", "{}"))

    def revised(self, event: MilestoneRevised | _Revision, stored: StoredEvent) -> None:
        """`MilestoneState.apply` of a revision, on the replay path (see `milestone_from_log`).

        The row is looked up by the event's milestone id, so the state's stream checks hold;
        the revised payload stays a payload when it is canonical.
        """
        milestone_id = event.milestone_id
        row = self.current(milestone_id)
        before = dict(self._payload(milestone_id, row))
        after = {**before, **event.changes}
        found = canonical_columns(after)
        if found is not None:
            title, columns, text = after["title"], found[1], canonical_json(after)
            self.milestones[milestone_id] = after
        else:
            milestone = milestone_from_log(after)
            title, columns = milestone.title, date_columns(milestone.date)
            text = canonical_json(milestone.to_payload())
            self.milestones[milestone_id] = milestone
        self.rows[milestone_id] = milestone_tuple(
            milestone_id, title, columns, text, row[RECORDED_AT], row[RECORDED_POSITION],
            self.time(stored.recorded_at), stored.position, row[REVISIONS] + 1)
        self.replaced.add(milestone_id)
        self._history(stored, milestone_id, event.reason, event.changes,
                      {name: before.get(name) for name in event.changes})

    def retracted_(self, event: MilestoneRetracted, stored: StoredEvent) -> None:
        row = self.current(event.milestone_id)
        self.rows[event.milestone_id] = None
        self.milestones.pop(event.milestone_id, None)
        self.replaced.add(event.milestone_id)
        self.history.pop(event.milestone_id, None)
        self.retracted.append((event.milestone_id, row[TITLE], event.reason,
                               self.time(stored.recorded_at), stored.position,
                               row[RECORDED_AT], row[RECORDED_POSITION]))

    def _history(self, stored: StoredEvent, milestone_id: str, reason: str | None,
                 changes: dict[str, Any], previous: dict[str, Any]) -> None:
        """One audit-trail row: the new values and, for a revision, the values they replaced."""
        self.history.setdefault(milestone_id, []).append(
            (milestone_id, stored.position, stored.type, self.time(stored.recorded_at), reason,
             canonical_json(changes) if changes else "{}",
             canonical_json(previous) if previous else "{}"))

    def _tags(self, milestone_id: str) -> Sequence[str]:
        found = self.milestones[milestone_id]
        return found.tags if isinstance(found, Milestone) else found["tags"]

    def flush(self) -> None:
        conn = self.conn
        # Rows recorded in this batch are not stored yet: only fetched ones have rows to delete.
        stored = self.replaced & self.rows_fetched
        gone = [i for i in stored if self.rows.get(i) is None]
        # A rebuild's batches leave tags and days to restore_rows (it dropped the history
        # index, which restore_rows finds missing); a catch-up's write them.
        bulk = in_bulk_load(conn)
        delete_in(conn, t.milestones.c.id, stored)
        if not bulk:
            self._flush_derived(stored)
        if gone and _history_indexed(conn):   # else restore_index deletes them
            delete_in(conn, t.history.c.milestone_id, gone)
        # In key order: each B-tree then takes the batch's rows in one sweep over its pages
        # instead of at random places (the rows are the same, only their order of insertion).
        live = sorted(row for row in self.rows.values() if row is not None)
        insert_tuples(conn, t.milestones, live)
        if not bulk:
            self._insert_derived(live)
        insert_tuples(conn, t.history, sorted((h for rows in self.history.values()
                                               for h in rows), key=_POSITION))
        insert_tuples(conn, t.retracted, self.retracted)

    def _flush_derived(self, stored: set[str]) -> None:
        """Delete the tags and days of the stored rows this batch replaces."""
        delete_in(self.conn, t.milestone_tags.c.milestone_id, stored)
        # By primary key: the index has no milestone_id prefix, an IN (...) would scan it.
        days = [{"day": self.stored_days[i], "mid": i}
                for i in sorted(stored) if i in self.stored_days]
        if days:
            self.conn.execute(DELETE_DAY, days)

    def _insert_derived(self, live: list[Row]) -> None:
        """The tags and days of the batch's live rows (`live` in key order)."""
        tags = self._tags
        insert_tuples(self.conn, t.milestone_tags, [
            (row[ID], tag, row[RECORDED_POSITION]) for row in live for tag in tags(row[ID])])
        insert_tuples(self.conn, t.on_this_day, sorted((row[MONTH_DAY], row[ID]) for row in live
                                                       if row[MONTH_DAY]))


def _history_indexed(conn: Connection) -> bool:
    """Whether rm_history's index by milestone is there: a rebuild drops it until its end,
    and a delete by milestone would read the whole table for every batch meanwhile."""
    return sa.inspect(conn).has_index(t.history.name, t.HISTORY_INDEX)


def _delete_retracted_history(conn: Connection) -> None:
    """Delete the history rows a retraction left, those of a retracted milestone before its
    retraction (a batch deletes them itself unless the index is missing, see flush)."""
    h, r = t.history, t.retracted
    retraction = sa.select(r.c.position).where(r.c.id == h.c.milestone_id).scalar_subquery()
    # Driven by rm_retracted (a few per cent of the milestones) through the history's index.
    conn.execute(h.delete().where(h.c.milestone_id.in_(sa.select(r.c.id)),
                                  h.c.position < retraction))


# rm_milestone_tags and rm_on_this_day as a batch writes them, from every rm_milestones row:
# its payload's tags (a list of strings in every stored payload), its month-day if any. In
# key order (the tags by milestone only: the index gives that order without a sort, and a
# milestone's few tags land at the tree's end whatever their order).
_TAGS_FROM_PAYLOADS = {
    "sqlite": "INSERT INTO rm_milestone_tags (milestone_id, tag, recorded_position) "
              "SELECT m.id, j.value, m.recorded_position FROM rm_milestones AS m, "
              "json_each(m.payload, '$.tags') AS j ORDER BY m.id",
    "postgresql": "INSERT INTO rm_milestone_tags (milestone_id, tag, recorded_position) "
                  "SELECT m.id, j.value, m.recorded_position FROM rm_milestones AS m "
                  "CROSS JOIN LATERAL json_array_elements_text(m.payload::json -> 'tags') "
                  "AS j(value)",
}
_DAYS_FROM_ROWS = ("INSERT INTO rm_on_this_day (month_day, milestone_id) SELECT month_day, id "
                   "FROM rm_milestones WHERE month_day <> '' ORDER BY month_day, id")


def _derive_tags_and_days(conn: Connection) -> None:
    """Rewrite rm_milestone_tags and rm_on_this_day from rm_milestones, in key order: what
    a rebuild's batches left out (see flush), one pass over the final rows instead of every
    batch inserting and deleting them among the others."""
    conn.execute(t.milestone_tags.delete())
    conn.execute(t.on_this_day.delete())
    conn.exec_driver_sql(_TAGS_FROM_PAYLOADS[conn.dialect.name])
    conn.exec_driver_sql(_DAYS_FROM_ROWS)


class _CanonicalRecord(NamedTuple):
    """A MilestoneRecorded whose payload is its milestone's canonical payload (see below)."""

    milestone_id: str
    date: HistoricalDate
    columns: DateColumns


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
            found = canonical_columns(payload)
            return (_CanonicalRecord(payload["id"], *found) if found is not None
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
    version = 4   # 2: history keeps the values a revision replaced; retractions their slot
    #               3: tags, on-this-day and history are WITHOUT ROWID tables on SQLite
    #               4: history keyed by position (see tables.HistoryRow)

    def tables(self) -> Sequence[sa.Table]:
        return (t.milestones, t.milestone_tags, t.on_this_day, t.history, t.retracted)

    def restore_rows(self, conn: Connection) -> None:
        """Tags and days, when a rebuild's batches may have left them out: the history index
        is missing from a rebuild's start until this rebuilds it (rewriting rows a catch-up
        wrote meanwhile changes nothing)."""
        if not _history_indexed(conn):
            _derive_tags_and_days(conn)

    def restore_index(self, conn: Connection) -> None:
        """After the deferred indexes are built (a rebuild's end, `Projector.prepare`): the
        history deletes that a rebuild's batches leave to this (see flush)."""
        _delete_retracted_history(conn)

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
        note(conn, events, PAYLOADS_AFTER, batch.payload_after)
