"""copy-log between real databases: rows byte-exact, chain intact, read models identical."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from chronicle.posting.clock import FAKE_NOW_ENV
from chronicle.projections import Projector, ReadModels, dump
from chronicle.replication import NotAPrefix, check_prefix, copy_log
from chronicle.store import NewEvent, SqlEventStore, open_store
from chronicle.store.schema import events_table
from chronicle.upcasters import UPCASTERS
from tests.conftest import run_cli
from tests.factories import generate_log, make_milestone, record_milestones


def rows(url: str) -> list[tuple]:
    """Every stored column of every row, as the database returns it."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(events_table).order_by(events_table.c.position))]
    finally:
        store.close()


def raw_texts(url: str) -> list[tuple[str, str]]:
    """Payload and metadata exactly as stored text, bypassing every type conversion."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(
                "SELECT payload, metadata FROM chronicle_events ORDER BY position")]
    finally:
        store.close()


def read_models(url: str) -> dict[str, list[tuple]]:
    """The read models caught up with the log they sit beside, every row."""
    store = open_store(url, upcasters=UPCASTERS)
    try:
        projector = Projector(store)
        projector.prepare()
        projector.catch_up()
        return dump(store.engine, [t for p in projector.projections for t in p.tables()])
    finally:
        store.close()


def projected_position(url: str) -> int:
    store = open_store(url)
    try:
        return ReadModels(store.engine).position()
    finally:
        store.close()


def seeded(url: str, count: int = 40) -> str:
    store = open_store(url, upcasters=UPCASTERS)
    try:
        generate_log(store, count)
        Projector(store).rebuild()
    finally:
        store.close()
    return url


def tamper(url: str, position: int) -> None:
    store = open_store(url)
    try:
        with store.engine.begin() as conn:
            for statement in store.dialect.drop_immutability_ddl():
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql("UPDATE chronicle_events SET payload = replace(payload, "
                                 f"'Milestone', 'Forged') WHERE position = {position}")
    finally:
        store.close()


@pytest.mark.postgres
def test_sqlite_to_postgres_to_sqlite_keeps_every_row_and_read_model(
        sqlite_url: str, postgres_url: str, tmp_path: Path) -> None:
    seeded(sqlite_url)
    head = len(rows(sqlite_url))
    there = run_cli("--database-url", sqlite_url, "copy-log", "--to", postgres_url)
    assert there.code == 0, there.stderr
    assert f"copied {head} events" in there.stderr and "events/s" in there.stderr
    back_url = f"sqlite:///{tmp_path / 'back.db'}"
    back = run_cli("copy-log", "--from", postgres_url, "--to", back_url, "--batch-size", "7")
    assert back.code == 0, back.stderr

    for url in (postgres_url, back_url):
        assert projected_position(url) == head, "copy-log rebuilt the target's read models"
        verified = run_cli("--database-url", url, "verify")
        assert verified.code == 0, verified.stderr
        assert "hash chain intact" in verified.stdout
    assert rows(sqlite_url) == rows(postgres_url) == rows(back_url)
    assert raw_texts(sqlite_url) == raw_texts(postgres_url) == raw_texts(back_url)
    original = read_models(sqlite_url)
    assert original["rm_milestones"], "the seeded log projects into milestones"
    assert read_models(postgres_url) == original
    assert read_models(back_url) == original
    # One day for the three exports (the home page counts the days to the next anniversary):
    # run across midnight in Ulaanbaatar, they differed by it.
    noon = dt.datetime.now(dt.UTC).replace(hour=4, minute=0, second=0, microsecond=0)
    exports = [exported_files(url, tmp_path / f"site-{n}", noon)
               for n, url in enumerate((sqlite_url, postgres_url, back_url))]
    assert "feeds/milestones.atom" in exports[0]
    assert exports[1] == exports[0] and exports[2] == exports[0]


def exported_files(url: str, out: Path, now: dt.datetime) -> dict[str, bytes]:
    """`chronicle export` of a database on the clock `now`: every file's bytes by relative
    path."""
    result = run_cli("--database-url", url, "export", "--out", str(out),
                     env={FAKE_NOW_ENV: now.isoformat()})
    assert result.code == 0, result.stderr
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_copy_resumes_after_a_target_holding_a_beginning(db_url: str, tmp_path: Path) -> None:
    source_url = seeded(f"sqlite:///{tmp_path / 'source.db'}", 10)
    source = open_store(source_url, upcasters=UPCASTERS)
    target = open_store(db_url, upcasters=UPCASTERS)
    try:
        first = copy_log(source, target, batch_size=4)
        assert first.copied == source.head() and first.already_there == 0
        record_milestones(source, [make_milestone(n) for n in range(100, 105)])
        second = copy_log(source, target, batch_size=4)
        assert (second.already_there, second.copied) == (first.head, 5)
        assert second.head == source.head() == target.head()
        assert target.verify().ok
        assert second.rebuilt == target.head()
    finally:
        source.close()
        target.close()
    assert rows(db_url) == rows(source_url)
    assert read_models(db_url) == read_models(source_url)


def _own_log(url: str, payload: dict) -> SqlEventStore:
    store = open_store(url)
    store.append("other", [NewEvent(type="Thing", payload=payload)], expected_version=0)
    return store


def test_copy_refuses_a_target_with_another_log(db_url: str, tmp_path: Path) -> None:
    source_url = seeded(f"sqlite:///{tmp_path / 'source.db'}", 5)
    _own_log(db_url, {"n": 1}).close()
    before = rows(db_url)
    refused = run_cli("--database-url", source_url, "copy-log", "--to", db_url)
    assert refused.code == 2, refused.stderr
    assert "copy refused" in refused.stderr and "differ at position 1" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert rows(db_url) == before


def test_a_target_ahead_of_the_source_or_diverged_later_is_not_a_prefix(
        sqlite_url: str, tmp_path: Path) -> None:
    short = _own_log(sqlite_url, {"n": 1})
    longer = _own_log(f"sqlite:///{tmp_path / 'long.db'}", {"n": 1})
    try:
        longer.append("other", [NewEvent(type="Thing", payload={"n": 2})], expected_version=1)
        with pytest.raises(NotAPrefix, match="more than the source's"):
            check_prefix(short, longer)
        # Same first event text but another event id and time: a different history.
        with pytest.raises(NotAPrefix, match="differ at position 1"):
            check_prefix(longer, short)
    finally:
        short.close()
        longer.close()


def test_a_damaged_source_stops_the_copy_after_the_intact_rows(
        sqlite_url: str, tmp_path: Path) -> None:
    seeded(sqlite_url, 20)
    tamper(sqlite_url, 17)
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    result = run_cli("--database-url", sqlite_url, "copy-log", "--to", target_url,
                     "--batch-size", "5")
    assert result.code == 1, result.stderr
    assert "source log is NOT intact at position 17" in result.stderr
    assert "edited" in result.stderr
    copied = rows(target_url)
    assert [r[0] for r in copied] == list(range(1, 16))  # three whole batches, all intact
    assert copied == rows(sqlite_url)[:15]


def test_copy_log_usage_errors(sqlite_url: str, tmp_path: Path) -> None:
    same = run_cli("--database-url", sqlite_url, "copy-log", "--to", sqlite_url)
    assert same.code == 2 and "names the database being copied from" in same.stderr
    missing = run_cli("copy-log", "--from", f"sqlite:///{tmp_path / 'nope.db'}", "--to",
                      f"sqlite:///{tmp_path / 'new.db'}")
    assert missing.code == 2 and "no such database file" in missing.stderr
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_then_verify_as_the_readme_says(
        postgres_url: str, tmp_path: Path) -> None:
    tools = [shutil.which(name) for name in ("pg_dump", "pg_restore")]
    if None in tools:
        pytest.skip("pg_dump/pg_restore are not installed")
    seeded(postgres_url, 8)
    server = sa.make_url(postgres_url)
    schema = server.query["options"].removeprefix("-csearch_path=")
    dump_file = tmp_path / "chronicle.dump"
    connection = ["--host", server.host or "127.0.0.1", "--port", str(server.port or 5432),
                  "--username", server.username or "postgres"]
    subprocess.run([tools[0], *connection, "--format=custom", f"--schema={schema}",
                    f"--file={dump_file}", server.database], check=True, timeout=120)
    restored = f"chronicle_restored_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {restored}")
    try:
        subprocess.run([tools[1], *connection, f"--dbname={restored}", "--no-owner",
                        str(dump_file)], check=True, timeout=120)
        restored_url = server.set(database=restored).render_as_string(hide_password=False)
        verified = run_cli("--database-url", restored_url, "verify")
        assert verified.code == 0, verified.stderr
        assert f"hash chain intact: {len(rows(postgres_url))} events" in verified.stdout
        assert rows(restored_url) == rows(postgres_url)
        assert read_models(restored_url) == read_models(postgres_url)
        engine = sa.create_engine(restored_url)
        try:  # the append-only triggers came back with the restore
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM chronicle_events WHERE position = 1")
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {restored} WITH (FORCE)")
        admin.dispose()
