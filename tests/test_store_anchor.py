"""The chain's anchor outside the database: `head`, `verify --expect`, /healthz (issue 16).

Dropping the triggers and deleting the last rows, or editing a row and recomputing every later
hash, leaves a chain that verifies on its own; a head kept elsewhere catches both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from chronicle.config import Settings
from chronicle.replication.database import iter_rows
from chronicle.store import open_store
from chronicle.store.hashing import row_hash
from chronicle.upcasters import UPCASTERS
from chronicle.web.routes import health
from chronicle.web.state import ServerState
from tests.conftest import run_cli
from tests.test_replication import seeded


def head_of(url: str) -> str:
    result = run_cli("--database-url", url, "head")
    assert result.code == 0, result.stderr
    text = result.stdout.strip()
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", text), text
    return text


def without_guards(url: str, *statements: str) -> None:
    store = open_store(url)
    try:
        with store.engine.begin() as conn:
            for statement in store.dialect.drop_immutability_ddl():
                conn.exec_driver_sql(statement)
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        store.close()


def rewrite_chain_from(url: str, position: int) -> None:
    """A forger's edit: change a row, then recompute its hash and every later one."""
    store = open_store(url)
    try:
        rows = list(iter_rows(store, 0, store.head()))
    finally:
        store.close()
    statements, prev = [], rows[position - 2]["hash"]
    for row in rows[position - 1:]:
        if row["position"] == position:
            row["payload"] = row["payload"].replace("Milestone", "Forged")
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(row)
        payload = row["payload"].replace("'", "''")
        statements.append(f"UPDATE chronicle_events SET payload = '{payload}', prev_hash = "
                          f"'{row['prev_hash']}', hash = '{row['hash']}' "
                          f"WHERE position = {row['position']}")
    without_guards(url, *statements)


def test_head_prints_position_and_hash_and_verify_expect_accepts_it(db_url: str) -> None:
    seeded(db_url, 6)
    anchor = head_of(db_url)
    result = run_cli("--database-url", db_url, "verify", "--expect", anchor)
    assert result.code == 0, result.stderr
    assert "hash chain intact" in result.stdout and "expected head" in result.stdout
    earlier = run_cli("--database-url", db_url, "verify", "--expect",
                      f"3:{row_hash_at(db_url, 3)}")
    assert earlier.code == 0, earlier.stderr


def row_hash_at(url: str, position: int) -> str:
    store = open_store(url)
    try:
        found = store.hash_at(position)
    finally:
        store.close()
    assert found is not None
    return found


def test_truncation_that_verifies_on_its_own_fails_verify_expect(db_url: str) -> None:
    seeded(db_url, 6)
    anchor = head_of(db_url)
    head = int(anchor.split(":")[0])
    without_guards(db_url, f"DELETE FROM chronicle_events WHERE position > {head - 2}")
    plain = run_cli("--database-url", db_url, "verify")
    assert "hash chain intact" in plain.stdout  # on its own the shorter chain is fine...
    assert plain.code == 1 and "beyond the log's head" in plain.stderr  # ...but not the models
    expected = run_cli("--database-url", db_url, "verify", "--expect", anchor)
    assert expected.code == 1, expected.stderr
    assert "no longer holds that position" in expected.stderr
    assert "Traceback" not in expected.stderr


def test_a_rewritten_chain_fails_verify_expect(db_url: str) -> None:
    seeded(db_url, 6)
    anchor = head_of(db_url)
    rewrite_chain_from(db_url, 4)
    assert head_of(db_url) != anchor
    expected = run_cli("--database-url", db_url, "verify", "--expect", anchor)
    assert expected.code == 1 and "holds hash" in expected.stderr, expected.stderr


def test_a_malformed_expect_is_bad_input(sqlite_url: str) -> None:
    seeded(sqlite_url, 2)
    for text in ("12", "x:abc", "3:" + "g" * 64):
        result = run_cli("--database-url", sqlite_url, "verify", "--expect", text)
        assert result.code == 2 and "POSITION:HASH" in result.stderr, text


def test_healthz_shows_the_head_link(db_url: str) -> None:
    seeded(db_url, 3)
    anchor = head_of(db_url)
    store = open_store(db_url, upcasters=UPCASTERS)
    try:
        state = ServerState.build(Settings(database_url=db_url), store)
        assert state.follower.try_step()
        code, body = health(state)
        assert code == 200 and body["head_link"] == anchor
    finally:
        store.close()


def test_the_main_feeds_carry_the_head_and_verify_expect_accepts_it(db_url: str,
                                                                     tmp_path: Path) -> None:
    seeded(db_url)
    head = head_of(db_url)
    out = tmp_path / "site"
    exported = run_cli("--database-url", db_url, "export", "--out", str(out))
    assert exported.code == 0, exported.stderr
    atom = (out / "feeds" / "milestones.atom").read_text()
    rss = (out / "feeds" / "milestones.rss").read_text()
    shown = json.loads((out / "feeds" / "milestones.json").read_text())["_chronicle"]["log_head"]
    in_atom = re.search(r"<chronicle:head>([^<]+)</chronicle:head>", atom)
    in_rss = re.search(r"<chronicle:head>([^<]+)</chronicle:head>", rss)
    assert in_atom and in_rss
    assert in_atom.group(1) == in_rss.group(1) == shown == head
    assert run_cli("--database-url", db_url, "verify", "--expect", shown).code == 0
    # Only the main feeds carry it: the others keep their bytes while the log grows.
    tags = list((out / "feeds" / "tags").glob("*.atom"))
    assert tags and all("chronicle:head" not in t.read_text() for t in tags)
    assert all("chronicle:head" not in e.read_text()
               for e in (out / "feeds" / "archive").glob("*.atom"))
