"""Every bad input a user can give the real command line: one clear line, exit 1 or 2.

`CASES` is the list new commands join: the arguments (with `{db}`, `{tmp}` and the values of
the fixtures a case `needs` filled in), the environment, the exit code, and what the one line
says. Each runs `python -m chronicle` in a subprocess against a SQLite log holding the shipped
data set; none may print a traceback.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import run_cli

BAD_INPUT, FAILURE = 2, 1


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    code: int
    says: str
    env: dict[str, str] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # fixtures whose values fill the arguments


CASES = [
    Case("year out of range", ("milestones", "--year", "99999999999999999999"), BAD_INPUT,
         "--year: 99999999999999999999 is not a year (1 to 9999)"),
    Case("negative year", ("milestones", "--year", "-5"), BAD_INPUT, "--year: -5 is not a year"),
    Case("month-day that does not exist", ("milestones", "--on", "02-30"), BAD_INPUT,
         "--on: '02-30' is not a month and day"),
    Case("log position too large", ("log", "--after", "99999999999999999999"), BAD_INPUT,
         "--after: 99999999999999999999 is not a log position"),
    Case("unknown stream", ("log", "--stream", "no-such-thing"), BAD_INPUT,
         "--stream: 'no-such-thing' is neither a stream nor a milestone id"),
    Case("setting from the environment", ("milestones",), BAD_INPUT,
         "environment variable CHRONICLE_POSTING__TIMEZONE: posting.timezone: unknown time zone",
         env={"CHRONICLE_POSTING__TIMEZONE": "Mars/Olympus_Mons"}),
    Case("nested setting from the environment", ("serve",), BAD_INPUT,
         "environment variable CHRONICLE_SERVER__PORT: server.port:",
         env={"CHRONICLE_SERVER__PORT": "99999"}),
    Case("list setting that is not JSON", ("milestones",), BAD_INPUT,
         "environment variable CHRONICLE_POSTING__ROUND_EVERY: not valid JSON",
         env={"CHRONICLE_POSTING__ROUND_EVERY": "5,10"}),
    Case("unknown setting in the environment", ("milestones",), BAD_INPUT,
         "environment variable CHRONICLE_FEED__TITEL: feed.titel: unknown setting",
         env={"CHRONICLE_FEED__TITEL": "typo"}),
    Case("serve on a busy port", ("serve", "--host", "127.0.0.1", "--port", "{busy_port}"),
         FAILURE, "port {busy_port} on 127.0.0.1 is in use", needs=("busy_port",)),
    Case("export into a file", ("export", "--out", "{tmp}/a-file/site"), FAILURE,
         "Not a directory"),
    Case("export to a full disk", ("export", "--out", "{full_disk}"), FAILURE,
         "failed: {full_disk_error}", needs=("full_disk",)),
]


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-errors') / 'chronicle.db'}"
    loaded = run_cli("--database-url", url, "load")
    assert loaded.code == 0, loaded.stderr
    return url


@pytest.fixture
def busy_port() -> Iterator[dict[str, str]]:
    """A port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield {"busy_port": str(holder.getsockname()[1])}


def _mount_small_tmpfs(folder: Path) -> bool:
    if os.geteuid() != 0:
        return False
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)],
                             capture_output=True, check=False)
    return mounted.returncode == 0


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A 16 KiB filesystem to export into (the database stays outside it)."""
    folder = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    if not _mount_small_tmpfs(folder):
        pytest.skip("a full disk needs root, to mount a 16 KiB tmpfs")
    try:
        yield {"full_disk": str(folder / "site"), "full_disk_error": "No space left on device"}
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_line_and_an_exit_code(case: Case, loaded_db: str, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    values = {"db": loaded_db, "tmp": str(tmp_path)}
    for name in case.needs:
        values.update(request.getfixturevalue(name))
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    args = ["--database-url", loaded_db, *(arg.format(**values) for arg in case.args)]
    result = run_cli(*args, env=case.env)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert result.code == case.code, result.stderr
    assert len(lines) == 1, result.stderr
    assert case.says.format(**values) in lines[0], lines[0]


def test_serve_on_a_busy_port_stops_before_serving(busy_port: dict[str, str],
                                                   loaded_db: str) -> None:
    result = run_cli("--database-url", loaded_db, "serve", "--port", busy_port["busy_port"])
    assert result.code == FAILURE and "serving on" not in result.stderr, result.stderr


def test_a_full_disk_leaves_no_temporary_files(full_disk: dict[str, str], loaded_db: str) -> None:
    result = run_cli("--database-url", loaded_db, "export", "--out", full_disk["full_disk"])
    assert result.code == FAILURE, result.stderr
    with contextlib.suppress(FileNotFoundError):
        left = [p.name for p in Path(full_disk["full_disk"]).rglob("*.tmp")]
        assert left == [], left
