"""A rebuild writes tags, on-this-day days and search rows once at its end, from rm_milestones
(Projection.restore_rows / restore_index): the read models must be those a catch-up writes
batch by batch, also when the rebuild stopped half-way and `prepare` finishes its work."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from chronicle.domain import retract, revise
from chronicle.projections import Projector, ReadModels, dump
from chronicle.projections import tables as t
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from tests.factories import make_milestone, record_milestones

QUERIES = ("milestone", "revised", "person 3", "ulaanbaatar", "passage", "zebra")


def _revise(store: SqlEventStore, n: int, **changes: Any) -> None:
    repo = MilestoneRepository(store)
    state = repo.get(f"milestone-{n}")
    repo.save([Decision(state, revise(state, make_milestone(n, **changes), "fix"))], {})


def _retract(store: SqlEventStore, n: int) -> None:
    repo = MilestoneRepository(store)
    state = repo.get(f"milestone-{n}")
    repo.save([Decision(state, retract(state, "withdrawn"))], {})


def _edits(store: SqlEventStore, first: int) -> None:
    """Revisions that change tags, titles and dates (to and from day precision: the on-this-day
    rows come and go), interleaved with a retraction and a new milestone."""
    _revise(store, first, title=f"Revised title {first}", tags=("trade", "visits"))
    _revise(store, first + 1, date="1950-03-04", tags=("culture",))
    record_milestones(store, [make_milestone(first + 20)])
    _revise(store, first, date="1921", tags=())
    _retract(store, first + 2)
    _revise(store, first + 3, title="Revised again", date="1990-12-31")


def _edited_log(store: SqlEventStore) -> None:
    record_milestones(store, [make_milestone(n) for n in range(10)])
    _edits(store, 0)
    _edits(store, 4)


def _read_models(store: SqlEventStore, projector: Projector) -> dict[str, Any]:
    """Every row of every read model, and what full-text search answers."""
    tables = [table for p in projector.projections for table in p.tables()]
    models = ReadModels(store.engine)
    hits = {q: [(h.view.id, h.title, h.snippet) for h in models.search(q)] for q in QUERIES}
    return {"rows": dump(store.engine, tables), "hits": hits}


def _caught_up_afresh(store: SqlEventStore) -> dict[str, Any]:
    """The read models dropped and caught up in small batches, every index in place."""
    projector = Projector(store, batch_size=3)
    tables = [table for p in projector.projections for table in p.tables()]
    t.CheckpointRow.metadata.drop_all(store.engine, tables=[*tables, t.checkpoints])
    projector.prepare()
    projector.catch_up()
    return _read_models(store, projector)


def test_a_rebuild_writes_the_tags_days_and_search_rows_a_catch_up_writes(
        store: SqlEventStore) -> None:
    _edited_log(store)
    incremental = _caught_up_afresh(store)
    rows = incremental["rows"]
    assert rows["rm_milestone_tags"] and rows["rm_on_this_day"] and rows["rm_search"]
    assert ("03-04", "milestone-1") in [tuple(r) for r in rows["rm_on_this_day"]]
    assert not [r for r in rows["rm_milestone_tags"] if r[0] == "milestone-0"]   # tags=()
    assert incremental["hits"]["revised"] and incremental["hits"]["zebra"] == []
    for batch in (4, 5000):
        projector = Projector(store, batch_size=batch, rebuild_batch_size=batch)
        assert projector.rebuild() == store.head()
        assert _read_models(store, projector) == incremental


class _Killed(Exception):
    """Stands for the process dying after a rebuild's batch was committed."""


def _kill_after(position: int) -> Callable[[int, int], None]:
    def progress(reached: int, _head: int) -> None:
        if reached >= position:
            raise _Killed
    return progress


@pytest.mark.parametrize("caught_up_first", [False, True])
def test_prepare_writes_the_rows_a_stopped_rebuild_left_out(
        store: SqlEventStore, caught_up_first: bool) -> None:
    """A rebuild killed after some batches left tags, days and search rows out (its history
    and full-text indexes missing); a catch-up may have run since, writing its own batches'
    rows; the next `prepare` writes them all as a catch-up with every index would have."""
    _edited_log(store)
    with pytest.raises(_Killed):
        Projector(store, batch_size=4, rebuild_batch_size=4).rebuild(_kill_after(12))
    projector = Projector(store, batch_size=3)
    assert 12 <= projector.position() < store.head()   # milestones 8 and 9: never edited
    if caught_up_first:
        projector.catch_up()
    _revise(store, 3, title="Revised after the kill", tags=("education",))
    record_milestones(store, [make_milestone(40)])
    _retract(store, 5)
    Projector(store).prepare()
    projector.catch_up()
    assert sa.inspect(store.engine).has_index(t.history.name, t.HISTORY_INDEX)
    left = _read_models(store, projector)
    assert {r[0] for r in left["rows"]["rm_milestone_tags"]} >= {"milestone-8", "milestone-9"}
    assert left == _caught_up_afresh(store)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_prepare_restores_in_a_write_transaction_another_writer_cannot_slip_into(
        store: SqlEventStore, db_url: str) -> None:
    """`prepare`'s restore (also a rebuild's end) reads before it writes. Begun as a read, a
    write committed by another process after its first read made its own first write fail at
    once with "database is locked" (SQLite cannot upgrade a stale snapshot; the busy timeout
    does not apply), as two replicas starting together found. A real second connection tries
    to commit after the first statement of each of the engine's transactions."""
    _edited_log(store)
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    path = store.engine.url.database
    assert path
    with sqlite3.connect(path, isolation_level=None, timeout=0) as other:
        other.execute("CREATE TABLE interloper (n INTEGER)")
    slipped: list[str] = []
    since_begin = [-1]   # statements since the transaction began (-1: none, or done)

    def interlope(statement: str) -> None:
        """Traced before each statement runs: at the second, the first has read."""
        if statement.startswith("BEGIN"):
            since_begin[0] = 0
        elif since_begin[0] >= 0:
            since_begin[0] += 1
        if since_begin[0] == 2:
            since_begin[0] = -1
            other = sqlite3.connect(path, isolation_level=None, timeout=0)
            try:
                other.execute("INSERT INTO interloper VALUES (1)")
                slipped.append(statement)
            except sqlite3.OperationalError:   # the write lock is held: nobody slips in
                pass
            finally:
                other.close()

    @sa.event.listens_for(store.engine, "connect")
    def _traced(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_trace_callback(interlope)

    store.engine.dispose()      # new connections, traced
    Projector(store).prepare()   # raised "database is locked" when begun as a read
    assert slipped, "the interloper never committed: the test would show nothing"
