"""`chronicle bench --quick` end to end: it finishes and reports every figure as a number.

Whether a ratio meets its target depends on the machine; this test never asserts that.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from chronicle.bench.serving import ALTERNATIVES
from tests.conftest import run_cli

SQLITE_ROWS = [
    "appends.sqlite.batch", "appends.sqlite.batch.executemany",
    "appends.sqlite.single", "appends.sqlite.single.executemany",
    "rebuild.sqlite", "catch-up.5000", "catch-up.20000",
    "serve.200.rps", "serve.200.p99", "serve.304.rps", "serve.304.p99",
    "serve.200.rps.uvicorn-2-workers", "serve.304.rps.uvicorn-2-workers",
    "serve.200.rps.granian-2-workers", "serve.304.rps.granian-2-workers",
    "feeds.5000", "pages.1000", "export.500",
]
POSTGRES_ROWS = [
    "appends.postgres.batch", "appends.postgres.batch.executemany", "appends.postgres.batch.copy",
    "appends.postgres.single", "appends.postgres.single.executemany",
]


def _postgres_or_none(request: pytest.FixtureRequest) -> str | None:
    try:
        return str(request.getfixturevalue("postgres_server"))
    except pytest.skip.Exception:
        return None


ALTERNATIVE_ROWS = {f"serve.{code}.rps.{choice.slug}" for choice in ALTERNATIVES
                    for code in (200, 304)}


def _assert_measured(row: dict[str, object]) -> None:
    """Numbers on both sides: every run of what a target compares and of our default (the
    left side of every row but an alternative's), at least one run of anything else."""
    assert row["skipped"] is None, f"{row['name']} was skipped: {row['skipped']}"
    for side in ("ours", "peer"):
        figure = row[side]
        assert isinstance(figure, dict), f"{row['name']}: no {side} figures"
        runs = figure["runs"]
        ours = side == "ours" and row["name"] not in ALTERNATIVE_ROWS
        name = str(row["name"])
        every = 5 if name.startswith("appends.") and ".single" in name else 3   # single_runs
        least = every if row["target"] or ours else 1
        assert isinstance(runs, list) and len(runs) >= least, f"{row['name']}: {side} {runs}"
        assert all(isinstance(v, float | int) and math.isfinite(v) and v > 0 for v in runs)
        assert figure["min"] <= figure["median"] <= figure["max"]
    ratio = row["ratio"]
    assert isinstance(ratio, float) and math.isfinite(ratio) and ratio > 0


@pytest.mark.slow  # about two minutes: left out of the quick subset
@pytest.mark.timeout(600)  # it shares 2 cores with the other test worker (pytest -n 2)
def test_quick_bench_reports_every_row_with_numbers(tmp_path: Path,
                                                    request: pytest.FixtureRequest) -> None:
    postgres = _postgres_or_none(request)
    out, work = tmp_path / "bench.json", tmp_path / "work"
    work.mkdir()
    args = ["bench", "--quick", "--json", str(out), "--work-dir", str(work)]
    if postgres:
        args += ["--postgres", postgres]
    # Every group must ignore the caller's CHRONICLE_* settings: with these, `serve` once
    # measured the caller's empty database (a 1 KB feed) instead of the one the bench made.
    caller = tmp_path / "caller.db"
    env = {"CHRONICLE_DATABASE_URL": f"sqlite:///{caller}", "CHRONICLE_FEED__MAIN_SIZE": "1"}
    result = run_cli(*args, env=env, timeout=570)
    assert result.code == 0, result.stderr[-3000:]
    assert not caller.exists(), "the bench touched the caller's database"
    assert "appends" in result.stderr           # progress went to stderr
    assert "ratio" in result.stdout             # the table went to stdout

    data = json.loads(out.read_text(encoding="utf-8"))
    # Everything was written under --work-dir, and removed at the end.
    assert any(note.startswith(f"work directory {work}/chronicle-bench-")
               for note in data["notes"]), data["notes"]
    assert list(work.iterdir()) == []
    assert data["quick"] is True and data["commit"] and data["date"] and data["machine"]["cpus"]
    rows = {row["name"]: row for row in data["rows"]}
    assert set(rows) == set(SQLITE_ROWS + POSTGRES_ROWS)
    for name in SQLITE_ROWS:
        _assert_measured(rows[name])
    for name in POSTGRES_ROWS:
        if postgres:
            _assert_measured(rows[name])
        else:
            assert rows[name]["skipped"] and rows[name]["ours"] is None
    served = re.search(r"\((\d+) KB\)", rows["serve.200.rps"]["figure"])
    assert served and int(served.group(1)) >= 20, rows["serve.200.rps"]["figure"]
    targets = [row for row in rows.values() if row["target"]]
    assert all(isinstance(row["met"], bool) for row in targets if not row["skipped"])


def test_a_work_dir_that_is_not_a_directory_is_refused_before_anything_runs(
        tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = run_cli("bench", "--quick", "--work-dir", str(missing))
    assert result.code == 2
    assert f"--work-dir: {missing} is not an existing directory" in result.stderr
    assert not missing.exists()
