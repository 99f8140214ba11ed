"""The search read model: one row per live milestone, the text full-text search reads.

Titles are kept apart (they weigh more); the body holds the summary, people, places, tags and
the quoted passages (table rows as text). Each batch rewrites the rows of the milestones it
touched from rm_milestones, which the milestones projection has brought to the same batch
(it runs first, in the same transaction); a retracted milestone leaves the index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.domain import Milestone
from chronicle.projections import fulltext  # noqa: F401 (the index DDL rides on the table)
from chronicle.projections import tables as t
from chronicle.projections.base import Projection, insert_tuples
from chronicle.quotes import readable_quote
from chronicle.repository import MILESTONE_STREAM_PREFIX
from chronicle.store import StoredEvent

CHUNK = 500


def search_body(milestone: Milestone) -> str:
    """Everything but the title, its parts separated by " · " (snippets show them)."""
    parts = [milestone.summary, *milestone.people, *milestone.places, *milestone.tags,
             *(readable_quote(source.quote) for source in milestone.sources)]
    return " · ".join(part for part in parts if part)


class SearchProjection(Projection):
    name = "search"
    version = 1

    def tables(self) -> Sequence[sa.Table]:
        return (t.search,)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        touched = sorted({e.stream_id.removeprefix(MILESTONE_STREAM_PREFIX) for e in events
                          if e.stream_id.startswith(MILESTONE_STREAM_PREFIX)})
        for start in range(0, len(touched), CHUNK):
            ids = touched[start:start + CHUNK]
            conn.execute(t.search.delete().where(t.search.c.milestone_id.in_(ids)))
            rows = conn.execute(sa.select(t.milestones.c.id, t.milestones.c.payload)
                                .where(t.milestones.c.id.in_(ids)).order_by(t.milestones.c.id))
            documents = []
            for milestone_id, payload in rows:
                milestone = Milestone.from_payload(json.loads(payload))
                documents.append((milestone_id, milestone.title, search_body(milestone)))
            insert_tuples(conn, t.search, documents)
