"""Rebuild and catch-up of the read models, against the raw driver's floor.

The floor is what any projection must at least do: read every row of the log with the raw
driver, decode its JSON and write one row per event into a table shaped like our milestones
read model, committing per batch. Ours decodes domain events and keeps five tables.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chronicle.bench.figures import Sample
from chronicle.bench.payloads import EventFactory
from chronicle.bench.setup import SETUP
from chronicle.projections import Projector
from chronicle.projections.projector import REBUILD_BATCH
from chronicle.store import SqlEventStore

FLOOR_BATCH = REBUILD_BATCH   # the floor commits as often as our rebuild does
FLOOR_DDL = (
    "DROP TABLE IF EXISTS bench_floor",
    "CREATE TABLE bench_floor (id VARCHAR(80) PRIMARY KEY, title VARCHAR NOT NULL, "
    "sort_key VARCHAR(64) NOT NULL, precision VARCHAR(8) NOT NULL, year_start INTEGER NOT NULL, "
    "payload TEXT NOT NULL, recorded_at VARCHAR(32) NOT NULL, "
    "recorded_position BIGINT NOT NULL)",
    "CREATE INDEX ix_bench_floor_sort_key ON bench_floor (sort_key)",
    "CREATE INDEX ix_bench_floor_year_start ON bench_floor (year_start)",
    "CREATE INDEX ix_bench_floor_recorded_position ON bench_floor (recorded_position)",
)
FLOOR_INSERT = "INSERT OR REPLACE INTO bench_floor VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
FLOOR_SELECT = ("SELECT position, type, recorded_at, payload FROM chronicle_events "
                "WHERE position > ? ORDER BY position LIMIT ?")


def _floor_row(position: int, recorded_at: str, payload_json: str) -> tuple[Any, ...]:
    payload = json.loads(payload_json)
    date = payload.get("date") or {"date": "", "precision": ""}
    year = date["date"][:4]
    return (payload.get("id") or payload["milestone_id"], payload.get("title", ""), date["date"],
            date["precision"], int(year) if year.isdigit() else 0, payload_json, recorded_at,
            position)


def floor_rebuild(path: Path) -> float:
    """Events per second for the raw floor over the log at `path` (WAL, synchronous=FULL).

    Timed from dropping the previous run's table, as our rebuild is timed from dropping the
    previous read models: each side replaces what it built before. `drop_floor` cleans up.
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = FULL")
        started = time.perf_counter()
        for statement in FLOOR_DDL:
            conn.execute(statement)
        after, count = 0, 0
        while True:
            rows = conn.execute(FLOOR_SELECT, (after, FLOOR_BATCH)).fetchall()
            if not rows:
                break
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(FLOOR_INSERT, [_floor_row(p, r, j) for p, _, r, j in rows])
            conn.execute("COMMIT")
            after, count = rows[-1][0], count + len(rows)
        return count / (time.perf_counter() - started)
    finally:
        conn.close()


def drop_floor(path: Path) -> None:
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute(FLOOR_DDL[0])
    finally:
        conn.close()


def our_rebuild(store: SqlEventStore) -> float:
    """Events per second for Projector.rebuild (drop every read model, replay the log)."""
    started = time.perf_counter()
    count = Projector(store).rebuild()
    return count / (time.perf_counter() - started)


def catch_up_ms(store: SqlEventStore, factory: EventFactory, first_stream: int, repeats: int,
                ) -> float:
    """Median milliseconds for the projector to apply one newly appended milestone.

    Each catch-up ends in an fsync, which can wait for the file system's journal commit and
    the writeback of other files' dirty pages (ext4's ordered mode): the largest log is
    measured right after the rebuilds, the others right after their generation. `os.sync()`
    first lets every size start from a clean page cache, so the row compares catch-ups, not
    the writeback the bench's previous step left behind."""
    projector = Projector(store)
    with SETUP.timing("catching up logs"):
        projector.prepare()
        projector.catch_up()
        os.sync()
    times = []
    for i in range(repeats):
        event = factory.recorded(first_stream + i)
        store.append(event.stream_id, [event.event], 0)
        started = time.perf_counter()
        applied = projector.catch_up()
        times.append((time.perf_counter() - started) * 1000)
        assert applied == 1, f"catch-up applied {applied} events, not 1"
    return statistics.median(times)


def repeat(runs: int, measure: Callable[[], float], sample: Sample | None = None) -> Sample:
    sample = sample or Sample()
    for _ in range(runs):
        sample.runs.append(measure())
    return sample
