"""Opening a database: a typo never creates an empty world, and a URL never shows its password.

Issue 16 ("A typo never creates an empty world", `?password=` masking) and issue 15 (a missing
driver, a malformed URL: one line, exit 2).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from chronicle.config import Settings
from chronicle.store import NewEvent, NoSuchLog, StoreUnavailable, open_store
from chronicle.upcasters import UPCASTERS
from chronicle.web.routes import health
from chronicle.web.state import ServerState
from tests.conftest import REPO, run_cli
from tests.test_replication import seeded

READERS = (["verify"], ["log"], ["head"], ["milestones"], ["export-log"], ["rebuild"])


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_command_that_only_reads_never_creates_a_sqlite_file(
        tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "typo.db"
    result = run_cli("--database-url", f"sqlite:///{typo}", *command)
    assert result.code == 1, result.stderr
    assert "no chronicle log" in result.stderr and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not typo.exists()


def test_load_dry_run_does_not_create_and_load_does(tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    dry = run_cli("--database-url", f"sqlite:///{target}", "load", "--dry-run")
    assert dry.code == 1 and "no chronicle log" in dry.stderr, dry.stderr
    assert not target.exists()
    upgraded = run_cli("--database-url", f"sqlite:///{target}", "db", "upgrade")
    assert upgraded.code == 0 and target.exists(), upgraded.stderr
    assert run_cli("--database-url", f"sqlite:///{target}", "verify").code == 0


def test_an_empty_postgres_database_is_not_turned_into_a_log_by_a_reader(
        postgres_url: str) -> None:
    result = run_cli("--database-url", postgres_url, "verify")
    assert result.code == 1 and "holds no chronicle tables" in result.stderr, result.stderr
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            assert not sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
    with pytest.raises(NoSuchLog):
        open_store(postgres_url, create=False)


def test_a_url_without_a_scheme_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    """`serve` names the bad URL before it looks at its port, busy here."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        for command in (["verify"], ["serve", "--host", "127.0.0.1", "--port", port],
                        ["db", "upgrade"]):
            result = run_cli("--database-url", "bob:hunter2@host", *command, cwd=tmp_path)
            assert result.code == 2, (command, result.stderr)
            assert "has no scheme" in result.stderr and "hunter2" not in result.stderr
            assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("url", "says"), [
    ("mysql://editor@db.internal/chronicle", "mysql is not supported"),
    ("postgresql://editor:hunter2@[::1/chronicle", "is malformed"),
    ("postgresql://editor:hunter2@[::1]:notaport/chronicle", "is malformed"),
])
def test_unusable_urls_are_one_line_and_exit_2(url: str, says: str) -> None:
    result = run_cli("--database-url", url, "verify")
    assert result.code == 2, result.stderr
    assert says in result.stderr and "sqlite:///PATH or postgresql://" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "hunter2" not in result.stderr


def test_a_missing_postgres_driver_names_the_extra() -> None:
    blocked = ("import sys; sys.modules['psycopg'] = None; sys.argv = ['chronicle', "
               "'--database-url', 'postgresql://editor@127.0.0.1/chronicle', 'verify']; "
               "from chronicle.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'chronicle[postgres]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_password_in_the_query_is_masked_everywhere(tmp_path: Path) -> None:
    down = run_cli("--database-url", "postgresql://editor@127.0.0.1:1/c?password=hunter2", "log")
    assert down.code == 1 and "password=***" in down.stderr and "hunter2" not in down.stderr
    source = seeded(f"sqlite:///{tmp_path / 'source.db'}", 2)
    target = f"sqlite:///{tmp_path / 'target.db'}?password=hunter2"
    copied = run_cli("--database-url", source, "copy-log", "--to", target)
    assert copied.code == 0, copied.stderr
    assert "schema upgraded" in copied.stderr and "copied 4 events" in copied.stderr
    assert "password=***" in copied.stderr and "hunter2" not in copied.stderr


def test_a_deleted_sqlite_file_turns_healthz_503_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "served.db"
    url = seeded(f"sqlite:///{path}", 2)
    store = open_store(url, upcasters=UPCASTERS)
    try:
        state = ServerState.build(Settings(database_url=url), store)
        assert state.follower.try_step() and health(state)[0] == 200
        for leftover in tmp_path.glob("served.db*"):
            leftover.unlink()
        assert not state.follower.try_step()
        code, body = health(state)
        assert code == 503 and "does not exist" in body["database"]["error"]
        with pytest.raises(StoreUnavailable, match="does not exist"):
            store.append("post-x", [NewEvent(type="T", payload={})], expected_version=0)
        assert not path.exists()
    finally:
        store.close()
