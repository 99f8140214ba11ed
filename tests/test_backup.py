"""`chronicle backup`: SQLite's online backup while a writer keeps appending."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from chronicle.store import NewEvent, open_store
from tests.conftest import run_cli
from tests.test_replication import rows, seeded


def test_backup_while_appending_is_a_verified_consistent_prefix(
        sqlite_url: str, tmp_path: Path) -> None:
    seeded(sqlite_url, 10)
    start_head = len(rows(sqlite_url))
    writer = open_store(sqlite_url)
    stop, appended, errors = threading.Event(), [0], []

    def keep_appending() -> None:
        try:
            while not stop.is_set():
                writer.append(f"busy-{appended[0]}", [NewEvent(type="Tick", payload={"n": 1})],
                              expected_version=0)
                appended[0] += 1
        except Exception as exc:  # surfaced below: the writer must never be blocked or fail
            errors.append(exc)

    thread = threading.Thread(target=keep_appending)
    thread.start()
    try:
        result = run_cli("--database-url", sqlite_url, "backup", str(tmp_path / "backup.db"))
        during = appended[0]
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert result.code == 0, result.stderr
    assert "hash chain verified" in result.stderr
    assert errors == []
    assert during > 0, "the writer kept appending while the backup ran"

    backup_url = f"sqlite:///{tmp_path / 'backup.db'}"
    backup = open_store(backup_url, migrate_schema=False)
    try:
        report = backup.verify()
        assert report.ok and report.head >= start_head
    finally:
        backup.close()
    assert rows(backup_url) == rows(sqlite_url)[:report.head]
    assert not (tmp_path / "backup.db.partial").exists()
    verified = run_cli("--database-url", backup_url, "verify")
    assert verified.code == 0, verified.stderr  # read models came along and match a replay


def test_backup_includes_what_is_still_in_the_write_ahead_log(
        sqlite_url: str, tmp_path: Path) -> None:
    store = open_store(sqlite_url)  # held open: its last appends stay in the -wal file
    try:
        for n in range(20):
            store.append(f"s-{n}", [NewEvent(type="T", payload={"n": n})], expected_version=0)
        naive = tmp_path / "naive.db"
        shutil.copyfile(sqlite_url.removeprefix("sqlite:///"), naive)
        result = run_cli("--database-url", sqlite_url, "backup", str(tmp_path / "backup.db"))
        assert result.code == 0, result.stderr
    finally:
        store.close()
    assert len(rows(f"sqlite:///{naive}")) < 20, "a plain file copy misses the WAL"
    assert len(rows(f"sqlite:///{tmp_path / 'backup.db'}")) == 20


def test_backup_refuses_to_overwrite_unless_asked(sqlite_url: str, tmp_path: Path) -> None:
    seeded(sqlite_url, 2)
    target = tmp_path / "backup.db"
    target.write_text("precious")
    refused = run_cli("--database-url", sqlite_url, "backup", str(target))
    assert refused.code == 2 and "--overwrite" in refused.stderr
    assert target.read_text() == "precious"
    replaced = run_cli("--database-url", sqlite_url, "backup", str(target), "--overwrite")
    assert replaced.code == 0, replaced.stderr
    assert rows(f"sqlite:///{target}") == rows(sqlite_url)


@pytest.mark.postgres
def test_backup_on_postgresql_points_at_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    result = run_cli("--database-url", postgres_url, "backup", str(tmp_path / "backup.db"))
    assert result.code == 2
    assert "pg_dump" in result.stderr and "README" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "backup.db").exists()
