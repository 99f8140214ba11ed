"""Errors of the log's commands are one line and an exit code, never a traceback (issue 15)."""

from __future__ import annotations

from pathlib import Path

from chronicle.store import NewEvent, open_store
from tests.conftest import run_cli


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if "INFO" not in line]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_backup_into_a_missing_directory_or_onto_a_directory(sqlite_url: str,
                                                             tmp_path: Path) -> None:
    assert run_cli("--database-url", sqlite_url, "db", "upgrade").code == 0
    missing = run_cli("--database-url", sqlite_url, "backup", str(tmp_path / "nope" / "x.db"))
    assert missing.code == 2 and "no such directory" in one_line(missing.stderr)
    (tmp_path / "dir").mkdir()
    onto = run_cli("--database-url", sqlite_url, "backup", str(tmp_path / "dir"), "--overwrite")
    assert onto.code == 2 and "is a directory" in one_line(onto.stderr)
    assert list((tmp_path / "dir").iterdir()) == []


def test_verify_names_a_row_whose_recorded_time_has_no_zone(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        store.append("other-a", [NewEvent(type="T", payload={})], expected_version=0)
        store.append("other-b", [NewEvent(type="T", payload={})], expected_version=0)
        with store.engine.begin() as conn:
            for statement in store.dialect.drop_immutability_ddl():
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql("UPDATE chronicle_events SET recorded_at = "
                                 "'2024-01-01 00:00:00' WHERE position = 2")
    finally:
        store.close()
    verified = run_cli("--database-url", sqlite_url, "verify")
    assert verified.code == 1
    line = one_line(verified.stderr)
    assert "position 2" in line and "has no time zone" in line
    logged = run_cli("--database-url", sqlite_url, "log")
    assert logged.code == 1 and "chronicle verify" in one_line(logged.stderr)


def test_db_upgrade_without_a_connection_is_one_line() -> None:
    result = run_cli("--database-url", "postgresql://editor:hunter2@127.0.0.1:1/c", "db",
                     "upgrade")
    assert result.code == 1
    line = one_line(result.stderr)
    assert "cannot reach the database" in line and "hunter2" not in result.stderr


def test_open_store_without_upcasters_uses_the_domains_or_refuses(sqlite_url: str) -> None:
    """A store never hands out a v1 payload as if it were current (issue 15)."""
    import subprocess
    import sys

    from chronicle.domain import MilestoneRecorded
    from tests.conftest import REPO
    from tests.factories import make_milestone

    store = open_store(sqlite_url)
    try:
        payload = make_milestone(1).to_payload()
        payload["date"] = "1987-01-27"                      # version 1 kept the date as text
        store.append("milestone-milestone-1", [NewEvent(type=MilestoneRecorded.type,
                                                        payload=payload, schema_version=1)], 0)
        (event,) = store.read_all()
        assert event.schema_version == MilestoneRecorded.schema_version
        assert event.payload["date"]["precision"] == "day"
    finally:
        store.close()
    alone = ("from chronicle.store import open_store\n"
             f"store = open_store({sqlite_url!r})\n"
             "print(store.head(), flush=True)\n"
             "store.read_all()\n")
    proc = subprocess.run([sys.executable, "-c", alone], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=False)
    assert proc.stdout.strip() == "1", proc.stderr   # opening and counting need no payloads
    assert proc.returncode != 0 and "none are registered" in proc.stderr
