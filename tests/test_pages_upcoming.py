"""The home page's next anniversary: the scan from today's month-day finds what reading every
milestone finds, on every day of three years (a leap year among them) and under each 29 February
rule."""

from __future__ import annotations

import datetime as dt

import pytest

from chronicle.pages.upcoming import (
    Anniversary,
    next_anniversaries,
    next_anniversary,
    soonest_anniversaries,
)
from chronicle.projections import MilestoneView
from tests.test_feeds_support import milestone

DATES = ("1988-02-29", "2026-03-01", "1990-03-01", "1921-07-11", "2027-12-31", "1950-01-01",
         "1960-12-31", "2000-02-28", "1999-06-15", "2028-02-29", "1911-12-29", "1990-03-01")
RECORDED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def by_month_day(dates: tuple[str, ...]) -> list[MilestoneView]:
    """Views as `PageData.day_precision` holds them: by month-day, then historical order."""
    views = [MilestoneView(milestone=milestone(n, date=date), recorded_at=RECORDED,
                           updated_at=RECORDED, recorded_position=n, updated_position=n,
                           revisions=0)
             for n, date in enumerate(dates)]
    return sorted(views, key=lambda v: (v.milestone.date.month_day(),
                                        v.milestone.date.sort_key(), v.milestone.id))


def every_one(views: list[MilestoneView], today: dt.date, rule: str) -> list[Anniversary]:
    """The reference: every milestone's next anniversary, the soonest day's kept."""
    found = [a for a in (next_anniversary(v, today, rule) for v in views) if a is not None]
    soonest = min((a.on for a in found), default=None)
    return sorted((a for a in found if a.on == soonest),
                  key=lambda a: (a.view.milestone.date.sort_key(), a.view.id))


@pytest.mark.parametrize("rule", ["feb28", "mar1", "skip"])
@pytest.mark.parametrize("dates", [DATES, DATES[:1], DATES[1:2], DATES[4:6], ()])
def test_the_scan_finds_what_reading_every_milestone_finds(rule: str,
                                                           dates: tuple[str, ...]) -> None:
    views = by_month_day(dates)
    today = dt.date(2026, 1, 1)
    while today < dt.date(2029, 1, 10):
        assert next_anniversaries(views, today, rule) == every_one(views, today, rule), today
        today += dt.timedelta(days=1)


@pytest.mark.parametrize("rule", ["feb28", "mar1", "skip"])
@pytest.mark.parametrize("shown", [1, 2])
def test_the_home_page_makes_the_first_few_and_counts_the_rest(rule: str, shown: int) -> None:
    """Several milestones share days (two on 1 March, and 28 February under "feb28")."""
    views = by_month_day((*DATES, "1970-03-01", "1930-07-11", "1931-07-11"))
    today = dt.date(2026, 1, 1)
    while today < dt.date(2028, 12, 31):
        every = every_one(views, today, rule)
        upcoming = soonest_anniversaries(views, today, rule, shown)
        assert (upcoming.first, upcoming.count) == (every[:shown], len(every)), today
        today += dt.timedelta(days=1)
