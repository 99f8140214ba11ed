"""The log's commands as a user runs them: exit codes, one-line errors, tamper detection."""

from __future__ import annotations

import json

import sqlalchemy as sa

from chronicle.store import NewEvent, migrate, open_store
from chronicle.store.engine import create_store_engine
from tests.conftest import run_cli


def _seed(url: str, count: int = 3) -> None:
    store = open_store(url)
    for n in range(count):
        store.append(f"s-{n}", [NewEvent(type="Thing", payload={"n": n})], expected_version=0)
    store.close()


def test_log_json_and_verify_ok(db_url: str) -> None:
    _seed(db_url)
    result = run_cli("--database-url", db_url, "log", "--json")
    assert result.code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["position"] for r in rows] == [1, 2, 3]
    assert rows[0]["stream"] == "s-0" and rows[0]["payload"] == {"n": 0}
    streamed = run_cli("--database-url", db_url, "log", "--json", "--stream", "s-1")
    assert [json.loads(x)["position"] for x in streamed.stdout.splitlines()] == [2]
    verified = run_cli("--database-url", db_url, "verify")
    assert verified.code == 0, verified.stderr
    assert "hash chain intact: 3 events" in verified.stdout


def test_verify_fails_naming_the_edited_position(db_url: str) -> None:
    _seed(db_url, 4)
    store = open_store(db_url)
    with store.engine.begin() as conn:
        for statement in store.dialect.drop_immutability_ddl():
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("UPDATE chronicle_events SET type = 'Forged' WHERE position = 2")
    store.close()
    result = run_cli("--database-url", db_url, "verify")
    assert result.code == 1
    assert "position 2" in result.stderr and "edited" in result.stderr
    assert "Traceback" not in result.stderr


def test_database_down_is_one_line_with_the_password_hidden() -> None:
    url = "postgresql://editor:s3cret@127.0.0.1:1/chronicle"
    result = run_cli("--database-url", url, "log")
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "postgresql+psycopg://editor:***@127.0.0.1:1/chronicle" in lines[0]
    assert "s3cret" not in result.stderr
    assert "refused" in lines[0].lower()


def test_usage_errors_exit_2_and_help_explains() -> None:
    assert run_cli("no-such-command").code == 2
    top = run_cli("--help")
    assert top.code == 0 and "verify" in top.stdout and "log" in top.stdout
    for command in (["log"], ["verify"], ["db", "upgrade"]):
        helped = run_cli(*command, "--help")
        assert helped.code == 0 and "Usage" in helped.stdout
    assert run_cli("--version").stdout.startswith("chronicle ")


def test_a_database_of_the_previous_schema_opens_and_upgrades(db_url: str) -> None:
    engine, dialect = create_store_engine(db_url)
    migrate.upgrade(engine, dialect, revision="0001")
    assert migrate.current_revision(engine) == "0001"
    engine.dispose()
    upgraded = run_cli("--database-url", db_url, "db", "upgrade")
    assert upgraded.code == 0, upgraded.stderr
    assert "upgraded from 0001 to " + migrate.head_revision() in upgraded.stderr
    store = open_store(db_url)
    try:
        assert store.append("a", [NewEvent(type="T", payload={})], expected_version=0) == [1]
        inspector = sa.inspect(store.engine)
        indexes = {ix["name"] for ix in inspector.get_indexes("chronicle_events")}
        assert "ix_chronicle_events_recorded_at" not in indexes      # 0002 made it, 0003 drops it
        assert store.verify().ok
    finally:
        store.close()
    again = run_cli("--database-url", db_url, "db", "upgrade")
    assert "already at revision" in again.stderr


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    assert migrate.head_revision() == migrate.HEAD_REVISION
