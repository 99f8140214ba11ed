"""The day from the command line: refusals, rehearsal, preflight, and approval end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chronicle.store import open_store
from tests.fake_x_api import FakeXApi, Secrets, XResponses, load_fixtures
from tests.test_posting_cli import (
    SHIPPED_FORTIETH,
    env_for,
    invoke,
    outbox,
    run_cli,
    write_config,
)
from tests.test_posting_x import CREDENTIALS, ENVIRON

RELATIONS = "diplomatic-relations-established"
AT_NINE = "2027-01-27T09:00:05+08:00"


@pytest.fixture
def x_api() -> Iterator[FakeXApi]:
    with FakeXApi(Secrets(*CREDENTIALS.secrets()), XResponses(load_fixtures())) as api:
        yield api


def loaded(tmp_path: Path, *, channels: list[str], extra: str = "") -> Path:
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    config = write_config(tmp_path, url, channels=channels, extra=extra)
    result = run_cli("load", env=env_for(config))
    assert result.code == 0, result.stderr
    return config


def post_events(tmp_path: Path) -> list[str]:
    store = open_store(f"sqlite:///{tmp_path / 'chronicle.db'}")
    try:
        return [e.type for e in store.iter_all() if e.stream_id.startswith("post-")]
    finally:
        store.close()


def test_post_refuses_a_future_day_and_a_day_that_does_not_exist(tmp_path: Path) -> None:
    env = env_for(loaded(tmp_path, channels=["outbox"]),
                  CHRONICLE_FAKE_NOW="2025-12-06T10:00:00+08:00")
    future = run_cli("post", "--date", "2027-01-27", env=env)
    assert future.code == 2
    assert "--date 2027-01-27 is in the future" in future.stderr
    assert "--dry-run" in future.stderr and "chronicle rehearse --date 2027-01-27" in future.stderr
    assert "Traceback" not in future.stderr and len(future.stderr.strip().splitlines()) == 1
    assert outbox(tmp_path) == [] and post_events(tmp_path) == []
    missing = run_cli("post", "--date", "2027-02-30", env=env)
    assert missing.code == 2
    assert missing.stderr.strip() == ("--date 2027-02-30: that date does not exist "
                                      "(February 2027 has 28 days)")


def test_rehearse_shows_the_crafted_fortieth_on_every_channel_and_writes_nothing(
        tmp_path: Path) -> None:
    config = loaded(tmp_path, channels=["outbox", "x"])
    env = env_for(config, CHRONICLE_FAKE_NOW="2026-12-06T10:00:00+08:00", **ENVIRON)
    result = invoke("rehearse", "--date", "2027-01-27", "--json", env=env)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["channel"] for r in rows} == {"outbox", "x"}
    assert all(r["text"].startswith(SHIPPED_FORTIETH) and r["ready"] for r in rows)
    assert {r["key"] for r in rows} == {f"{RELATIONS}/2027/outbox", f"{RELATIONS}/2027/x"}
    x_row = next(r for r in rows if r["channel"] == "x")
    assert x_row["length"] <= x_row["max_length"] == 280
    assert x_row["image"] == "none (x posts text only)"
    assert post_events(tmp_path) == [] and outbox(tmp_path) == []


def test_preflight_exit_codes(tmp_path: Path, x_api: FakeXApi) -> None:
    config = loaded(tmp_path, channels=["outbox", "x"],
                    extra=f'x_api_base_url = "{x_api.base_url}"')
    env = env_for(config, CHRONICLE_FAKE_NOW="2027-01-20T10:00:00+08:00", **ENVIRON)
    x_api.script(x_api.responses.me())
    ready = invoke("preflight", "--days", "10", env=env)
    assert ready.exit_code == 0, ready.output
    assert "authenticated as @ChronicleMnUs" in ready.stdout
    x_api.script(x_api.responses.error("401_unauthorized"))
    refused = run_cli("preflight", "--days", "10", env=env)
    assert refused.code == 1
    assert "not ready: channel x: X answered 401" in refused.stderr
    assert [(r.method, r.path) for r in x_api.requests] == [("GET", "/2/users/me")] * 2
    assert x_api.take_problems() == []


def test_approval_required_nothing_goes_out_until_approve_then_the_approved_text_once(
        tmp_path: Path) -> None:
    config = loaded(tmp_path, channels=["outbox"], extra="require_approval = true")
    env = env_for(config, CHRONICLE_FAKE_NOW=AT_NINE)
    preflight = run_cli("preflight", "--days", "2", env=env)
    assert preflight.code == 1 and "not approved" in preflight.stderr
    held = invoke("post", "--date", "2027-01-27", env=env)
    assert held.exit_code == 0, held.output
    assert f"{RELATIONS}/2027/outbox: held (not approved)" in held.stdout
    assert outbox(tmp_path) == []
    queue = json.loads(invoke("queue", "--days", "1", "--json", env=env).stdout)
    (entry,) = [q for q in queue if q["key"] == f"{RELATIONS}/2027/outbox"]
    assert entry["state"] == "held" and entry["text"].startswith(SHIPPED_FORTIETH)

    approved = invoke("approve", f"{RELATIONS}/2027/outbox", "--by", "press-office", env=env)
    assert approved.exit_code == 0, approved.output
    assert "approved by press-office; then published" in approved.stdout
    (line,) = outbox(tmp_path)
    assert line["text"] == entry["text"]
    again = invoke("post", "--date", "2027-01-27", env=env)
    assert "already published" in again.stdout and len(outbox(tmp_path)) == 1
    history = json.loads(invoke("queue", "--days", "1", "--json", env=env).stdout)[0]["history"]
    assert any(h.startswith("approved by press-office at ") for h in history)
    unknown = run_cli("approve", "no-such-milestone/2027/outbox", env=env)
    assert unknown.code == 2 and "no post 'no-such-milestone/2027/outbox'" in unknown.stderr
