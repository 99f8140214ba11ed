"""The scheduler in-process: leadership locks and wake-ups on a shifted clock (SQLite and PG)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chronicle.posting import events as ev
from chronicle.posting.clock import ShiftedClock, clock_from_env
from chronicle.posting.leadership import LOCK_NAME, FileLeadership, leadership_for
from chronicle.posting.runner import SchedulerHandle, start_scheduler
from chronicle.store import SqlEventStore, open_store
from chronicle.store.heldlocks import _KEY, LOCK_CLASS
from tests.test_posting_support import (
    FORTIETH,
    RELATIONS,
    outbox_records,
    post_events,
    record_all,
    relations,
    settings_for,
)

UB = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def store(db_url: str) -> Iterator[SqlEventStore]:
    opened = open_store(db_url)
    record_all(opened, [relations()])
    yield opened
    opened.close()


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_one_leader_at_a_time_and_takeover_on_release(store: SqlEventStore) -> None:
    first, second = leadership_for(store.engine), leadership_for(store.engine)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.still_held()
    first.release()
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()


@pytest.mark.postgres
def test_a_dead_leaders_connection_frees_the_lock(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        first, second = leadership_for(store.engine), leadership_for(store.engine)
        assert first.try_acquire()
        with store.engine.connect() as admin:   # only this schema's leader: tests run in parallel
            killed = admin.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND granted "
                f"AND classid = :cls AND objsubid = 2 AND objid::bigint = ({_KEY}::bigint "
                "& 4294967295)"), {"cls": LOCK_CLASS, "name": LOCK_NAME}).scalars().all()
            admin.commit()
        assert killed == [True], killed
        assert wait_for(second.try_acquire, 5)
        assert not first.still_held()
        second.release()
    finally:
        store.close()


def test_file_lock_is_per_database(tmp_path: Path) -> None:
    a, b = FileLeadership(tmp_path / "a.lock"), FileLeadership(tmp_path / "b.lock")
    assert a.try_acquire() and b.try_acquire()
    a.release()
    b.release()


def test_the_daily_wake_posts_at_nine_on_a_shifted_clock(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = ShiftedClock(dt.datetime(2027, 1, 27, 8, 59, 57, tzinfo=UB), rate=3.0)
    handle = start_scheduler(settings, store, clock=clock, environ={}, lock_retry_seconds=0.2)
    try:
        assert wait_for(lambda: handle.leading, 5)
        assert outbox_records(settings) == []
        assert wait_for(lambda: outbox_records(settings), 15)
    finally:
        handle.shutdown()
    (line,) = outbox_records(settings)
    assert line["text"].startswith(FORTIETH)
    (claim,) = post_events(store, ev.CLAIMED)
    claimed_at = dt.datetime.fromisoformat(claim.payload["claimed_at"])
    nine = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
    assert nine <= claimed_at < nine + dt.timedelta(seconds=30)


def test_a_standby_takes_over_when_the_leader_stops(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    start = dt.datetime(2027, 1, 27, 9, 0, 30, tzinfo=UB)  # due, inside the grace window
    leader = start_scheduler(settings, store, clock=ShiftedClock(start, rate=0.001),
                             environ={}, lock_retry_seconds=0.2)
    standby: SchedulerHandle | None = None
    try:
        assert wait_for(lambda: leader.leading, 5)
        assert wait_for(lambda: outbox_records(settings), 10)  # posted on becoming leader
        standby = start_scheduler(settings, store, clock=ShiftedClock(start, rate=0.001),
                                  environ={}, lock_retry_seconds=0.2)
        time.sleep(0.5)
        assert not standby.leading
        leader.shutdown()
        assert wait_for(lambda: standby.leading, 5)
        standby.run_pass()
    finally:
        leader.shutdown()
        if standby is not None:
            standby.shutdown()
    assert [r["key"] for r in outbox_records(settings)] == [f"{RELATIONS}/2027/outbox"]
    assert len(post_events(store, ev.CLAIMED)) == 1


def test_fake_now_from_the_environment() -> None:
    clock = clock_from_env({"CHRONICLE_FAKE_NOW": "2027-01-27T08:59:50+08:00",
                            "CHRONICLE_FAKE_NOW_RATE": "60"})
    assert isinstance(clock, ShiftedClock)
    time.sleep(0.1)
    elapsed = (clock.now() - dt.datetime(2027, 1, 27, 0, 59, 50, tzinfo=dt.UTC)).total_seconds()
    assert 5 <= elapsed < 60
    with pytest.raises(ValueError, match="UTC offset"):
        clock_from_env({"CHRONICLE_FAKE_NOW": "2027-01-27T08:59:50"})
    assert type(clock_from_env({})).__name__ == "SystemClock"
