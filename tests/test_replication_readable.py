"""An event this version cannot read never enters the log, and one already there stops no one.

Issue 16: importing a newer version's export committed rows no reader could decode, and from
then on verify, rebuild, export and serve all failed for good.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chronicle.config import Settings
from chronicle.domain import MilestoneRecorded
from chronicle.projections import Projector
from chronicle.replication.database import append_rows, head_link
from chronicle.replication.rows import Row, to_json_line
from chronicle.store import open_store
from chronicle.store.hashing import row_hash
from chronicle.upcasters import UPCASTERS
from chronicle.web.routes import health
from chronicle.web.state import ServerState
from tests.conftest import run_cli
from tests.factories import make_milestone
from tests.test_replication import projected_position, rows, seeded

SEEDED = 12


def forged(url: str, *, stream: str, type_: str, payload: dict[str, Any],
           schema_version: int, stream_version: int = 1) -> Row:
    """The next row of the log at `url`, correctly chained: only its content is wrong."""
    store = open_store(url, upcasters=UPCASTERS)
    try:
        position, prev_hash = head_link(store)
    finally:
        store.close()
    row: Row = {
        "position": position + 1, "stream_id": stream, "stream_version": stream_version,
        "event_id": uuid.uuid4(), "type": type_, "schema_version": schema_version,
        "recorded_at": dt.datetime.now(dt.UTC), "payload": json.dumps(payload),
        "metadata": "{}", "prev_hash": prev_hash,
    }
    row["hash"] = row_hash(row)
    return row


def newer_milestone(version: int = 3, **changes: Any) -> dict[str, Any]:
    payload = make_milestone(900, title="From a newer version").to_payload()
    payload.update(changes)
    return payload


BAD_EVENTS: dict[str, dict[str, Any]] = {
    "schema version 3": dict(stream="milestone-milestone-900", type_="MilestoneRecorded",
                             payload=newer_milestone(), schema_version=3),
    "date 99999": dict(stream="milestone-milestone-900", type_="MilestoneRecorded",
                       payload=newer_milestone(date="99999"), schema_version=1),
    "no title": dict(stream="milestone-milestone-900", type_="MilestoneRecorded",
                     payload={k: v for k, v in newer_milestone().items() if k != "title"},
                     schema_version=MilestoneRecorded.schema_version),
    "retraction of an unknown id": dict(
        stream="milestone-never-recorded", type_="MilestoneRetracted",
        payload={"milestone_id": "never-recorded", "reason": "gone"}, schema_version=1),
    "unknown event type": dict(stream="milestone-milestone-900", type_="MilestoneMerged",
                               payload={"milestone_id": "milestone-900"}, schema_version=1),
}
REASONS = {
    "schema version 3": "schema version 3 is not readable",
    "date 99999": "cannot be upcast",
    "no title": "lacks title",
    "retraction of an unknown id": "before it was recorded",
    "unknown event type": "unknown event type 'MilestoneMerged'",
}


@pytest.fixture(scope="module")
def source_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded(f"sqlite:///{tmp_path_factory.mktemp('src') / 'source.db'}", SEEDED)


@pytest.fixture(scope="module")
def exported(source_url: str) -> str:
    """The source's `export-log`, run once: no test writes to the source."""
    result = run_cli("--database-url", source_url, "export-log")
    assert result.code == 0, result.stderr
    return result.stdout


def export_with(source_url: str, exported: str, tmp_path: Path,
                bad: dict[str, Any]) -> tuple[Path, int]:
    """The source's export plus one forged, correctly chained line at the end."""
    row = forged(source_url, **bad)
    path = tmp_path / "newer.jsonl"
    path.write_text(exported + to_json_line(row) + "\n", encoding="utf-8")
    return path, row["position"]


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_import_log_refuses_an_unreadable_event_and_writes_nothing(
        db_url: str, source_url: str, exported: str, tmp_path: Path, case: str) -> None:
    path, position = export_with(source_url, exported, tmp_path, BAD_EVENTS[case])
    result = run_cli("--database-url", db_url, "import-log", str(path))
    assert result.code == 2, result.stderr
    assert f"line {position} (position {position})" in result.stderr
    assert REASONS[case] in result.stderr
    assert "nothing was written" in result.stderr and "Traceback" not in result.stderr
    assert rows(db_url) == []
    assert run_cli("--database-url", db_url, "verify").code == 0


def test_import_log_reads_standard_input_once_and_reports_what_it_wrote(
        db_url: str, source_url: str, exported: str) -> None:
    result = run_cli("--database-url", db_url, "import-log", "-", input_text=exported)
    assert result.code == 0, result.stderr
    assert f"imported {len(exported.splitlines())} events" in result.stderr
    assert rows(db_url) == rows(source_url)
    assert projected_position(db_url) == len(exported.splitlines())


def test_import_log_from_standard_input_refuses_an_unreadable_event(
        db_url: str, source_url: str, exported: str, tmp_path: Path) -> None:
    path, position = export_with(source_url, exported, tmp_path, BAD_EVENTS["no title"])
    result = run_cli("--database-url", db_url, "import-log", "-",
                     input_text=path.read_text(encoding="utf-8"))
    assert result.code == 2, result.stderr
    assert f"line {position} (position {position})" in result.stderr
    assert "imported" not in result.stderr
    assert rows(db_url) == []


def test_a_continuation_is_folded_on_the_events_already_in_the_database(
        sqlite_url: str, source_url: str, exported: str, tmp_path: Path) -> None:
    """A revision in the file of a milestone recorded in the database is readable."""
    lines = exported.splitlines()
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(lines[:SEEDED]) + "\n", encoding="utf-8")
    rest = tmp_path / "rest.jsonl"
    rest.write_text("\n".join(lines[SEEDED:]) + "\n", encoding="utf-8")
    assert run_cli("--database-url", sqlite_url, "import-log", str(first)).code == 0
    result = run_cli("--database-url", sqlite_url, "import-log", str(rest))
    assert result.code == 0, result.stderr
    assert rows(sqlite_url) == rows(source_url)


def bad_source(url: str, case: str) -> int:
    """A log holding one unreadable event after the seeded ones (as a newer version wrote)."""
    seeded(url, SEEDED)
    row = forged(url, **BAD_EVENTS[case])
    store = open_store(url, upcasters=UPCASTERS)
    try:
        append_rows(store, [row])
    finally:
        store.close()
    return int(row["position"])


def test_copy_log_refuses_a_source_with_an_unreadable_event(
        db_url: str, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'newer.db'}"
    position = bad_source(source, "schema version 3")
    result = run_cli("copy-log", "--from", source, "--to", db_url)
    assert result.code == 2, result.stderr
    assert f"position {position}" in result.stderr and REASONS["schema version 3"] in result.stderr
    assert "nothing was written" in result.stderr and "Traceback" not in result.stderr
    assert rows(db_url) == []


@pytest.fixture
def unreadable_log(db_url: str) -> Iterator[tuple[str, int]]:
    yield db_url, bad_source(db_url, "date 99999")


def test_readers_stop_before_an_unreadable_event_and_keep_what_came_before(
        unreadable_log: tuple[str, int]) -> None:
    url, position = unreadable_log
    store = open_store(url, upcasters=UPCASTERS)
    try:
        projector = Projector(store, batch_size=5)
        projector.rebuild()
        assert projector.stopped is not None and projector.stopped.position == position
        assert "cannot be upcast" in projector.stopped.reason
        assert projector.position() == position - 1
        assert projector.catch_up() == 0 and projector.position() == position - 1
    finally:
        store.close()
    rebuilt = run_cli("--database-url", url, "rebuild")
    assert rebuilt.code == 1 and "Traceback" not in rebuilt.stderr
    assert f"position {position} cannot be read" in rebuilt.stderr
    verified = run_cli("--database-url", url, "verify")
    assert verified.code == 1 and "Traceback" not in verified.stderr
    assert f"position {position} cannot be read" in verified.stderr
    logged = run_cli("--database-url", url, "log")
    assert logged.code == 1 and f"position {position}" in logged.stderr
    assert "Traceback" not in logged.stderr
    shown = run_cli("--database-url", url, "milestones", "--json")
    assert shown.code == 0, shown.stderr
    assert "milestone-0" in shown.stdout


def test_healthz_names_the_unreadable_event_and_the_documents_before_it_are_served(
        unreadable_log: tuple[str, int]) -> None:
    url, position = unreadable_log
    store = open_store(url, upcasters=UPCASTERS)
    try:
        state = ServerState.build(Settings(database_url=url), store)
        assert state.follower.try_step()
        code, body = health(state)
        assert code == 503
        assert body["unreadable_event"]["position"] == position
        assert "cannot be upcast" in body["unreadable_event"]["reason"]
        assert body["position"] == position - 1 and body["head"] == position
        assert state.cache.ready and state.cache.position == position - 1
        assert "feeds/milestones.atom" in {p.lstrip("/") for p in state.cache.documents}
    finally:
        store.close()


def test_posting_events_as_the_service_writes_them_are_readable(sqlite_url: str,
                                                                tmp_path: Path) -> None:
    from chronicle.posting import events as ev
    from chronicle.posting.anniversaries import PlannedPost

    seeded(sqlite_url, 3)
    now = dt.datetime(2027, 1, 27, 9, tzinfo=dt.UTC)
    post = PlannedPost(key="milestone-1/2027/x", stream_id="post-milestone-1-2027-x",
                       channel="x", local_date=now.date(), due_at=now,
                       milestone_ids=("milestone-1",), years=(40,), text="Forty years")
    silent = PlannedPost(key="milestone-2/2027/x", stream_id="post-milestone-2-2027-x",
                         channel="x", local_date=now.date(), due_at=now,
                         milestone_ids=("milestone-2",), years=(40,), text=None,
                         problem="too long")
    worker = ev.Worker()
    store = open_store(sqlite_url, upcasters=UPCASTERS)
    try:
        store.append(post.stream_id, [
            ev.claimed(post, worker, now, "Forty years", 1),
            ev.failed(post, now, attempt=1, error="503", permanent=False, retry_at=now),
            ev.claimed(post, worker, now, "Forty years", 2),
            ev.published(post, "Forty years", now, remote_id="123", url=None,
                         already_published=False, attempt=2)], expected_version=0)
        store.append(silent.stream_id, [ev.skipped(silent, now, ev.TOO_LONG, "no text fits")],
                     expected_version=0)
    finally:
        store.close()
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    copied = run_cli("copy-log", "--from", sqlite_url, "--to", target)
    assert copied.code == 0, copied.stderr
    assert rows(target) == rows(sqlite_url)
