"""CHRONICLE_LOG_KEY: a keyed (HMAC) chain that only the key holder can rewrite (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chronicle.store import NewEvent, StoreError, open_store
from chronicle.store.hashing import GENESIS_HASH, KEY_VARIABLE, genesis_hash
from tests.conftest import run_cli
from tests.test_replication import rows, seeded
from tests.test_store_anchor import head_of, rewrite_chain_from

KEY = "correct horse battery staple"
WITH_KEY = {KEY_VARIABLE: KEY}


@pytest.fixture
def keyed_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    seeded(db_url, 5)
    monkeypatch.delenv(KEY_VARIABLE)
    return db_url


def test_a_log_started_with_a_key_is_keyed_and_verifies_only_with_it(keyed_url: str) -> None:
    first = rows(keyed_url)[0]
    assert GENESIS_HASH not in first and genesis_hash(KEY.encode()) in first
    ok = run_cli("--database-url", keyed_url, "verify", env=WITH_KEY)
    assert ok.code == 0, ok.stderr
    assert "keyed chain" in ok.stdout
    without = run_cli("--database-url", keyed_url, "verify", env={KEY_VARIABLE: ""})
    assert without.code == 1 and "keyed" in without.stderr and KEY_VARIABLE in without.stderr
    wrong = run_cli("--database-url", keyed_url, "verify", env={KEY_VARIABLE: "guess"})
    assert wrong.code == 1 and "not the key this log was started with" in wrong.stderr
    for result in (ok, without, wrong):
        assert KEY not in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_a_chain_rewritten_without_the_key_fails_verify(keyed_url: str) -> None:
    rewrite_chain_from(keyed_url, 3)   # recomputes plain SHA-256 hashes, as a forger could
    result = run_cli("--database-url", keyed_url, "verify", env=WITH_KEY)
    assert result.code == 1 and "position 3" in result.stderr, result.stderr


def test_appends_to_a_keyed_log_need_the_key(keyed_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(keyed_url)
    try:
        with pytest.raises(StoreError, match=f"keyed.*{KEY_VARIABLE}"):
            store.append("milestone-x", [NewEvent(type="T", payload={})], expected_version=0)
    finally:
        store.close()
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    store = open_store(keyed_url)
    try:
        store.append("other-x", [NewEvent(type="T", payload={})], expected_version=0)
        report = store.verify()
        assert report.ok and report.mode == "keyed", report
    finally:
        store.close()


def test_a_plain_log_verified_with_a_key_set_says_it_is_plain(sqlite_url: str) -> None:
    seeded(sqlite_url, 3)
    plain = run_cli("--database-url", sqlite_url, "verify")
    assert plain.code == 0 and "plain chain" in plain.stdout
    keyed = run_cli("--database-url", sqlite_url, "verify", env=WITH_KEY)
    assert keyed.code == 1 and "plain" in keyed.stderr and KEY not in keyed.stderr


def test_a_keyed_log_copies_and_round_trips_with_its_key(keyed_url: str, tmp_path: Path) -> None:
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    copied = run_cli("copy-log", "--from", keyed_url, "--to", copy, env=WITH_KEY)
    assert copied.code == 0, copied.stderr
    exported = run_cli("--database-url", keyed_url, "export-log", env=WITH_KEY)
    imported_url = f"sqlite:///{tmp_path / 'imported.db'}"
    imported = run_cli("--database-url", imported_url, "import-log", "-",
                       input_text=exported.stdout, env=WITH_KEY)
    assert imported.code == 0, imported.stderr
    assert rows(copy) == rows(keyed_url) == rows(imported_url)
    assert head_of(copy) == head_of(keyed_url)
    for url in (copy, imported_url):
        assert run_cli("--database-url", url, "verify", env=WITH_KEY).code == 0
    refused = run_cli("--database-url", f"sqlite:///{tmp_path / 'other.db'}", "import-log",
                      "-", input_text=exported.stdout, env={KEY_VARIABLE: "guess"})
    assert refused.code == 2 and "not the key" in refused.stderr
