"""The page snapshot kept up to date between refreshes: changed milestones moved into place.

A full `read_page_data` parses and groups every milestone. After the log advances by a few
recorded or revised milestones, `PageSet.advance` takes just those views and rebuilds only
the groups they leave or join (their tags, their years, the anniversaries), inserting each
where the full pass would have put it (historical order: the read models' sort_key, then
id). The result equals `read_page_data` at the same position (tests/test_pages_live.py).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chronicle.pages.pagedata import (
    PageData,
    TagYears,
    first_year,
    historical_key,
    month_day_text,
    year_span,
)
from chronicle.projections import MilestoneView, TagCount

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Moved:
    """What one advance changed: the views before and after, and whether the years did."""

    before: tuple[MilestoneView, ...]     # the replaced versions of revised milestones
    after: tuple[MilestoneView, ...]      # the new and revised milestones
    years_changed: bool
    tags_changed: bool


def _day_key(keys: dict[str, Key]) -> Callable[[MilestoneView], tuple[str, Key]]:
    return lambda view: (month_day_text(view) or "", keys[view.id])


class PageSet:
    """One database's page snapshot and the historical keys of its milestones."""

    def __init__(self, data: PageData) -> None:
        self.data = data
        self.keys = {view.id: historical_key(view) for view in data.milestones}
        self.by_id = {view.id: view for view in data.milestones}
        order = [self.keys[view.id] for view in data.milestones]
        # The database sorts the text itself: under a collation other than code-point order
        # the inserts below would not land where it puts them, so none are made.
        tags = [tag.tag for tag in data.tags]
        self.ordered = (all(a < b for a, b in itertools.pairwise(order))
                        and all(a < b for a, b in itertools.pairwise(tags)))
        self.first_years = Counter(first_year(view) for view in data.milestones)
        # The snapshot's two long sequences as lists of this set's own, changed in place: a
        # new snapshot copies each once (a list of a tuple, then a tuple of it, was twice).
        self.order = list(data.milestones)
        self.dated = list(data.day_precision)

    def advance(self, views: Sequence[MilestoneView], position: int) -> Moved:
        """Put `views` (recorded or revised, none retracted) in place at `position`; the
        tags' counts and the years follow from the groups, as the read models count them.
        One that fails leaves the set half-moved: its caller starts again from a full read
        (LivePages.refresh)."""
        data = self.data
        before = tuple(old for view in views if (old := self.by_id.get(view.id)) is not None)
        self.first_years.subtract(first_year(old) for old in before)
        self.first_years.update(first_year(view) for view in views)
        years = sorted(year for year, count in self.first_years.items() if count > 0)
        milestones, day_precision = self.order, self.dated
        # Only a milestone known to the day moves the anniversaries (two in three do not).
        dated = any(month_day_text(view) is not None for view in (*before, *views))
        tag_groups, year_groups = data.groups()
        by_tag, by_year = dict(tag_groups), dict(year_groups)
        by_tag_year = dict(data.tag_groups())
        years_changed = tuple(years) != data.years
        for old in before:
            self._leave(old, milestones, day_precision, by_tag, by_year)
            _leave_tag_years(old, by_tag_year)
        for view in views:
            self.keys[view.id] = historical_key(view)
            self.by_id[view.id] = view
            self._join(view, milestones, day_precision, by_tag, by_year)
            self._join_tag_years(view, by_tag_year)
        if years_changed:
            by_year = {year: [] for year in years}
            for view in milestones:
                for year in year_span(view):
                    if year in by_year:
                        by_year[year].append(view)
        tags = [TagCount(tag=tag, count=len(by_tag[tag])) for tag in sorted(by_tag)]
        changed_at = max([data.changed_at, *(v.updated_at.astimezone(dt.UTC) for v in views)])
        self.data = PageData.assembled(
            milestones=tuple(milestones), tags=tuple(tags), years=tuple(years),
            day_precision=tuple(day_precision) if dated else data.day_precision,
            retracted=data.retracted, position=position,
            by_tag=by_tag, by_year=by_year, by_tag_year=by_tag_year, changed_at=changed_at)
        return Moved(before, tuple(views), years_changed, tuple(tags) != data.tags)

    def _key(self, view: MilestoneView) -> Key:
        return self.keys[view.id]

    def _leave(self, old: MilestoneView, milestones: list[MilestoneView],
               day_precision: list[MilestoneView], by_tag: dict[str, list[MilestoneView]],
               by_year: dict[int, list[MilestoneView]]) -> None:
        """Take the previous version of a revised milestone out of every list it was in
        (`keys` still holds its key: found by bisection, not a pass over each list)."""
        _delete(milestones, old, self._key)
        if month_day_text(old) is not None:
            _delete(day_precision, old, _day_key(self.keys))
        for tag in dict.fromkeys(old.milestone.tags):
            remaining = list(by_tag.get(tag, []))
            _delete(remaining, old, self._key)
            if remaining:
                by_tag[tag] = remaining
            else:
                by_tag.pop(tag, None)
        for year in year_span(old):
            if year in by_year:
                by_year[year] = list(by_year[year])
                _delete(by_year[year], old, self._key)

    def _join(self, view: MilestoneView, milestones: list[MilestoneView],
              day_precision: list[MilestoneView], by_tag: dict[str, list[MilestoneView]],
              by_year: dict[int, list[MilestoneView]]) -> None:
        bisect.insort(milestones, view, key=self._key)
        if month_day_text(view) is not None:
            bisect.insort(day_precision, view, key=_day_key(self.keys))
        for tag in dict.fromkeys(view.milestone.tags):
            tagged = list(by_tag.get(tag, []))
            bisect.insort(tagged, view, key=self._key)
            by_tag[tag] = tagged
        for year in year_span(view):
            if year in by_year:
                listed = list(by_year[year])
                bisect.insort(listed, view, key=self._key)
                by_year[year] = listed

    def _join_tag_years(self, view: MilestoneView, by_tag_year: TagYears) -> None:
        """Put `view` in its tags' groups of its year (copies: the old snapshot keeps its)."""
        year = first_year(view)
        for tag in dict.fromkeys(view.milestone.tags):
            groups = by_tag_year[tag] = dict(by_tag_year.get(tag, {}))
            listed = groups[year] = list(groups.get(year, []))
            bisect.insort(listed, view, key=self._key)


def _delete(views: list[MilestoneView], old: MilestoneView,
            key: Callable[[MilestoneView], Any]) -> None:
    """Take `old` out of `views` (in `key` order, its key still `old`'s): where its key
    puts it, else (not found there) by a pass."""
    index = bisect.bisect_left(views, key(old), key=key)
    if index < len(views) and views[index].id == old.id:
        del views[index]
    else:
        views[:] = [view for view in views if view.id != old.id]


def _leave_tag_years(old: MilestoneView, by_tag_year: TagYears) -> None:
    """Take a revised milestone's previous version out of its tags' year groups."""
    year = first_year(old)
    for tag in dict.fromkeys(old.milestone.tags):
        groups = by_tag_year[tag] = dict(by_tag_year.get(tag, {}))
        remaining = [view for view in groups.get(year, []) if view.id != old.id]
        if remaining:
            groups[year] = remaining
        else:
            groups.pop(year, None)
        if not groups:
            del by_tag_year[tag]
