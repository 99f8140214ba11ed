"""export-log / import-log: JSON lines that round-trip exactly and refuse any tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chronicle.replication import ChainBroken, NotAPrefix, check_file, export_log, import_log
from chronicle.store import NewEvent, open_store
from chronicle.store.schema import events_table
from tests.conftest import run_cli
from tests.test_replication import projected_position, raw_texts, read_models, rows, seeded


@pytest.fixture(scope="module")
def source_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One seeded log for the module: tests only read it."""
    return seeded(f"sqlite:///{tmp_path_factory.mktemp('source') / 'source.db'}", 15)


@pytest.fixture(scope="module")
def exported(source_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run_cli("--database-url", source_url, "export-log")
    assert result.code == 0, result.stderr
    assert f"exported {len(result.stdout.splitlines())} events" in result.stderr
    path = tmp_path_factory.mktemp("export") / "log.jsonl"
    path.write_text(result.stdout, encoding="utf-8")
    return path


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, content: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in content), encoding="utf-8")
    return path


def test_every_column_is_exported_with_payload_and_metadata_as_stored_text(
        source_url: str, exported: Path) -> None:
    records = [json.loads(line) for line in lines(exported)]
    assert list(records[0]) == [c.name for c in events_table.columns]
    assert [r["position"] for r in records] == list(range(1, len(rows(source_url)) + 1))
    assert [(r["payload"], r["metadata"]) for r in records] == raw_texts(source_url)
    assert records[0]["prev_hash"] == "0" * 64
    assert all(r["recorded_at"].endswith("Z") for r in records)


def test_import_round_trips_into_an_empty_database(
        db_url: str, source_url: str, exported: Path) -> None:
    result = run_cli("--database-url", db_url, "import-log", str(exported))
    assert result.code == 0, result.stderr
    assert f"imported {len(lines(exported))} events" in result.stderr
    assert rows(db_url) == rows(source_url)
    assert raw_texts(db_url) == raw_texts(source_url)
    assert projected_position(db_url) == len(lines(exported))
    assert read_models(db_url) == read_models(source_url)
    verified = run_cli("--database-url", db_url, "verify")
    assert verified.code == 0, verified.stderr
    again = run_cli("--database-url", db_url, "import-log", str(exported))
    assert again.code == 0 and "imported 0 events" in again.stderr
    assert rows(db_url) == rows(source_url)


def test_export_after_continues_a_database_holding_the_beginning(
        db_url: str, source_url: str, exported: Path, tmp_path: Path) -> None:
    first_part = write_lines(tmp_path / "first.jsonl", lines(exported)[:9])
    rest = tmp_path / "rest.jsonl"
    source = open_store(source_url)
    try:
        with rest.open("w", encoding="utf-8") as handle:
            assert export_log(source, handle, after=9) == len(lines(exported)) - 9
    finally:
        source.close()
    target = open_store(db_url)
    try:
        with pytest.raises(NotAPrefix, match="starts at position 10, but the database ends at "
                                             "position 0"):
            check_file(target, rest)
        assert import_log(target, first_part).imported == 9
        report = import_log(target, rest)
        assert (report.imported, report.head) == (len(lines(exported)) - 9, len(lines(exported)))
        assert target.verify().ok
    finally:
        target.close()
    assert rows(db_url) == rows(source_url)


def damaged(exported: Path, tmp_path: Path, damage: str) -> Path:
    content = lines(exported)
    record = json.loads(content[6])  # line 7, position 7
    if damage == "edit":
        record["payload"] = record["payload"].replace("Milestone", "Forged")
        content[6] = json.dumps(record, ensure_ascii=False)
    elif damage == "rehash":  # a forger who also fixes this row's hash breaks the next link
        record["hash"] = "f" * 64
        content[6] = json.dumps(record, ensure_ascii=False)
    elif damage == "delete":
        del content[6]
    else:
        content[6], content[7] = content[7], content[6]
    return write_lines(tmp_path / f"{damage}.jsonl", content)


@pytest.mark.parametrize(("damage", "where", "why"), [
    ("edit", "line 7 (position 7)", "edited"),
    ("rehash", "line 7 (position 7)", "edited"),
    ("delete", "line 7 (position 8)", "expected position 7"),
    ("swap", "line 7 (position 8)", "expected position 7"),
])
def test_tampering_is_found_naming_line_and_position(
        sqlite_url: str, exported: Path, tmp_path: Path, damage: str, where: str, why: str
) -> None:
    target = open_store(sqlite_url)
    try:
        with pytest.raises(ChainBroken) as caught:
            import_log(target, damaged(exported, tmp_path, damage), batch_size=2)
        assert where in str(caught.value) and why in str(caught.value)
        assert target.head() == 0
    finally:
        target.close()


def test_import_log_refuses_a_tampered_file_with_exit_2_and_writes_nothing(
        db_url: str, exported: Path, tmp_path: Path) -> None:
    result = run_cli("--database-url", db_url, "import-log",
                     str(damaged(exported, tmp_path, "edit")))
    assert result.code == 2, result.stderr
    assert "line 7 (position 7)" in result.stderr and "edited" in result.stderr
    assert "nothing was written" in result.stderr and "Traceback" not in result.stderr
    assert rows(db_url) == []


def test_a_tampered_last_line_still_prevents_every_write(db_url: str, exported: Path,
                                                         tmp_path: Path) -> None:
    content = lines(exported)
    record = json.loads(content[-1])
    record["metadata"] = json.dumps({"by": "someone else"})
    content[-1] = json.dumps(record, ensure_ascii=False)
    target = open_store(db_url)
    try:
        with pytest.raises(ChainBroken) as caught:
            import_log(target, write_lines(tmp_path / "bad.jsonl", content), batch_size=2)
        assert caught.value.line == len(content) and caught.value.position == len(content)
        assert target.head() == 0
    finally:
        target.close()


def test_malformed_lines_and_foreign_databases_are_refused(
        db_url: str, exported: Path, tmp_path: Path) -> None:
    target = open_store(db_url)
    try:
        broken = write_lines(tmp_path / "broken.jsonl", [*lines(exported)[:3], "{not json"])
        with pytest.raises(ChainBroken, match=r"line 4 .*not JSON"):
            check_file(target, broken)
        record = json.loads(lines(exported)[0])
        del record["hash"]
        missing = write_lines(tmp_path / "missing.jsonl", [json.dumps(record)])
        with pytest.raises(ChainBroken, match=r"line 1 .*expected exactly the keys"):
            check_file(target, missing)
        target.append("other", [NewEvent(type="Thing", payload={})], expected_version=0)
        with pytest.raises(NotAPrefix, match="line 1: the database's event at position 1 "
                                             "differs"):
            check_file(target, exported)
        assert target.head() == 1
    finally:
        target.close()
