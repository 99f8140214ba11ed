"""The home page's next anniversary: the scan from today's month-day finds what reading every
milestone finds, on every day of three years (a leap year among them) and under each 29 February
rule."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import random

import pytest

from chronicle.dates import HistoricalDate
from chronicle.pages.upcoming import (
    Anniversary,
    next_anniversaries,
    next_anniversary,
    soonest_anniversaries,
)
from chronicle.projections import MilestoneView
from chronicle.projections.milestone_rows import sort_key
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


def test_the_read_models_sort_key_text_sorts_as_the_dates_do() -> None:
    """`PageData.day_precision` is in the read models' order (their sort_key text, then id);
    `soonest_anniversaries` takes it for the dates' own order (fixed-width fields)."""
    rng = random.Random(21)
    texts = []
    for _ in range(3000):
        year = rng.choice((1000, 1899, 1999, 2000, 2997))
        month, day = f"-{rng.randint(1, 12):02d}", f"-{rng.randint(1, 28):02d}"
        start = str(year) + rng.choice(("", month, month + day))
        end = rng.choice(("", "", f"/{year + 1}", f"/{year + 1}{month}", f"/{year + 2}{month}-28"))
        texts.append((start + end, rng.random() < 0.3))
    dates = [HistoricalDate.parse(text, circa=circa) for text, circa in texts]
    assert sorted(dates, key=sort_key) == sorted(dates, key=HistoricalDate.sort_key)
    assert len({sort_key(date) for date in dates}) == len(set(dates))


def crowded(seed: int) -> list[MilestoneView]:
    """Many milestones on few month-days and dates, some in this year and later, the ids
    of one date in an order of the database's (reversed, then shuffled), not Python's."""
    rng = random.Random(seed)
    dates = [f"{rng.choice((1921, 1950, 1988, 2000, 2025, 2026, 2027, 2028))}-"
             f"{rng.choice(('02-28', '02-29', '03-01', '07-11'))}" for _ in range(400)]
    dates = [date for date in dates if not date.endswith("02-29")
             or calendar.isleap(int(date[:4]))]
    views = by_month_day(tuple(dates))
    by_date = itertools.groupby(views, key=lambda v: v.milestone.date)
    mixed = []
    for _, same in by_date:
        group = list(same)[::-1]
        rng.shuffle(group) if seed % 2 else None
        mixed += group
    return mixed


@pytest.mark.parametrize("rule", ["feb28", "mar1", "skip"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_crowded_day_shows_its_first_few_whatever_order_its_ids_came_in(
        rule: str, seed: int) -> None:
    """Dozens of milestones a date: the first few by date then id, and the count, as
    reading every milestone finds them (29 February landing beside 28 February or 1 March)."""
    views = crowded(seed)
    today = dt.date(2026, 1, 1)
    while today < dt.date(2029, 3, 10):
        every = every_one(views, today, rule)
        for shown in (1, 3, 10):
            upcoming = soonest_anniversaries(views, today, rule, shown)
            assert (upcoming.first, upcoming.count) == (every[:shown], len(every)), today
        today += dt.timedelta(days=3 if today.month not in (2, 3, 7) else 1)


@pytest.mark.parametrize("rule", ["feb28", "mar1", "skip"])
def test_on_1_january_the_scan_goes_round_into_this_year(rule: str) -> None:
    """Yesterday was in the year before: the month-days after going round are this year's
    (the scan once took them for next year's and stopped at 31 December)."""
    views = by_month_day(("1988-02-29", "2000-02-28", "1990-03-01", "1999-12-31"))
    for year in (2026, 2027, 2028, 2029):
        today = dt.date(year, 1, 1)
        assert next_anniversaries(views, today, rule) == every_one(views, today, rule), today
