"""The search read model: one row per live milestone, the text full-text search reads.

Titles are kept apart (they weigh more); the body holds the summary, people, places, tags and
the quoted passages (table rows as text). Each batch rewrites the rows of the milestones it
touched: from a recording's payload, or from rm_milestones, which the milestones projection
has brought to the same batch (it runs first, in the same transaction); a retracted milestone
leaves the index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.domain import MilestoneRecorded
from chronicle.projections import fulltext
from chronicle.projections import tables as t
from chronicle.projections.base import (
    PAYLOADS_AFTER,
    Projection,
    delete_in,
    insert_tuples,
    noted,
    select_in,
)
from chronicle.quotes import readable_quote
from chronicle.repository import MILESTONE_STREAM_PREFIX
from chronicle.store import StoredEvent
from chronicle.store.jsondecode import loads as loads_json
from chronicle.store.jsondecode import loads_for_text


def search_body(milestone: Mapping[str, Any]) -> str:
    """Everything but the title of a milestone's payload, its parts separated by " · "
    (snippets show them). A payload, not a Milestone: a rebuild builds no domain objects."""
    parts = [milestone.get("summary") or "", *milestone.get("people", ()),
             *milestone.get("places", ()), *milestone.get("tags", ())]
    for source in milestone.get("sources", ()):
        quote = source["quote"]
        # Only a text with a "|" can be a table (most quotes are prose): see readable_quote.
        parts.append(readable_quote(quote) if "|" in quote else quote)
    return " · ".join(filter(None, parts))


class SearchProjection(Projection):
    name = "search"
    version = 1       # the index's DDL is fulltext's (created and dropped with rm_search)

    def tables(self) -> Sequence[sa.Table]:
        return (t.search,)

    def suspend_index(self, conn: Connection) -> None:
        fulltext.suspend(conn)

    def restore_index(self, conn: Connection) -> None:
        """A rebuild's batches left rm_search to this (see apply): its rows, then the index."""
        if fulltext.suspended(conn):
            _derive_rows(conn)
        fulltext.restore(conn)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Rows of the milestones the batch touched: from the payload of a recording that is
        their last event here (the usual rebuild case), else as rm_milestones has them: as the
        milestones projection noted them when it applied the same events just before (see
        base.note), or read back from the table.

        A stream whose first event here is its first event ever has no row yet: only the
        others' rows are deleted (a rebuild's batches are mostly new streams). While a
        rebuild has suspended SQLite's index, nothing: `restore_index` writes every row once
        from the final rm_milestones instead of each batch rewriting revised ones."""
        if fulltext.suspended(conn):
            return
        latest: dict[str, StoredEvent] = {}
        existing: set[str] = set()
        for event in events:
            if event.stream_id.startswith(MILESTONE_STREAM_PREFIX):
                milestone_id = event.stream_id.removeprefix(MILESTONE_STREAM_PREFIX)
                if milestone_id not in latest and event.stream_version > 1:
                    existing.add(milestone_id)
                latest[milestone_id] = event
        if not latest:
            return
        delete_in(conn, t.search.c.milestone_id, existing)
        after = fulltext.last_row(conn)   # after the deletes, which may remove the last row
        payloads: dict[str, Mapping[str, Any]] = {
            mid: event.payload for mid, event in latest.items() if _is_current_record(event)}
        stored = [mid for mid in latest if mid not in payloads]
        payload_after = noted(conn, events, PAYLOADS_AFTER)
        if payload_after is not None:   # the milestones projection's, as its rows now stand
            stored = _known_payloads(payload_after, stored, payloads)
        payloads.update((mid, loads_json(text)) for mid, text in
                        select_in(conn, (t.milestones.c.id, t.milestones.c.payload),
                                  t.milestones.c.id, stored))
        rows = [(mid, payloads[mid]["title"], search_body(payloads[mid]))
                for mid in sorted(latest) if mid in payloads]
        insert_tuples(conn, t.search, rows)
        if after is not None:
            fulltext.index(conn, after)


_BODY_FUNCTION = "chronicle_search_body"
_ROWS_FROM_MILESTONES = (f"INSERT INTO rm_search (milestone_id, title, body) SELECT id, title, "
                         f"{_BODY_FUNCTION}(payload) FROM rm_milestones ORDER BY id")


def _body_of(payload: str) -> str:
    """search_body of a stored payload text (SQLite calls it for every row, see below): the
    body is made of the payload's strings only."""
    return search_body(loads_for_text(payload))


def _derive_rows(conn: Connection) -> None:
    """Rewrite rm_search from rm_milestones (SQLite): a row per live milestone, its title and
    its payload's body, in one statement in key order."""
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.create_function(_BODY_FUNCTION, 1, _body_of, deterministic=True)
    conn.execute(t.search.delete())
    conn.exec_driver_sql(_ROWS_FROM_MILESTONES)


def _known_payloads(payload_after: Callable[[str], Mapping[str, Any] | None],
                    wanted: list[str], payloads: dict[str, Mapping[str, Any]]) -> list[str]:
    """Put in `payloads` the live ones among `wanted` that `payload_after` knows (a retracted
    one has none); returns those it did not touch, to read from rm_milestones."""
    unknown = []
    for milestone_id in wanted:
        try:
            found = payload_after(milestone_id)
        except KeyError:
            unknown.append(milestone_id)
            continue
        if found is not None:
            payloads[milestone_id] = found
    return unknown


def _is_current_record(event: StoredEvent) -> bool:
    return (event.type == MilestoneRecorded.type
            and event.schema_version == MilestoneRecorded.schema_version)
