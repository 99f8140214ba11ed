"""The rebuild's tuple rows and cached dates: each shortcut gives what the checked path gives."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, retract, revise
from chronicle.projections import Projector, dump
from chronicle.projections.base import insert_tuples
from chronicle.projections.milestone_rows import (
    canonical_columns,
    canonical_date,
    date_columns,
    stored_date,
)
from chronicle.projections.posts import posts
from chronicle.projections.replay import replay_in_memory
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import NewEvent, SqlEventStore
from chronicle.store.bulkwrite import CHECKPOINT_PAGES
from chronicle.store.hashing import canonical_json
from tests.factories import make_milestone, record_milestones

DATES = ["1987-01-27", "1988-04", "1862", "c. 1911-12-29", "2019-07-30/2019-08-02",
         "1990/1995", "circa 2003-08/2004"]


@pytest.mark.parametrize("text", DATES)
def test_a_cached_date_is_the_checked_date_with_its_columns(text: str) -> None:
    value = HistoricalDate.parse(text).to_json()
    for _ in range(2):  # computed, then from the cache
        found = stored_date(dict(value))
        assert found == (HistoricalDate.from_json(value), date_columns(found[0]))
    assert stored_date(dict(reversed(value.items()))) == found  # key order does not matter


def test_the_date_cache_never_answers_for_a_value_that_only_equals_a_canonical_one() -> None:
    value = HistoricalDate.parse("1987-01-27").to_json()
    assert stored_date(value) is not None
    assert stored_date(value | {"circa": 0}) is None        # 0 == False, but not a bool
    assert stored_date(value | {"circa": 0.0}) is None
    assert stored_date({k: v for k, v in value.items() if k != "circa"}) is None
    assert stored_date({k: v for k, v in value.items() if k != "end"}) is None
    assert stored_date(value | {"extra": None}) is None
    assert stored_date(value | {"end": ["1988"]}) is None   # unhashable
    assert stored_date(value | {"precision": "month"}) is None
    assert stored_date("1987-01-27") is None
    assert stored_date(None) is None


@pytest.mark.parametrize("text", DATES)
def test_canonical_columns_are_the_columns_of_the_milestones_date(text: str) -> None:
    milestone = make_milestone(2, date=text)
    payload = json.loads(canonical_json(milestone.to_payload()))
    found = canonical_columns(payload)
    assert found == (milestone.date, date_columns(milestone.date))
    assert canonical_date(payload) == milestone.date
    assert canonical_columns(payload | {"tags": tuple(payload["tags"])}) is None


def test_tuple_inserts_refuse_a_column_that_needs_its_bind_processor() -> None:
    engine = sa.create_engine("sqlite://")
    posts.metadata.create_all(engine, tables=[posts])
    with engine.begin() as conn, pytest.raises(AssertionError, match="local_date"):
        insert_tuples(conn, posts, [tuple(range(len(posts.columns)))])


def _odd_log(store: SqlEventStore) -> None:
    """Records, revisions across batches, retractions and non-canonical payloads."""
    record_milestones(store, [make_milestone(n, date=DATES[n % len(DATES)]) for n in range(12)])
    repo = MilestoneRepository(store)
    for n, title in ((1, "First revision"), (1, "Second revision"), (6, "Moved")):
        state = repo.get(f"milestone-{n}")
        changed = make_milestone(n, title=title, date="1921-07-11", tags=("trade", "aid"))
        repo.save([Decision(state, revise(state, changed, "better"))], {"by": "tests"})
    state = repo.get("milestone-2")
    repo.save([Decision(state, retract(state, "duplicate"))], {"by": "tests"})
    odd = make_milestone(20).to_payload()
    odd["date"] = {"date": "1999-03-04"}          # short date: decoded, stored canonical
    store.append("milestone-milestone-20", [NewEvent(type="MilestoneRecorded", payload=odd,
                                                                schema_version=2)], 0)
    change = {"milestone_id": "milestone-3", "reason": "short date",
              "changes": {"date": {"date": "1921-07-11", "circa": True}}}
    store.append("milestone-milestone-3", [NewEvent(type="MilestoneRevised", payload=change,
                                                    schema_version=2)], 1)


@pytest.mark.parametrize("batch", [1, 4, 1000])
def test_rebuilt_rows_equal_rows_caught_up_one_event_at_a_time(store: SqlEventStore,
                                                                batch: int) -> None:
    _odd_log(store)
    slow = Projector(store, batch_size=1)
    slow.prepare()
    slow.catch_up()
    tables = [table for p in slow.projections for table in p.tables()]
    expected = dump(store.engine, tables)
    rows = {r[0]: r for r in expected["rm_milestones"]}
    assert "milestone-2" not in rows and rows["milestone-1"][-1] == 2   # revisions
    assert json.loads(rows["milestone-20"][7]) == Milestone.from_payload(
        json.loads(rows["milestone-20"][7])).to_payload()
    assert Projector(store, rebuild_batch_size=batch, batch_size=batch).rebuild() == store.head()
    assert dump(store.engine, tables) == expected
    fresh, _ = replay_in_memory(store)
    assert dump(fresh.engine, tables) == expected


def test_a_rebuild_puts_back_each_connections_wal_checkpoint_interval(tmp_path: Path) -> None:
    from chronicle.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    record_milestones(store, [make_milestone(n) for n in range(30)])
    during: list[int] = []

    def at_commit(conn: sa.Connection) -> None:   # each transaction's setting, as it commits
        driver = conn.connection.driver_connection
        during.append(driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    sa.event.listen(store.engine, "commit", at_commit)
    try:
        assert Projector(store, rebuild_batch_size=7, batch_size=7).rebuild() == 30
    finally:
        sa.event.remove(store.engine, "commit", at_commit)
    # The five batches of 7 events, the empty one that ends the replay and the end's indexes
    # and derived rows ran with the rebuild's interval; every other transaction (schema,
    # checkpoints) with the default.
    assert during.count(CHECKPOINT_PAGES) == 7
    assert set(during) == {CHECKPOINT_PAGES, 1000}
    assert (tmp_path / "log.db-wal").stat().st_size == 0   # checkpointed and cut back
    connections = [store.engine.connect() for _ in range(3)]
    try:
        assert [c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
                for c in connections] == [1000] * 3
    finally:
        for conn in connections:
            conn.close()
        store.close()


def test_a_rebuild_relaxes_only_its_own_commits_and_ends_with_a_synced_one(
        tmp_path: Path) -> None:
    """Batches commit with synchronous=NORMAL (derived data, see projections/relaxed.py); the
    last commit of a rebuild is FULL, and every connection gets its own settings back."""
    from chronicle.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    record_milestones(store, [make_milestone(n) for n in range(30)])
    during: list[tuple[int, int]] = []

    def at_commit(conn: sa.Connection) -> None:
        driver = conn.connection.driver_connection
        during.append((driver.execute("PRAGMA synchronous").fetchone()[0],
                       driver.execute("PRAGMA secure_delete").fetchone()[0]))

    sa.event.listen(store.engine, "commit", at_commit)
    try:
        assert Projector(store, rebuild_batch_size=7, batch_size=7).rebuild() == 30
    finally:
        sa.event.remove(store.engine, "commit", at_commit)
    assert during.count((1, 2)) >= 6      # the six batches: NORMAL, FAST
    assert during[-1][0] == 2             # the indexes' commit: FULL, syncing all before it
    connections = [store.engine.connect() for _ in range(3)]
    try:
        settings = {(c.exec_driver_sql("PRAGMA synchronous").scalar(),
                     c.exec_driver_sql("PRAGMA secure_delete").scalar()) for c in connections}
    finally:
        for conn in connections:
            conn.close()
        store.close()
    default = sqlite3.connect(":memory:").execute("PRAGMA secure_delete").fetchone()[0]
    assert settings == {(2, default)}


def test_a_rebuild_reading_ahead_stops_just_before_an_unreadable_event(
        store: SqlEventStore) -> None:
    """The batch read ahead (on the read-ahead thread) holds the unreadable event: the rebuild
    still applies every event before it and stops there, as a catch-up one event at a time."""
    record_milestones(store, [make_milestone(n) for n in range(7)])
    store.append("milestone-milestone-bad", [NewEvent(
        type="MilestoneRecorded", payload={"id": "milestone-bad", "date": "not a date"},
        schema_version=1)], 0)
    record_milestones(store, [make_milestone(n) for n in range(7, 10)])
    bad = 8
    slow = Projector(store, batch_size=1)
    slow.prepare()
    slow.catch_up()
    tables = [table for p in slow.projections for table in p.tables()]
    expected = dump(store.engine, tables)
    assert slow.stopped is not None and slow.stopped.position == bad
    assert len(expected["rm_milestones"]) == bad - 1
    rebuilding = Projector(store, batch_size=2, rebuild_batch_size=2)
    assert rebuilding.rebuild() == bad - 1
    assert rebuilding.stopped is not None and rebuilding.stopped.position == bad
    assert "cannot be upcast" in rebuilding.stopped.reason
    assert rebuilding.position() == bad - 1
    assert dump(store.engine, tables) == expected
