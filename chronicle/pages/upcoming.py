"""The next anniversary the home page announces, on the posting calendar's rules.

Same rules as the anniversary posts: only milestones whose (first) day is known have one; a
29 February milestone falls in common years on 28 February ("feb28"), 1 March ("mar1") or not
at all ("skip"); the day counts in the posting time zone.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from chronicle.projections import MilestoneView

FEB29 = (2, 29)
NO_DAY = (0, 0)
LOOKAHEAD_YEARS = 9  # a 29 February under "skip" waits up to eight years (1896 → 1904)
ANNIVERSARIES_SHOWN = 10
"""The home page lists at most this many anniversaries of the day and says how many more:
a large chronicle (1,000 milestones sharing a day at 100,000) would bury the page."""


@dataclass(frozen=True, slots=True)
class Anniversary:
    view: MilestoneView
    on: dt.date
    years: int


def local_today(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    return now.astimezone(zone).date()


def anniversary_in(month_day: tuple[int, int], year: int, feb29_rule: str) -> dt.date | None:
    """The day `month_day` is marked in `year`, or None when the rule skips it."""
    if month_day != FEB29 or calendar.isleap(year):
        return dt.date(year, *month_day)
    return {"feb28": dt.date(year, 2, 28), "mar1": dt.date(year, 3, 1)}.get(feb29_rule)


def next_anniversary(view: MilestoneView, today: dt.date, feb29_rule: str) -> Anniversary | None:
    """The first anniversary (of one year or more) on or after `today`."""
    month_day = view.milestone.date.month_day()
    if month_day is None:
        return None
    start_year = view.milestone.date.first_day().year
    day = _marked(month_day, max(today.year, start_year + 1), today, feb29_rule)
    return None if day is None else Anniversary(view=view, on=day, years=day.year - start_year)


@lru_cache(maxsize=256)
def _marked(month_day: tuple[int, int], from_year: int, today: dt.date,
            feb29_rule: str) -> dt.date | None:
    """The first day on or after `today` that `month_day` is marked, from `from_year` on:
    the same for every milestone of a month-day recorded before this year (worked out once)."""
    for year in range(from_year, today.year + LOOKAHEAD_YEARS):
        day = anniversary_in(month_day, year, feb29_rule)
        if day is not None and day >= today:
            return day
    return None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """The soonest day's anniversaries: the first few in historical order, and how many."""

    first: list[Anniversary]
    count: int


def next_anniversaries(views: Sequence[MilestoneView], today: dt.date, feb29_rule: str
                       ) -> list[Anniversary]:
    """Every anniversary on the soonest day that has any (today counts), in historical order."""
    return soonest_anniversaries(views, today, feb29_rule, len(views)).first


def soonest_anniversaries(views: Sequence[MilestoneView], today: dt.date, feb29_rule: str,
                          shown: int) -> Upcoming:
    """The first `shown` anniversaries on the soonest day that has any (today counts), in
    historical order, and how many that day has.

    `views` are by month-day, then in historical order (as `PageData.day_precision`): the
    scan starts at yesterday's month-day (a 29 February may be marked on 1 March) and goes
    round the year, stopping where no later milestone could come before the soonest found,
    so a refresh of the home page reads the few month-days of the next days, not every
    milestone; within a month-day, the milestones of the years before this one share their
    day (`_marked_runs`), and of those marked on the soonest day only the few that can be
    among the first `shown` are compared (`_leading`): a day of a large chronicle has a
    thousand.
    """
    yesterday = today - dt.timedelta(days=1)
    start = bisect.bisect_left(views, _month_day(yesterday), key=_month_of)
    found: list[tuple[dt.date, Sequence[MilestoneView]]] = []
    soonest: dt.date | None = None
    for low, high, year in _month_days(views, start, yesterday.year):
        month_day = _month_of(views[low])
        if soonest is not None and _not_before(month_day, year) > soonest:
            break
        if month_day == NO_DAY:
            continue
        for day, marked in _marked_runs(views, low, high, month_day, today, feb29_rule):
            found.append((day, marked))
            soonest = day if soonest is None else min(soonest, day)
    if soonest is None:
        return Upcoming([], 0)
    on_day = [marked for day, marked in found if day == soonest]
    first = heapq.nsmallest(shown, (view for marked in on_day
                                    for view in _leading(marked, shown)), key=_historical)
    return Upcoming([Anniversary(view=view, on=soonest,
                                 years=soonest.year - view.milestone.date.first_day().year)
                     for view in first], sum(map(len, on_day)))


def _marked_runs(views: Sequence[MilestoneView], low: int, high: int,
                 month_day: tuple[int, int], today: dt.date, feb29_rule: str
                 ) -> Iterator[tuple[dt.date, Sequence[MilestoneView]]]:
    """The day each milestone of one month-day's run `views[low:high]` is next marked, with
    the milestones marked then, in their order. The historical order sorts by first day,
    so the milestones of the years before this one (all but a few) come first and are all
    next marked on the same day, worked out once; the others (of this year or later), one
    by one. (The read models' sort_key text orders as the dates' `sort_key()`: fixed-width
    fields, tests/test_pages_upcoming.py; so the first day never goes down within a run.)"""
    split = bisect.bisect_left(views, today.year, low, high, key=_first_year)
    if split > low:
        day = _marked(month_day, today.year, today, feb29_rule)
        if day is not None:
            yield day, views[low:split]
    for view in views[split:high]:
        day = _marked(month_day, _first_year(view) + 1, today, feb29_rule)
        if day is not None:
            yield day, (view,)


def _leading(marked: Sequence[MilestoneView], shown: int) -> Sequence[MilestoneView]:
    """The milestones of `marked` (in historical order) that can be among its first `shown`
    by `_historical`: the first `shown`, and those after them on the same date as the last
    of these (the database orders the ids of one date by its collation, which may not be
    Python's)."""
    if len(marked) <= shown:
        return marked
    if shown <= 0:
        return ()
    last = marked[shown - 1].milestone.date.sort_key()
    end = shown
    while end < len(marked) and marked[end].milestone.date.sort_key() == last:
        end += 1
    return marked[:end]


def _historical(view: MilestoneView) -> tuple[tuple[dt.date, int, dt.date, int, bool], str]:
    return view.milestone.date.sort_key(), view.id


def _first_year(view: MilestoneView) -> int:
    return view.milestone.date.first_day().year


def _month_days(views: Sequence[MilestoneView], start: int,
                from_year: int) -> Iterator[tuple[int, int, int]]:
    """(low, high, year) of each month-day's run of `views` from `start` (yesterday's
    month-day, in `from_year`) round to it: the first year they can be next marked in
    (yesterday's year, or the next after going round: on 1 January, this one)."""
    for begin, end, year in ((start, len(views), from_year), (0, start, from_year + 1)):
        low = begin
        while low < end:
            high = bisect.bisect_right(views, _month_of(views[low]), low, end, key=_month_of)
            yield low, high, year
            low = high


def _month_day(day: dt.date) -> tuple[int, int]:
    return day.month, day.day


def _month_of(view: MilestoneView) -> tuple[int, int]:
    """The month-day `views` are sorted by; (0, 0) sorts first and has no anniversary."""
    return view.milestone.date.month_day() or NO_DAY


def _not_before(month_day: tuple[int, int], year: int) -> dt.date:
    """A day that no anniversary of `month_day`, marked in `year` or later, comes before
    (a 29 February is marked on 28 February or 1 March in common years)."""
    month, day = month_day
    if month == 0:
        return dt.date.min
    return dt.date(year, month, min(day, 28) if month == 2 else day) - dt.timedelta(days=1)
