"""The next anniversary the home page announces, on the posting calendar's rules.

Same rules as the anniversary posts: only milestones whose (first) day is known have one; a
29 February milestone falls in common years on 28 February ("feb28"), 1 March ("mar1") or not
at all ("skip"); the day counts in the posting time zone.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from chronicle.projections import MilestoneView

FEB29 = (2, 29)
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
    for year in range(max(today.year, start_year + 1), today.year + LOOKAHEAD_YEARS):
        day = anniversary_in(month_day, year, feb29_rule)
        if day is not None and day >= today:
            return Anniversary(view=view, on=day, years=year - start_year)
    return None


def next_anniversaries(views: Sequence[MilestoneView], today: dt.date, feb29_rule: str
                       ) -> list[Anniversary]:
    """Every anniversary on the soonest day that has any (today counts), in historical order.

    `views` are by month-day (as `PageData.day_precision`): the scan starts at yesterday's
    month-day (a 29 February may be marked on 1 March) and goes round the year, stopping
    where no later milestone could come before the soonest found, so a refresh of the home
    page reads the few milestones of the next days, not every one.
    """
    start = bisect.bisect_left(views, _month_day(today - dt.timedelta(days=1)), key=_month_of)
    found: list[Anniversary] = []
    soonest: dt.date | None = None
    for position in itertools.chain(range(start, len(views)), range(start)):
        view = views[position]
        year = today.year if position >= start else today.year + 1
        if soonest is not None and _not_before(_month_of(view), year) > soonest:
            break
        anniversary = next_anniversary(view, today, feb29_rule)
        if anniversary is not None:
            found.append(anniversary)
            soonest = anniversary.on if soonest is None else min(soonest, anniversary.on)
    return sorted((a for a in found if a.on == soonest),
                  key=lambda a: (a.view.milestone.date.sort_key(), a.view.id))


def _month_day(day: dt.date) -> tuple[int, int]:
    return day.month, day.day


def _month_of(view: MilestoneView) -> tuple[int, int]:
    """The month-day `views` are sorted by; (0, 0) sorts first and has no anniversary."""
    return view.milestone.date.month_day() or (0, 0)


def _not_before(month_day: tuple[int, int], year: int) -> dt.date:
    """A day that no anniversary of `month_day`, marked in `year` or later, comes before
    (a 29 February is marked on 28 February or 1 March in common years)."""
    month, day = month_day
    if month == 0:
        return dt.date.min
    return dt.date(year, month, min(day, 28) if month == 2 else day) - dt.timedelta(days=1)
