"""The CLI starts fast: help, the version and a command's help import none of the heavy modules.

Every `chronicle` run pays for what its imports load (the store and SQLAlchemy, the loader and
twitter-text's emoji regex, pages, feeds, posting, FastAPI, tweepy…), so the command modules
import those inside the commands that use them. A fresh interpreter runs the real entry point
and reports what it loaded, so a heavy import moved back to a module's top fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

HEAVY = ("sqlalchemy", "alembic", "twitter_text", "tweepy", "fastapi", "starlette", "uvicorn",
         "babel", "yaml", "jinja2", "chronicle.store", "chronicle.loader", "chronicle.pages",
         "chronicle.feeds", "chronicle.posting", "chronicle.publishers", "chronicle.projections",
         "chronicle.replication", "chronicle.web", "chronicle.site", "chronicle.domain",
         "chronicle.dates", "chronicle.bench")

# Runs `chronicle ARGS…` for each argument list given as JSON, then prints the loaded modules.
PROBE = """
import json, sys
from typer.main import get_command
from chronicle.cli import app, main

def paths(command, prefix=()):
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield [*prefix, name]
        yield from paths(sub, (*prefix, name))

runs = json.loads(sys.argv[1])
if runs == "every command":
    runs = [[*path, "--help"] for path in paths(get_command(app))]
for args in runs:
    sys.argv = ["chronicle", *args]
    try:
        main()
    except SystemExit as exit:
        assert exit.code in (0, None), (args, exit.code)
print(json.dumps({"runs": len(runs), "modules": sorted(sys.modules)}))
"""


def modules_after(runs: object) -> tuple[int, list[str]]:
    """How many commands ran, and the modules loaded once they had."""
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(runs)], capture_output=True,
                          text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["runs"], report["modules"]


def loaded_after(runs: object) -> tuple[int, list[str]]:
    """How many commands ran, and the heavy modules loaded once they had."""
    count, modules = modules_after(runs)
    return count, [m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["milestones", "--help"],
                                  ["post", "--help"], ["serve", "--help"]])
def test_help_and_version_import_no_heavy_module(args: list[str]) -> None:
    assert loaded_after([args]) == (1, [])


def test_no_command_help_imports_a_heavy_module() -> None:
    runs, heavy = loaded_after("every command")
    assert runs > 20   # every command and subcommand of the tree was asked for its help
    assert heavy == []


def test_the_probe_sees_what_a_command_imports_when_it_runs() -> None:
    """`schema` needs the loader: it is loaded by the run, not at start."""
    _, heavy = loaded_after([["schema"]])
    assert "chronicle.loader" in heavy


def test_a_sqlite_command_does_not_import_the_postgresql_driver(tmp_path: Path) -> None:
    """psycopg takes ~110 ms to import: only a PostgreSQL URL loads it."""
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    _, modules = modules_after([["--database-url", url, "db", "upgrade"],
                                ["--database-url", url, "verify"]])
    assert "chronicle.store.dialects" in modules and "chronicle.web.follower" not in modules
    assert not [m for m in modules if m == "psycopg" or m.startswith("psycopg.")]


def test_only_counting_a_post_imports_twitter_text(tmp_path: Path) -> None:
    """twitter-text compiles ~270 regular expressions at import (~0.7 s of CPU a process): a
    command that counts no post leaves it unloaded, though it imports the posting modules."""
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    _, modules = modules_after([["--database-url", url, "db", "upgrade"],
                                ["--database-url", url, "verify"]])
    assert "chronicle.posting.anniversaries" in modules
    assert "twitter_text" not in modules
    _, counting = modules_after([["check", "events"]])
    assert "twitter_text" in counting   # the loader weighs long title words as X does
