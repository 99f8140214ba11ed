"""Read models on SQLite and PostgreSQL: commands show, rebuilds are identical, kills are safe."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from chronicle.domain import retract, revise
from chronicle.projections import Projector, ReadModels, dump
from chronicle.projections.milestones import MilestonesProjection
from chronicle.projections.replay import compare_with_replay, replay_in_memory
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore, open_store
from tests.conftest import REPO
from tests.factories import generate_log, make_milestone, record_milestones


def caught_up(store: SqlEventStore) -> tuple[Projector, ReadModels]:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return projector, ReadModels(store.engine)


def all_tables(projector: Projector) -> list:
    return [table for p in projector.projections for table in p.tables()]


def test_record_revise_retract_show_in_every_read_model(store: SqlEventStore) -> None:
    record_milestones(store, [
        make_milestone(1, date="1987-01-27", tags=("diplomacy",)),
        make_milestone(2, date="2019-07-30/2019-08-02", tags=("diplomacy", "visits")),
        make_milestone(3, date="1988-04", tags=("trade",)),
    ])
    projector, models = caught_up(store)
    assert [v.id for v in models.milestones()] == ["milestone-1", "milestone-3", "milestone-2"]
    assert [v.id for v in models.on_this_day(1, 27)] == ["milestone-1"]
    assert [v.id for v in models.on_this_day(7, 30)] == ["milestone-2"]
    assert models.on_this_day(4, 1) == []  # month precision never enters the index
    assert {t.tag: t.count for t in models.tags()} == {"diplomacy": 2, "visits": 1, "trade": 1}
    assert [v.id for v in models.milestones(year=2019)] == ["milestone-2"]

    repo = MilestoneRepository(store)
    state = repo.get("milestone-1")
    changed = make_milestone(1, title="Relations established", date="1987-01-27",
                             tags=("diplomacy", "trade"))
    repo.save([Decision(state, revise(state, changed, "better wording"))], {})
    projector.catch_up()
    view = models.milestone("milestone-1")
    assert view is not None and view.milestone.title == "Relations established"
    assert view.revisions == 1 and view.updated_position > view.recorded_position
    assert view.updated_at >= view.recorded_at
    assert [(h.type, h.reason) for h in models.history("milestone-1")] == [
        ("MilestoneRecorded", None), ("MilestoneRevised", "better wording")]
    assert models.history("milestone-1")[1].changes["title"] == "Relations established"
    assert [v.id for v in models.milestones(tag="trade")] == ["milestone-1", "milestone-3"]

    state = repo.get("milestone-2")
    repo.save([Decision(state, retract(state, "no source supports it"))], {})
    projector.catch_up()
    assert models.milestone("milestone-2") is None
    assert models.on_this_day(7, 30) == []
    assert "visits" not in {t.tag for t in models.tags()}
    assert models.history("milestone-2") == []
    gone = models.retracted("milestone-2")
    assert gone is not None and gone.reason == "no source supports it"
    assert len(store.read_stream("milestone-milestone-2")) == 2  # still in the log
    assert compare_with_replay(store) == []


def test_rebuild_is_identical_row_for_row_to_incremental(store: SqlEventStore) -> None:
    projector = Projector(store, batch_size=13)
    projector.prepare()
    record_milestones(store, [make_milestone(n) for n in range(40)])
    projector.catch_up()
    generate_log_more(store)
    projector.catch_up()
    incremental = dump(store.engine, all_tables(projector))
    assert projector.rebuild() == store.head()
    assert dump(store.engine, all_tables(projector)) == incremental
    fresh, _ = replay_in_memory(store)
    assert dump(fresh.engine, all_tables(projector)) == incremental


def indexes(store: SqlEventStore, projector: Projector) -> dict[str, list[tuple]]:
    inspector = sa.inspect(store.engine)
    return {table.name: sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                               for i in inspector.get_indexes(table.name))
            for table in all_tables(projector)}


def test_rebuild_ends_with_every_index_of_the_tables(store: SqlEventStore) -> None:
    generate_log(store, 30)
    projector, _ = caught_up(store)
    built = indexes(store, projector)
    assert "ix_rm_milestone_tags_tag_pos" in {i[0] for i in built["rm_milestone_tags"]}
    projector.rebuild()
    assert indexes(store, projector) == built


def test_prepare_restores_the_indexes_a_stopped_rebuild_left_out(store: SqlEventStore) -> None:
    generate_log(store, 30)
    projector, _ = caught_up(store)
    built = indexes(store, projector)
    with store.engine.begin() as conn:  # what a rebuild killed during its bulk load leaves
        for table in all_tables(projector):
            for index in table.indexes:
                index.drop(conn)
    assert indexes(store, projector) != built
    Projector(store).prepare()
    assert indexes(store, projector) == built


def generate_log_more(store: SqlEventStore) -> None:
    repo = MilestoneRepository(store)
    decisions = []
    for n in range(0, 40, 3):
        state = repo.get(f"milestone-{n}")
        decisions.append(Decision(state, revise(state, make_milestone(n, title=f"New {n}"), "fix")))
    for n in (m for m in range(1, 40, 7) if m % 3):
        state = repo.get(f"milestone-{n}")
        decisions.append(Decision(state, retract(state, "withdrawn")))
    repo.save(decisions, {})


def test_catch_up_is_incremental(store: SqlEventStore) -> None:
    generate_log(store, 30)
    projector, _ = caught_up(store)
    record_milestones(store, [make_milestone(1000)])
    assert projector.catch_up() == 1
    assert projector.catch_up() == 0
    assert projector.position() == store.head()


def test_a_changed_projection_version_rebuilds_on_start(
        store: SqlEventStore, caplog: pytest.LogCaptureFixture) -> None:
    generate_log(store, 10)
    caught_up(store)
    before = dump(store.engine, list(MilestonesProjection().tables()))

    class Newer(MilestonesProjection):
        version = MilestonesProjection.version + 1

    with caplog.at_level(logging.WARNING):
        upgraded = Projector(store, [Newer()])
        upgraded.prepare()
    assert "rebuilding from the log" in caplog.text
    assert upgraded.position() == 0
    upgraded.catch_up()
    assert dump(store.engine, all_tables(upgraded)) == before


def test_as_of_shows_what_was_known_then(store: SqlEventStore) -> None:
    record_milestones(store, [make_milestone(1, title="First wording")])
    before_fix = store.head()
    repo = MilestoneRepository(store)
    state = repo.get("milestone-1")
    repo.save([Decision(state, revise(state, make_milestone(1, title="Corrected"), "typo"))], {})
    _, then = replay_in_memory(store, upto=before_fix)
    _, now = replay_in_memory(store)
    assert then.milestone("milestone-1").milestone.title == "First wording"
    assert now.milestone("milestone-1").milestone.title == "Corrected"


KILL_SCRIPT = """
import sys
from chronicle.projections import Projector
from chronicle.store import open_store
store = open_store(sys.argv[1])
projector = Projector(store, batch_size=int(sys.argv[2]))
projector.prepare()
print("ready", flush=True)
projector.catch_up()
print("done", flush=True)
"""


def test_sigkill_mid_projection_never_skips_or_double_applies(db_url: str) -> None:
    store = open_store(db_url)
    generate_log(store, 1500, seed=3)
    head = store.head()
    rng = random.Random(11)
    positions_at_kill = []
    try:
        for _ in range(8):
            proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, db_url, "25"],
                                    stdout=subprocess.PIPE, text=True, cwd=REPO,
                                    env={**os.environ, "PYTHONPATH": str(REPO)})
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.25))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            projector = Projector(store)
            positions_at_kill.append(projector.position())
            if positions_at_kill[-1] >= head:
                break
        assert any(0 < p < head for p in positions_at_kill), positions_at_kill
        projector = Projector(store)
        projector.prepare()
        projector.catch_up()
        assert projector.position() == head
        assert compare_with_replay(store) == []
    finally:
        store.close()


def test_verify_command_compares_read_models_with_a_replay(db_url: str) -> None:
    from tests.conftest import run_cli

    store = open_store(db_url)
    try:
        generate_log(store, 12)
        caught_up(store)
        assert run_cli("--database-url", db_url, "verify").code == 0
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE rm_milestones SET title = 'Forged' WHERE id = 'milestone-2'")
    finally:
        store.close()
    result = run_cli("--database-url", db_url, "verify")
    assert result.code == 1
    assert "hash chain intact" in result.stdout
    assert "rm_milestones: 1 row(s) only in the live read model" in result.stderr
