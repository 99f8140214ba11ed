"""The search read model follows revisions and retractions, and a rebuild answers the same."""

from __future__ import annotations

from chronicle.projections import Projector, ReadModels
from chronicle.projections.jsonviews import unmarked
from chronicle.store import SqlEventStore
from tests.test_feeds_support import caught_up, milestone, record_all, retract_one, revise_one


def found(models: ReadModels, query: str) -> list[str]:
    return [hit.view.id for hit in models.search(query)]


def test_search_follows_every_change_and_survives_a_rebuild(store: SqlEventStore) -> None:
    record_all(store, [milestone(n, title=f"Khaan Quest exercise {n}") for n in range(3)])
    record_all(store, [milestone(3, title="Gobi Wolf")])
    models = caught_up(store)
    assert sorted(found(models, "khaan quest")) == [f"feed-milestone-{n}" for n in range(3)]
    assert found(models, "Person 3") == ["feed-milestone-3"]          # people are searched
    assert found(models, "passage quoted for 2")[0] == "feed-milestone-2"  # and quotes

    revise_one(store, milestone(0, title="Gobi Wolf exercise"))
    retract_one(store, "feed-milestone-1")
    models = caught_up(store)
    assert found(models, "khaan quest") == ["feed-milestone-2"]
    assert sorted(found(models, "gobi wolf")) == ["feed-milestone-0", "feed-milestone-3"]
    hit = models.search("wolf exercise")[0]
    assert unmarked(hit.title) == "Gobi Wolf exercise" and "\u2045" in hit.title
    before = {q: found(models, q) for q in ("khaan", "gobi wolf", "ulaanbaatar", "zebra")}
    assert before["zebra"] == [] and len(before["ulaanbaatar"]) == 3

    Projector(store).rebuild()
    assert {q: found(ReadModels(store.engine), q) for q in before} == before


def test_a_rebuild_in_small_batches_and_a_stopped_one_answer_the_same(
        store: SqlEventStore) -> None:
    """The rebuild indexes once at the end (SQLite's FTS5 index is suspended meanwhile), even
    when later batches replace rows of earlier ones; a rebuild stopped with its index suspended
    is indexed again by the next `prepare`."""
    from chronicle.projections.search import SearchProjection

    record_all(store, [milestone(n, title=f"Khaan Quest exercise {n}") for n in range(6)])
    revise_one(store, milestone(0, title="Gobi Wolf exercise"))
    retract_one(store, "feed-milestone-1")
    revise_one(store, milestone(2, title="Gobi Wolf drill"))
    queries = ("khaan", "gobi wolf", "exercise", "drill", "ulaanbaatar", "zebra")
    models = caught_up(store)
    before = {q: found(models, q) for q in queries}
    assert before["gobi wolf"] and before["khaan"] and before["zebra"] == []

    Projector(store, batch_size=2, rebuild_batch_size=2).rebuild()
    assert {q: found(ReadModels(store.engine), q) for q in queries} == before

    with store.engine.begin() as conn:   # what a rebuild stopped during its bulk load leaves
        SearchProjection().suspend_index(conn)
    record_all(store, [milestone(9, title="Khaan Quest closing")])
    projector = Projector(store)
    projector.catch_up()                 # rows written while the index is suspended
    projector.prepare()
    after = {q: found(ReadModels(store.engine), q) for q in queries}
    assert "feed-milestone-9" in after["khaan"]
    Projector(store).rebuild()
    assert {q: found(ReadModels(store.engine), q) for q in queries} == after


def test_search_behind_the_milestones_reads_their_rows(store: SqlEventStore) -> None:
    """Search rebuilt alone (its table dropped) while the milestones read model is current:
    no projection applied the revision beside it, so its rows come from rm_milestones."""
    from chronicle.projections import tables as t

    record_all(store, [milestone(n, title=f"Khaan Quest exercise {n}") for n in range(3)])
    revise_one(store, milestone(0, title="Gobi Wolf exercise"))
    retract_one(store, "feed-milestone-1")
    before = {q: found(caught_up(store), q) for q in ("gobi wolf", "khaan", "exercise")}
    assert before["gobi wolf"] == ["feed-milestone-0"]

    t.search.drop(store.engine)
    with store.engine.begin() as conn:
        conn.execute(t.checkpoints.delete().where(t.checkpoints.c.name == "search"))
    assert {q: found(caught_up(store), q) for q in before} == before
