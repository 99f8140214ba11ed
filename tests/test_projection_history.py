"""rm_history, keyed by position: lookups by milestone stay ordered and indexed, and the history
of a retracted milestone goes, also when a rebuild's batches leave its deletion to the end."""

from __future__ import annotations

import sqlalchemy as sa

from chronicle.domain import retract, revise
from chronicle.pages.pagedata import histories
from chronicle.projections import Projector, ReadModels, dump
from chronicle.projections import tables as t
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from tests.factories import make_milestone, record_milestones


def _revise(store: SqlEventStore, n: int, title: str) -> None:
    repo = MilestoneRepository(store)
    state = repo.get(f"milestone-{n}")
    repo.save([Decision(state, revise(state, make_milestone(n, title=title), "fix"))], {})


def _retract(store: SqlEventStore, n: int) -> None:
    repo = MilestoneRepository(store)
    state = repo.get(f"milestone-{n}")
    repo.save([Decision(state, retract(state, "withdrawn"))], {})


def _edited_log(store: SqlEventStore) -> None:
    """Six milestones; revisions of several interleaved; two retracted after revisions."""
    record_milestones(store, [make_milestone(n) for n in range(6)])
    for n, title in ((3, "a"), (1, "b"), (3, "c"), (5, "d"), (4, "e"), (3, "f"), (1, "g")):
        _revise(store, n, title)
    _retract(store, 4)
    _retract(store, 1)


def _plan(conn: sa.Connection, query: sa.Select) -> str:
    text = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {text}"))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")   # a few rows: it would scan
    return " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {text}"))


def test_a_milestones_history_is_in_position_order_and_read_through_the_index(
        store: SqlEventStore) -> None:
    _edited_log(store)
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    models = ReadModels(store.engine)
    trail = models.history("milestone-3")
    assert [h.type for h in trail] == ["MilestoneRecorded"] + ["MilestoneRevised"] * 3
    assert [h.changes.get("title") for h in trail] == [None, "a", "c", "f"]
    positions = [h.position for h in trail]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert histories(models, ["milestone-5", "milestone-3", "milestone-0"]) == {
        "milestone-0": models.history("milestone-0"), "milestone-3": trail,
        "milestone-5": models.history("milestone-5")}
    one = (sa.select(t.history).where(t.history.c.milestone_id == "milestone-3")
           .order_by(t.history.c.position))
    some = (sa.select(t.history).where(t.history.c.milestone_id.in_(["milestone-3", "x"]))
            .order_by(t.history.c.milestone_id, t.history.c.position))
    with store.engine.begin() as conn:
        plan = _plan(conn, one)   # one milestone's rows come in the index's order
        assert _searched_by_milestone(plan) and "TEMP B-TREE" not in plan and "Sort" not in plan
        assert _searched_by_milestone(_plan(conn, some))


def _searched_by_milestone(plan: str) -> bool:
    """The history index looked up by milestone (not scanned whole, filtering each entry)."""
    return t.HISTORY_INDEX in plan and ("(milestone_id=?)" in plan   # SQLite
                                        or "Index Cond: ((milestone_id)" in plan)


def test_a_rebuild_in_small_batches_drops_the_history_of_milestones_retracted_later(
        store: SqlEventStore) -> None:
    """Batches of 4 events: milestones 1 and 4 are retracted batches after their history was
    written, while the rebuild has no index to delete it by; the end of the rebuild does."""
    _edited_log(store)
    projector = Projector(store, batch_size=4, rebuild_batch_size=4)
    projector.prepare()
    projector.catch_up()
    tables = [table for p in projector.projections for table in p.tables()]
    incremental = dump(store.engine, tables)
    assert projector.rebuild() == store.head()
    assert dump(store.engine, tables) == incremental
    models = ReadModels(store.engine)
    assert models.history("milestone-1") == [] and models.history("milestone-4") == []
    assert len(models.history("milestone-3")) == 4


def test_prepare_deletes_the_history_a_stopped_rebuild_left(store: SqlEventStore) -> None:
    """A retraction applied while the index is missing (a rebuild killed in its bulk load,
    then caught up) leaves the history to the next `prepare`, which rebuilds the index."""
    _edited_log(store)
    _revise(store, 2, "h")
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    with store.engine.begin() as conn:
        next(i for i in t.history.indexes if i.name == t.HISTORY_INDEX).drop(conn)
    _retract(store, 2)
    projector.catch_up()
    left = ReadModels(store.engine).history("milestone-2")
    assert [h.type for h in left] == ["MilestoneRecorded", "MilestoneRevised"]
    Projector(store).prepare()
    assert ReadModels(store.engine).history("milestone-2") == []
    assert len(ReadModels(store.engine).history("milestone-3")) == 4
