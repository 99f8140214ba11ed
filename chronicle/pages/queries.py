"""What the pages read from the read models, in one pass: a snapshot every page renders from."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from chronicle.projections import HistoryEntry, MilestoneView, ReadModels, RetractedView, TagCount
from chronicle.projections import tables as t

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # Last-Modified of an empty chronicle


def retracted_all(read_models: ReadModels) -> list[RetractedView]:
    """Every withdrawn milestone (ReadModels answers only for one id at a time)."""
    query = sa.select(t.retracted).order_by(t.retracted.c.id)
    with read_models.engine.connect() as conn:
        return [RetractedView(id=row.id, title=row.title, reason=row.reason,
                              retracted_at=row.retracted_at.astimezone(dt.UTC),
                              position=row.position) for row in conn.execute(query)]


def all_history(read_models: ReadModels) -> dict[str, list[HistoryEntry]]:
    """Every live milestone's audit trail in one query (ReadModels.history takes one id)."""
    query = sa.select(t.history).order_by(t.history.c.milestone_id, t.history.c.position)
    trails: dict[str, list[HistoryEntry]] = {}
    with read_models.engine.connect() as conn:
        for row in conn.execute(query):
            trails.setdefault(row.milestone_id, []).append(HistoryEntry(
                position=row.position, type=row.type, recorded_at=row.recorded_at,
                reason=row.reason, changes=json.loads(row.changes)))
    return trails


@dataclass(frozen=True, slots=True)
class PageData:
    """The read models at one position, as the pages need them."""

    milestones: tuple[MilestoneView, ...]       # historical order
    tags: tuple[TagCount, ...]
    years: tuple[int, ...]
    day_precision: tuple[MilestoneView, ...]    # by month-day
    retracted: tuple[RetractedView, ...]
    position: int
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict, compare=False)

    @property
    def changed_at(self) -> dt.datetime:
        """The latest change any page can show: for Last-Modified."""
        times = [v.updated_at for v in self.milestones]
        times += [r.retracted_at for r in self.retracted]
        return max((moment.astimezone(dt.UTC) for moment in times), default=EPOCH)

    def tagged(self, tag: str) -> list[MilestoneView]:
        return [v for v in self.milestones if tag in v.milestone.tags]

    def in_year(self, year: int) -> list[MilestoneView]:
        return [v for v in self.milestones
                if v.milestone.date.first_day().year <= year <= v.milestone.date.last_day().year]


def read_page_data(read_models: ReadModels) -> PageData:
    position = read_models.position()
    return PageData(
        milestones=tuple(read_models.milestones()),
        tags=tuple(read_models.tags()),
        years=tuple(read_models.years()),
        day_precision=tuple(read_models.day_precision()),
        retracted=tuple(retracted_all(read_models)),
        position=position,
        history=all_history(read_models),
    )
