"""The real `chronicle load`, `check` and `schema` commands, run as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from chronicle.config import Settings
from chronicle.loader import json_schema, load_sources
from chronicle.store import open_store
from tests.conftest import REPO, run_cli
from tests.test_loader_load import dump, file_milestones
from tests.test_loader_validation import CASES, variant, write_case_files

NOWHERE = "postgresql+psycopg://x@127.0.0.1:1/x"
NO_CONFIG = {"CHRONICLE_CONFIG": ""}
"""Run in tmp_path with the default settings: sources events/*.yaml under the working directory."""


def copy_events(tmp_path: Path) -> Path:
    target = tmp_path / "events"
    target.mkdir()
    for path in (REPO / "events").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def test_dry_run_shows_the_field_diff_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    events = copy_events(tmp_path)
    count = len(file_milestones(events))
    store = open_store(db_url)
    try:
        load_sources(store, Settings(base_dir=tmp_path, database_url=db_url))
        before = dump(store)
        file = events / "02-establishment.yaml"
        text = file.read_text(encoding="utf-8")
        line = text.splitlines().index("  - id: diplomatic-relations-established") + 1
        old = "The United States and Mongolia establish diplomatic relations"
        file.write_text(text.replace(old, "Relations are established"), encoding="utf-8")
        dry = run_cli("--database-url", db_url, "load", "-v", "--dry-run", cwd=tmp_path,
                      env=NO_CONFIG)
        assert dry.code == 0, dry.stderr
        assert dry.stdout.splitlines() == [
            f"revised   diplomatic-relations-established (events/02-establishment.yaml:{line}): "
            "edited in events/02-establishment.yaml",
            f'    title: "{old}" → "Relations are established"',
            f"8 files: 0 new, 1 revised, 0 retracted, {count - 1} unchanged (dry run: nothing "
            "written)",
        ]
        assert dump(store) == before
    finally:
        store.close()


def test_every_bad_file_is_listed_exit_2_and_the_log_is_untouched(db_url: str,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "good.yaml").write_text(variant("good"), encoding="utf-8")
    store = open_store(db_url)
    try:
        load_sources(store, Settings(base_dir=tmp_path, database_url=db_url))
        before = dump(store)
        write_case_files(tmp_path / "cases", CASES)
        result = run_cli("--database-url", db_url, "load", "events", "cases", cwd=tmp_path,
                         env=NO_CONFIG)
        assert result.code == 2
        lines = result.stderr.strip().splitlines()
        expected = [e for case in CASES for e in case.expected]
        for file, line, field, fragment in expected:
            start = f"cases/{file}:{line}: {field}: "
            message = fragment.replace("{prefix}", "cases/")
            assert any(x.startswith(start) and message in x for x in lines), (start, message)
        assert len(lines) == len(expected) + 1
        files = len({file for file, *_ in expected})
        assert lines[-1] == f"{len(expected)} problems in {files} files; nothing was loaded"
        assert dump(store) == before
    finally:
        store.close()


def test_database_down_is_exit_1_in_one_line_but_bad_files_still_exit_2(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    good = tmp_path / "events" / "good.yaml"
    good.write_text(variant("good"), encoding="utf-8")
    down = run_cli("--database-url", NOWHERE, "load", cwd=tmp_path, env=NO_CONFIG)
    assert down.code == 1
    (line,) = down.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the database at postgresql+psycopg://x@127.0.0.1:1/x")
    good.write_text(variant("good", ('"1991-08"', '"1991-02-30"')), encoding="utf-8")
    bad = run_cli("--database-url", NOWHERE, "load", cwd=tmp_path, env=NO_CONFIG)
    assert bad.code == 2
    assert bad.stderr.splitlines()[0] == (
        "events/good.yaml:4: date: 1991-02-30: February 1991 has no day 30")


def test_check_needs_no_database(tmp_path: Path) -> None:
    count = len(file_milestones(REPO / "events"))
    fine = run_cli("--database-url", NOWHERE, "check")
    assert fine.code == 0, fine.stderr
    *warnings, summary = fine.stdout.strip().splitlines()
    assert summary == f"8 files, {count} milestones: no problems"
    assert all(line.startswith("warning: events/") for line in warnings)  # inferred names
    (tmp_path / "typo.yaml").write_text(variant("typo", ("    title:", "    titel:")), "utf-8")
    typo = run_cli("--database-url", NOWHERE, "check", str(tmp_path), cwd=tmp_path,
                   env=NO_CONFIG)
    assert typo.code == 2
    assert typo.stderr.strip().splitlines() == [
        "typo.yaml:2: title: is required but missing",
        "typo.yaml:3: titel: unknown field 'titel' (did you mean 'title'?)",
        "2 problems in 1 file; see events/README.md",
    ]


def test_schema_command_prints_the_json_schema() -> None:
    result = run_cli("schema")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == json_schema()
