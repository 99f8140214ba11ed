"""The search read model: one row per live milestone, the text full-text search reads.

Titles are kept apart (they weigh more); the body holds the summary, people, places, tags and
the quoted passages (table rows as text). Each batch rewrites the rows of the milestones it
touched: from a recording's payload, or from rm_milestones, which the milestones projection
has brought to the same batch (it runs first, in the same transaction); a retracted milestone
leaves the index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.domain import MilestoneRecorded
from chronicle.projections import fulltext
from chronicle.projections import tables as t
from chronicle.projections.base import Projection, insert_tuples
from chronicle.quotes import readable_quote
from chronicle.repository import MILESTONE_STREAM_PREFIX
from chronicle.store import StoredEvent

CHUNK = 500


def search_body(milestone: Mapping[str, Any]) -> str:
    """Everything but the title of a milestone's payload, its parts separated by " · "
    (snippets show them). A payload, not a Milestone: a rebuild builds no domain objects."""
    parts = [milestone.get("summary") or "", *milestone.get("people", ()),
             *milestone.get("places", ()), *milestone.get("tags", ()),
             *(readable_quote(source["quote"]) for source in milestone.get("sources", ()))]
    return " · ".join(part for part in parts if part)


class SearchProjection(Projection):
    name = "search"
    version = 1       # the index's DDL is fulltext's (created and dropped with rm_search)

    def tables(self) -> Sequence[sa.Table]:
        return (t.search,)

    def suspend_index(self, conn: Connection) -> None:
        fulltext.suspend(conn)

    def restore_index(self, conn: Connection) -> None:
        fulltext.restore(conn)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Rows of the milestones the batch touched: from the payload of a recording that is
        their last event here (the usual rebuild case), else as rm_milestones has them."""
        latest: dict[str, StoredEvent] = {}
        for event in events:
            if event.stream_id.startswith(MILESTONE_STREAM_PREFIX):
                latest[event.stream_id.removeprefix(MILESTONE_STREAM_PREFIX)] = event
        touched = sorted(latest)
        after: int | None = None
        for start in range(0, len(touched), CHUNK):
            ids = touched[start:start + CHUNK]
            conn.execute(t.search.delete().where(t.search.c.milestone_id.in_(ids)))
            if start == 0:   # after the first delete, which may remove the last row
                after = fulltext.last_row(conn)
            payloads = {mid: latest[mid].payload for mid in ids if _is_current_record(latest[mid])}
            stored = [mid for mid in ids if mid not in payloads]
            if stored:
                query = (sa.select(t.milestones.c.id, t.milestones.c.payload)
                         .where(t.milestones.c.id.in_(stored)))
                payloads.update((mid, json.loads(text)) for mid, text in conn.execute(query))
            rows = [(mid, payloads[mid]["title"], search_body(payloads[mid]))
                    for mid in ids if mid in payloads]
            insert_tuples(conn, t.search, rows)
        if after is not None:
            fulltext.index(conn, after)


def _is_current_record(event: StoredEvent) -> bool:
    return (event.type == MilestoneRecorded.type
            and event.schema_version == MilestoneRecorded.schema_version)
