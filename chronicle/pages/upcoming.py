"""The next anniversary the home page announces, on the posting calendar's rules.

Same rules as the anniversary posts: only milestones whose (first) day is known have one; a
29 February milestone falls in common years on 28 February ("feb28"), 1 March ("mar1") or not
at all ("skip"); the day counts in the posting time zone.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from chronicle.projections import MilestoneView

FEB29 = (2, 29)
LOOKAHEAD_YEARS = 9  # a 29 February under "skip" waits up to eight years (1896 → 1904)


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


def next_anniversaries(views: Iterable[MilestoneView], today: dt.date, feb29_rule: str
                       ) -> list[Anniversary]:
    """Every anniversary on the soonest day that has any (today counts), in historical order."""
    found = [a for a in (next_anniversary(v, today, feb29_rule) for v in views) if a is not None]
    if not found:
        return []
    soonest = min(a.on for a in found)
    return sorted((a for a in found if a.on == soonest),
                  key=lambda a: (a.view.milestone.date.sort_key(), a.view.id))
