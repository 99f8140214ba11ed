"""What is due on a day and what it says: anniversaries, Feb 29, DST, digests, lengths."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from chronicle.config import PostingSettings
from chronicle.posting.anniversaries import Planner, due_at, month_days_on
from chronicle.posting.clock import FixedClock, ShiftedClock, SystemClock
from chronicle.posting.events import SKIPPED, TOO_LONG
from chronicle.posting.service import SKIPPED as SKIPPED_OUTCOME
from chronicle.posting.wakeups import Wakeups
from chronicle.projections import Projector, ReadModels
from chronicle.store import SqlEventStore, open_store
from tests.test_posting_support import (
    FORTIETH,
    RELATIONS,
    milestone,
    outbox_records,
    post_events,
    record_all,
    relations,
    retract_one,
    service_for,
    settings_for,
)

NY = "America/New_York"


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[SqlEventStore]:
    store = open_store(sqlite_url)
    yield store
    store.close()


def planner(store: SqlEventStore, tmp_path: Path, **posting: object) -> Planner:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    settings = settings_for(tmp_path, str(store.engine.url), **posting)
    return Planner(settings, ReadModels(store.engine))


def test_the_fortieth_is_due_on_january_27_at_nine_in_ulaanbaatar(
        sqlite_store: SqlEventStore, tmp_path: Path) -> None:
    record_all(sqlite_store, [relations()])
    plans = planner(sqlite_store, tmp_path).plan(dt.date(2027, 1, 27), ["outbox", "x"])
    assert [(p.key, p.stream_id) for p in plans] == [
        (f"{RELATIONS}/2027/outbox", f"post-{RELATIONS}-2027-outbox"),
        (f"{RELATIONS}/2027/x", f"post-{RELATIONS}-2027-x"),
    ]
    post = plans[0]
    assert post.due_at == dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
    assert post.years == (40,)
    assert post.text is not None and post.text.startswith(FORTIETH)
    assert post.text.endswith(f"https://chronicle.example.org/milestones/{RELATIONS}")


def test_only_day_precision_milestones_with_a_year_or_more_post(
        sqlite_store: SqlEventStore, tmp_path: Path) -> None:
    record_all(sqlite_store, [
        milestone("a-day", "2000-05-10"),
        milestone("a-month", "2000-05"),
        milestone("a-year", "2000"),
        milestone("a-range", "2001-05-10/2001-05-12"),
        milestone("this-very-day", "2027-05-10"),
        milestone("withdrawn", "1999-05-10"),
    ])
    retract_one(sqlite_store, "withdrawn")
    plans = planner(sqlite_store, tmp_path).plan(dt.date(2027, 5, 10), ["outbox"])
    assert {p.milestone_ids[0]: p.years[0] for p in plans} == {"a-day": 27, "a-range": 26}
    assert planner(sqlite_store, tmp_path).plan(dt.date(2027, 5, 11), ["outbox"]) == []


@pytest.mark.parametrize(("rule", "year", "expected"), [
    ("feb28", 2027, {dt.date(2027, 2, 28): 27}),
    ("mar1", 2027, {dt.date(2027, 3, 1): 27}),
    ("skip", 2027, {}),
    ("feb28", 2028, {dt.date(2028, 2, 29): 28}),
    ("mar1", 2028, {dt.date(2028, 2, 29): 28}),
    ("skip", 2028, {dt.date(2028, 2, 29): 28}),
])
def test_february_29_follows_the_configured_rule(
        sqlite_store: SqlEventStore, tmp_path: Path, rule: str, year: int,
        expected: dict[dt.date, int]) -> None:
    record_all(sqlite_store, [milestone("leap-day", "2000-02-29")])
    plan = planner(sqlite_store, tmp_path, feb29_rule=rule)
    days = [dt.date(year, 2, 28), dt.date(year, 3, 1)]
    days += [dt.date(year, 2, 29)] if year % 4 == 0 else []
    found = {d: p.years[0] for d in days for p in plan.plan(d, ["outbox"])}
    assert found == expected
    if found:
        (day,) = found
        text = plan.plan(day, ["outbox"])[0].text
        assert text is not None
        unit = "year" if found[day] == 1 else "years"
        assert text.startswith(f"{found[day]} {unit} ago today. February 29, 2000: ")


def test_month_days_on_names_feb29_only_where_the_rule_puts_it() -> None:
    assert month_days_on(dt.date(2027, 2, 28), "feb28") == [(2, 28), (2, 29)]
    assert month_days_on(dt.date(2027, 3, 1), "feb28") == [(3, 1)]
    assert month_days_on(dt.date(2028, 2, 28), "feb28") == [(2, 28)]


@pytest.mark.parametrize(("day", "utc_hour"), [
    (dt.date(2027, 3, 13), 14), (dt.date(2027, 3, 14), 13),   # EST, then EDT from 14 March
    (dt.date(2027, 11, 6), 13), (dt.date(2027, 11, 7), 14),   # EDT, then EST from 7 November
])
def test_posting_time_is_local_across_dst(day: dt.date, utc_hour: int) -> None:
    posting = PostingSettings(timezone=NY, time=dt.time(9, 0))
    expected = dt.datetime.combine(day, dt.time(utc_hour), tzinfo=dt.UTC)
    assert due_at(day, posting) == expected
    wakeups = Wakeups(lambda: None, zone=posting.zone, at=posting.time, clock=SystemClock())
    before = expected - dt.timedelta(hours=12)
    assert wakeups.next_daily(before) == expected  # APScheduler's cron agrees with us


def test_a_time_skipped_by_spring_forward_is_read_before_the_change() -> None:
    posting = PostingSettings(timezone=NY, time=dt.time(2, 30))
    expected = dt.datetime(2027, 3, 14, 7, 30, tzinfo=dt.UTC)  # 02:30 EST = 03:30 EDT
    assert due_at(dt.date(2027, 3, 14), posting) == expected
    wakeups = Wakeups(lambda: None, zone=posting.zone, at=posting.time, clock=SystemClock())
    assert wakeups.next_daily(dt.datetime(2027, 3, 14, 0, tzinfo=dt.UTC)) == expected


def test_shifted_clock_translates_the_daily_wake_to_real_time() -> None:
    start = dt.datetime(2027, 1, 27, 8, 59, 50, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    clock = ShiftedClock(start, rate=10.0)
    nine = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
    real = clock.to_real(nine)
    assert abs((real - dt.datetime.now(dt.UTC)).total_seconds() - 1.0) < 0.5
    assert abs((clock.to_clock(real) - nine).total_seconds()) < 1e-3


def test_digest_makes_one_post_for_the_day(sqlite_store: SqlEventStore, tmp_path: Path) -> None:
    record_all(sqlite_store, [relations(), milestone("other-27", "2026-01-27", title="Other")])
    plans = planner(sqlite_store, tmp_path, digest=True).plan(dt.date(2027, 1, 27), ["outbox"])
    assert len(plans) == 1
    (post,) = plans
    assert post.key == "digest-01-27/2027/outbox"
    assert post.stream_id == "post-digest-2027-01-27-outbox"
    assert post.milestone_ids == (RELATIONS, "other-27")
    assert post.text is not None and post.text.startswith("Today, January 27, we mark:")


def test_round_every_and_templates_come_from_settings(
        sqlite_store: SqlEventStore, tmp_path: Path) -> None:
    record_all(sqlite_store, [relations()])
    day = dt.date(2027, 1, 27)
    regular = planner(sqlite_store, tmp_path, round_every=[3]).plan(day, ["outbox"])[0]
    assert regular.text is not None and "40th" not in regular.text
    custom = planner(sqlite_store, tmp_path, template_round="{{ ordinal }}: {{ url }}")
    assert custom.plan(day, ["outbox"])[0].text == (
        f"40th: https://chronicle.example.org/milestones/{RELATIONS}")


def test_a_text_that_cannot_fit_is_skipped_never_sent(
        sqlite_store: SqlEventStore, tmp_path: Path) -> None:
    record_all(sqlite_store, [relations()])
    settings = settings_for(tmp_path, str(sqlite_store.engine.url),
                            template_round="{{ url }} " + "x" * 100_001)  # over even a file's
    clock = FixedClock(dt.datetime(2027, 1, 27, 1, 0, 5, tzinfo=dt.UTC))
    results = service_for(sqlite_store, settings, clock).post_due()
    assert [r.outcome for r in results] == [SKIPPED_OUTCOME]
    (skip,) = post_events(sqlite_store)
    assert (skip.type, skip.payload["reason"]) == (SKIPPED, TOO_LONG)
    assert outbox_records(settings) == []
