"""The append runs' turns: every contender writes all its calls once, in order, taking turns.

Real contenders on real SQLite files: the rows' recorded times show who wrote when.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from chronicle.bench import QUICK
from chronicle.bench.appends import SLICES, Turns, run_once, slices, time_turns, workloads
from chronicle.bench.contenders import OurStore, RawSqlite
from chronicle.bench.sites import SqliteSite
from chronicle.store.schema import TABLE_NAME

CALLS = 3 * SLICES + 7     # slices of unequal length


@pytest.mark.parametrize("count", [0, 1, SLICES - 1, SLICES, CALLS, 10_000])
def test_slices_cover_every_call_once_in_order(count: int) -> None:
    cut = slices(count)
    assert [index for first, end in cut for index in range(first, end)] == list(range(count))
    assert len(cut) == max(1, min(SLICES, count))
    assert all(end > first for first, end in cut) or count == 0
    lengths = [end - first for first, end in cut]
    assert max(lengths) - min(lengths) <= 1


def _rows(path: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT stream_id, stream_version, recorded_at FROM {TABLE_NAME} "
                            "ORDER BY position").fetchall()


def test_contenders_write_every_call_in_order_and_take_turns_in_alternate_order(
        tmp_path: Path) -> None:
    calls = workloads(dataclasses.replace(QUICK, single_events=CALLS))["single"]
    site = SqliteSite(tmp_path)
    contenders = [OurStore(), RawSqlite()]
    paths = []
    with site.fresh("ours") as ours, site.fresh("raw") as raw:
        for contender, place in zip(contenders, (ours, raw), strict=True):
            contender.open(place)
            assert place.path is not None
            paths.append(place.path)
        turns = [Turns(contender, calls) for contender in contenders]
        time_turns(turns, len(calls))
        for contender in contenders:
            contender.close()
        written = [_rows(path) for path in paths]
    expected = [(call[0].source.stream_id, call[0].source.stream_version) for call in calls]
    for rows, turn in zip(written, turns, strict=True):
        assert [(stream, version) for stream, version, _ in rows] == expected
        assert turn.events == CALLS and turn.elapsed > 0 and turn.rate > 0
    # Each slice's first row: ours before the ceiling's in even turns, after it in odd ones.
    for number, (first, _) in enumerate(slices(CALLS)):
        ours_first, raw_first = written[0][first][2], written[1][first][2]
        assert (ours_first < raw_first) == (number % 2 == 0), number


def test_a_run_names_each_contender_once_and_removes_its_databases(tmp_path: Path) -> None:
    calls = workloads(dataclasses.replace(QUICK, single_events=SLICES))["single"]
    rates = run_once(SqliteSite(tmp_path), "single", [OurStore, RawSqlite], calls)
    assert sorted(rates) == sorted([OurStore.name, RawSqlite.name])
    assert all(rate > 0 for rate in rates.values())
    assert list(tmp_path.iterdir()) == []
