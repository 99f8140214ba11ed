"""What the pages read from the read models, in one pass: a snapshot every page renders from."""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chronicle.projections import HistoryEntry, MilestoneView, ReadModels, RetractedView, TagCount
from chronicle.projections import tables as t
from chronicle.projections.milestone_rows import sort_key
from chronicle.projections.posts import posts
from chronicle.projections.readmodels import milestone_view

M = t.milestones
TagYears = dict[str, dict[int, list[MilestoneView]]]

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # Last-Modified of an empty chronicle
IN_CHUNK = 500  # ids per IN (...) list


def retracted_all(read_models: ReadModels) -> list[RetractedView]:
    """Every withdrawn milestone (ReadModels answers only for one id at a time)."""
    return sorted(read_models.retracted_all(), key=lambda view: view.id)


def post_streams(read_models: ReadModels) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Per milestone: the last log position of its posts, and their streams (each post's
    review and outcome go on the milestone's audit trail)."""
    found: dict[str, tuple[int, tuple[str, ...]]] = {}
    with read_models.engine.connect() as conn:
        query = sa.select(posts.c.milestone_ids, posts.c.position, posts.c.stream_id).order_by(
            posts.c.stream_id)
        for row in conn.execute(query):
            for milestone_id in json.loads(row.milestone_ids):
                last, streams = found.get(milestone_id, (0, ()))
                found[milestone_id] = (max(last, row.position), (*streams, row.stream_id))
    return found


def histories(read_models: ReadModels, ids: Iterable[str]) -> dict[str, list[HistoryEntry]]:
    """The audit trails of the live milestones `ids` (ReadModels.history takes one id)."""
    wanted = sorted(set(ids))
    trails: dict[str, list[HistoryEntry]] = {}
    with read_models.engine.connect() as conn:
        for start in range(0, len(wanted), IN_CHUNK):
            query = (sa.select(t.history)
                     .where(t.history.c.milestone_id.in_(wanted[start:start + IN_CHUNK]))
                     .order_by(t.history.c.milestone_id, t.history.c.position))
            for row in conn.execute(query):
                trails.setdefault(row.milestone_id, []).append(HistoryEntry(
                    position=row.position, type=row.type, recorded_at=row.recorded_at,
                    reason=row.reason, changes=json.loads(row.changes),
                    previous=json.loads(row.previous)))
    return trails


def year_span(view: MilestoneView) -> range:
    """The years a milestone belongs to: from its first day's to its last day's."""
    date = view.milestone.date
    return range(date.first_day().year, date.last_day().year + 1)


def first_year(view: MilestoneView) -> int:
    """The year a milestone counts under in the years' list (the read models' year_start),
    and on its tags' and sources' year pages."""
    return view.milestone.date.first_day().year


def month_day_text(view: MilestoneView) -> str | None:
    """The month-day the calendar read model files a milestone under ("01-27")."""
    month_day = view.milestone.date.month_day()
    return None if month_day is None else f"{month_day[0]:02d}-{month_day[1]:02d}"


@dataclass(frozen=True, slots=True)
class PageData:
    """The read models at one position, as the pages need them.

    The groupings by tag and by year and `changed_at` are computed once, in one pass over
    the milestones, when the snapshot is made: every listing page asks for them.
    """

    milestones: tuple[MilestoneView, ...]       # historical order
    tags: tuple[TagCount, ...]
    years: tuple[int, ...]
    day_precision: tuple[MilestoneView, ...]    # by month-day
    retracted: tuple[RetractedView, ...]
    position: int
    changed_at: dt.datetime = field(init=False, compare=False)  # for Last-Modified
    _by_tag: dict[str, list[MilestoneView]] = field(init=False, compare=False, repr=False)
    _by_year: dict[int, list[MilestoneView]] = field(init=False, compare=False, repr=False)
    _by_tag_year: TagYears = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        times = [v.updated_at for v in self.milestones]
        times += [r.retracted_at for r in self.retracted]
        changed = max((moment.astimezone(dt.UTC) for moment in times), default=EPOCH)
        by_tag: dict[str, list[MilestoneView]] = {}
        by_year: dict[int, list[MilestoneView]] = {year: [] for year in self.years}
        by_tag_year: TagYears = {}
        for view in self.milestones:
            first = first_year(view)
            for tag in dict.fromkeys(view.milestone.tags):
                by_tag.setdefault(tag, []).append(view)
                by_tag_year.setdefault(tag, {}).setdefault(first, []).append(view)
            for year in year_span(view):
                if year in by_year:
                    by_year[year].append(view)
        object.__setattr__(self, "changed_at", changed)
        object.__setattr__(self, "_by_tag", by_tag)
        object.__setattr__(self, "_by_year", by_year)
        object.__setattr__(self, "_by_tag_year", by_tag_year)

    @classmethod
    def assembled(cls, *, by_tag: dict[str, list[MilestoneView]],
                  by_year: dict[int, list[MilestoneView]], by_tag_year: TagYears,
                  changed_at: dt.datetime, **fields: Any) -> PageData:
        """A snapshot whose groupings the caller already has (an incremental update):
        no pass over every milestone."""
        data = object.__new__(cls)
        for name, value in (*fields.items(), ("changed_at", changed_at), ("_by_tag", by_tag),
                            ("_by_year", by_year), ("_by_tag_year", by_tag_year)):
            object.__setattr__(data, name, value)
        return data

    def groups(self) -> tuple[dict[str, list[MilestoneView]], dict[int, list[MilestoneView]]]:
        """The groupings by tag and by year, as held (not to be mutated)."""
        return self._by_tag, self._by_year

    def tag_groups(self) -> TagYears:
        """Each tag's milestones by the year they count under (as held, not to be mutated)."""
        return self._by_tag_year

    def tag_years(self, tag: str) -> dict[int, list[MilestoneView]]:
        """A tag's milestones by `first_year`, in historical order within a year; the years
        ascending (a tag's year pages, above `feed.listing_size`)."""
        groups = self._by_tag_year.get(tag, {})
        return {year: groups[year] for year in sorted(groups)}

    def tag_size(self, tag: str) -> int:
        return len(self._by_tag.get(tag, ()))

    def tagged(self, tag: str) -> list[MilestoneView]:
        return list(self._by_tag.get(tag, ()))

    def in_year(self, year: int) -> list[MilestoneView]:
        if year in self._by_year:
            return list(self._by_year[year])
        return [v for v in self.milestones if year in year_span(v)]


def historical_key(view: MilestoneView) -> tuple[str, str]:
    """Where a milestone sorts in historical order (the read models' sort_key, then id)."""
    return sort_key(view.milestone.date), view.id


ViewKey = tuple[str, int]
_parsed: weakref.WeakKeyDictionary[Engine, dict[ViewKey, MilestoneView]] = (
    weakref.WeakKeyDictionary())


def current_milestones(read_models: ReadModels) -> tuple[MilestoneView, ...]:
    """ReadModels.milestones(), parsing only the rows that changed since the last read.

    Within one database a milestone's (id, updated_position) stands for its whole row, so
    the views parsed by the previous read of the same engine are reused.
    """
    engine = read_models.engine
    previous = _parsed.get(engine, {})
    parsed: dict[ViewKey, MilestoneView] = {}
    query = sa.select(M).order_by(M.c.sort_key, M.c.id)
    with engine.connect() as conn:
        for row in conn.execute(query):
            key = (row.id, row.updated_position)
            view = previous.get(key)
            parsed[key] = view if view is not None else milestone_view(row)
    _parsed[engine] = parsed  # a whole new dict: a concurrent reader keeps its own
    return tuple(parsed.values())


def read_page_data(read_models: ReadModels) -> PageData:
    """One snapshot; the milestones are read once (the anniversaries are a subset of them)."""
    position = read_models.position()
    milestones = current_milestones(read_models)
    dated = [(day, view) for view in milestones if (day := month_day_text(view)) is not None]
    return PageData(
        milestones=milestones,
        tags=tuple(read_models.tags()),
        years=tuple(read_models.years()),
        # By month-day, then historical order, as ReadModels.day_precision (a stable sort).
        day_precision=tuple(view for _, view in sorted(dated, key=lambda pair: pair[0])),
        retracted=tuple(retracted_all(read_models)),
        position=position,
    )
