"""What the command line shows at 80 columns: ids and stream names whole, help with defaults."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import run_cli

NARROW = {"COLUMNS": "80"}


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-output') / 'chronicle.db'}"
    loaded = run_cli("--database-url", url, "load")
    assert loaded.code == 0, loaded.stderr
    return url


def _ids(url: str) -> list[str]:
    listed = run_cli("--database-url", url, "milestones", "--json")
    return [m["id"] for m in json.loads(listed.stdout)]


def test_milestones_at_80_columns_show_every_id_whole_and_showable(loaded_db: str) -> None:
    ids = _ids(loaded_db)
    assert max(map(len, ids)) > 30  # long enough that a shared 80 columns used to cut them
    table = run_cli("--database-url", loaded_db, "milestones", env=NARROW)
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    first_words = {line.split()[0] for line in lines if line.strip()}
    assert set(ids) <= first_words, sorted(set(ids) - first_words)
    assert "…" not in table.stdout
    longest = max(ids, key=len)
    shown = run_cli("--database-url", loaded_db, "show", longest, env=NARROW)
    assert shown.code == 0 and longest in shown.stdout, shown.stderr


def test_log_at_80_columns_shows_every_stream_whole(loaded_db: str) -> None:
    log = run_cli("--database-url", loaded_db, "log", env=NARROW)
    assert log.code == 0, log.stderr
    heads = [line.split() for line in log.stdout.splitlines() if re.match(r"^\d+ ", line)]
    streams = {f"milestone-{mid}" for mid in _ids(loaded_db)}
    assert {head[1] for head in heads} >= streams
    assert all(len(line) <= 80 for line in log.stdout.splitlines())


def test_log_stream_takes_a_milestone_id_or_a_stream_name(loaded_db: str) -> None:
    milestone_id = _ids(loaded_db)[0]
    by_id = run_cli("--database-url", loaded_db, "log", "--json", "--stream", milestone_id)
    by_stream = run_cli("--database-url", loaded_db, "log", "--json", "--stream",
                        f"milestone-{milestone_id}")
    assert by_id.code == 0, by_id.stderr
    events = [json.loads(line) for line in by_id.stdout.splitlines()]
    assert events and {e["stream"] for e in events} == {f"milestone-{milestone_id}"}
    assert by_id.stdout == by_stream.stdout


COMMANDS = [[], ["log"], ["milestones"], ["show"], ["load"], ["serve"], ["export"], ["upcoming"],
            ["post"], ["copy-log"], ["export-log"], ["backup"], ["bench"], ["db", "upgrade"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "chronicle")
def test_help_shows_no_bool_metavar_and_every_default(command: list[str]) -> None:
    helped = run_cli(*command, "--help", env={"COLUMNS": "300"})
    assert helped.code == 0, helped.stderr
    assert "<bool>" not in helped.stdout
    options = [line for line in helped.stdout.splitlines() if re.match(r"^│[ *]+--", line)]
    assert options, helped.stdout
    for line in options:
        if re.match(r"^│[ *]+--help", line):
            continue
        assert "default" in line.lower() or "[required]" in line, line
        assert not re.search(r"\w \.(\s|$)", line), f"a [key] was eaten as markup: {line}"


def test_serve_help_names_the_settings_behind_its_defaults() -> None:
    helped = run_cli("serve", "--help", env={"COLUMNS": "300"})
    assert "setting server.host: 127.0.0.1" in helped.stdout
    assert "setting server.port: 8000" in helped.stdout
