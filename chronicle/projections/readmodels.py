"""Queries over the read models: what feeds, pages, posts and the CLI ask."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from chronicle.domain import Milestone
from chronicle.projections import tables as t
from chronicle.projections.posts import published_posts
from chronicle.projections.views import (
    HistoryEntry,
    MilestoneView,
    PublishedPostView,
    RetractedView,
    SearchHit,
    TagCount,
)

M = t.milestones
IN_CHUNK = 500   # ids per IN (...) list


def milestone_view(row: Row[Any]) -> MilestoneView:
    """A read-model row as the view pages and feeds render (public: pages memoise by row)."""
    return MilestoneView(
        milestone=Milestone.from_payload(json.loads(row.payload)),
        recorded_at=row.recorded_at, updated_at=row.updated_at,
        recorded_position=row.recorded_position, updated_position=row.updated_position,
        revisions=row.revisions,
    )


class ReadModels:
    """Read-only access to the projected tables of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _views(self, query: sa.Select[Any]) -> list[MilestoneView]:
        with self.engine.connect() as conn:
            return [milestone_view(row) for row in conn.execute(query)]

    @staticmethod
    def _filtered(query: sa.Select[Any], tag: str | None, year: int | None,
                  on: tuple[int, int] | None) -> sa.Select[Any]:
        if tag is not None:
            query = query.where(M.c.id.in_(sa.select(t.milestone_tags.c.milestone_id)
                                           .where(t.milestone_tags.c.tag == tag)))
        if year is not None:
            query = query.where(M.c.year_start <= year, M.c.year_end >= year)
        if on is not None:
            query = query.where(M.c.month_day == f"{on[0]:02d}-{on[1]:02d}")
        return query

    def milestones(self, *, tag: str | None = None, year: int | None = None,
                   on: tuple[int, int] | None = None) -> list[MilestoneView]:
        """Current milestones in historical order (a range counts by its first day)."""
        query = self._filtered(sa.select(M), tag, year, on).order_by(M.c.sort_key, M.c.id)
        return self._views(query)

    def newest(self, limit: int, *, offset: int = 0, tag: str | None = None
               ) -> list[MilestoneView]:
        """Newest additions to the chronicle first (by when they were recorded)."""
        query = (self._filtered(sa.select(M), tag, None, None)
                 .order_by(M.c.recorded_position.desc()).limit(limit).offset(offset))
        return self._views(query)

    def oldest_first(self, *, tag: str | None = None, after_position: int = 0,
                     limit: int | None = None) -> list[MilestoneView]:
        """In recorded order, oldest first: the order RFC 5005 archive pages fill in."""
        query = (self._filtered(sa.select(M), tag, None, None)
                 .where(M.c.recorded_position > after_position)
                 .order_by(M.c.recorded_position).limit(limit))
        return self._views(query)

    def count(self, *, tag: str | None = None) -> int:
        query = self._filtered(sa.select(sa.func.count()).select_from(M), tag, None, None)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def by_ids(self, milestone_ids: Iterable[str]) -> list[MilestoneView]:
        """The current milestones among `milestone_ids` (by primary key), in recorded order."""
        wanted = sorted(set(milestone_ids))
        found: list[MilestoneView] = []
        for start in range(0, len(wanted), IN_CHUNK):
            found += self._views(sa.select(M).where(M.c.id.in_(wanted[start:start + IN_CHUNK])))
        return sorted(found, key=lambda view: view.recorded_position)

    def milestone(self, milestone_id: str) -> MilestoneView | None:
        found = self._views(sa.select(M).where(M.c.id == milestone_id))
        return found[0] if found else None

    def on_this_day(self, month: int, day: int) -> list[MilestoneView]:
        """Day-precision milestones whose first day falls on this month and day."""
        ids = sa.select(t.on_this_day.c.milestone_id).where(
            t.on_this_day.c.month_day == f"{month:02d}-{day:02d}")
        return self._views(sa.select(M).where(M.c.id.in_(ids)).order_by(M.c.sort_key, M.c.id))

    def day_precision(self) -> list[MilestoneView]:
        """Every milestone with a yearly anniversary, by month-day."""
        ids = sa.select(t.on_this_day.c.milestone_id)
        return self._views(sa.select(M).where(M.c.id.in_(ids))
                           .order_by(M.c.month_day, M.c.sort_key, M.c.id))

    def tags(self) -> list[TagCount]:
        query = (sa.select(t.milestone_tags.c.tag, sa.func.count())
                 .group_by(t.milestone_tags.c.tag).order_by(t.milestone_tags.c.tag))
        with self.engine.connect() as conn:
            return [TagCount(tag=tag, count=n) for tag, n in conn.execute(query)]

    def years(self) -> list[int]:
        query = sa.select(M.c.year_start).distinct().order_by(M.c.year_start)
        with self.engine.connect() as conn:
            return [int(year) for year in conn.execute(query).scalars()]

    def history(self, milestone_id: str) -> list[HistoryEntry]:
        query = (sa.select(t.history).where(t.history.c.milestone_id == milestone_id)
                 .order_by(t.history.c.position))
        with self.engine.connect() as conn:
            return [HistoryEntry(position=row.position, type=row.type,
                                 recorded_at=row.recorded_at, reason=row.reason,
                                 changes=json.loads(row.changes),
                                 previous=json.loads(row.previous))
                    for row in conn.execute(query)]

    def retracted(self, milestone_id: str) -> RetractedView | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.retracted)
                               .where(t.retracted.c.id == milestone_id)).first()
        if row is None:
            return None
        return retracted_view(row)

    def search(self, query: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Live milestones matching every word of `query`, best first (see fulltext)."""
        from chronicle.projections import fulltext

        with self.engine.connect() as conn:
            hits = fulltext.search(conn, query, limit, offset)
        views = {view.id: view for view in self.by_ids(hit.milestone_id for hit in hits)}
        return [SearchHit(view=views[hit.milestone_id], title=hit.title, snippet=hit.snippet)
                for hit in hits if hit.milestone_id in views]

    def retracted_all(self) -> list[RetractedView]:
        """Every withdrawn milestone, in the order they were first recorded."""
        return retracted_all(self.engine)

    def published_posts(self, limit: int = 50) -> list[PublishedPostView]:
        """Anniversary posts that went out, newest first (the posts read model)."""
        return published_posts(self.engine, limit)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.min(t.checkpoints.c.position))).scalar() or 0


def retracted_view(row: Row[Any]) -> RetractedView:
    """An rm_retracted row as a view, its times in UTC whatever the backend answered in."""
    return RetractedView(id=row.id, title=row.title, reason=row.reason,
                         retracted_at=row.retracted_at.astimezone(dt.UTC), position=row.position,
                         recorded_at=row.recorded_at.astimezone(dt.UTC),
                         recorded_position=row.recorded_position)


def retracted_all(engine: Engine) -> list[RetractedView]:
    """Every withdrawn milestone, in the order they were first recorded."""
    query = sa.select(t.retracted).order_by(t.retracted.c.recorded_position)
    with engine.connect() as conn:
        return [retracted_view(row) for row in conn.execute(query)]


def dump(engine: Engine, tables: Sequence[sa.Table]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `tables`, ordered by primary key: for comparing read models exactly."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            result[table.name] = [tuple(row) for row in
                                  conn.execute(sa.select(table).order_by(*order))]
    return result
