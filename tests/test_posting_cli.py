"""The posting commands and the scheduler as real processes, on a controlled clock."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from chronicle.cli import app
from chronicle.cli.serve_cmds import StopRequest
from chronicle.posting import events as ev
from chronicle.store import SqlEventStore, open_store
from tests.conftest import REPO, run_cli
from tests.fake_x_api import FakeXApi, Secrets, XResponses, load_fixtures
from tests.test_posting_support import FORTIETH, RELATIONS, milestone, record_all, relations
from tests.test_posting_x import CREDENTIALS, ENVIRON

NINE_UB = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)  # 09:00 in Ulaanbaatar
SHIPPED_FORTIETH = ("Today, January 27, the United States and Mongolia celebrate 40 years of "
                    "diplomatic relations, established on this day in 1987.")
CLEARED = ("CHRONICLE_DATABASE_URL", "CHRONICLE_FAKE_NOW", "CHRONICLE_FAKE_NOW_RATE",
           *ENVIRON)


def invoke(*args: str, env: dict[str, str]) -> Result:
    """The CLI in this process (quick: imports are warm); the real process runs elsewhere."""
    cleared: dict[str, str | None] = dict.fromkeys(CLEARED)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # the CLI reconfigures logging: put it back
    try:
        return CliRunner().invoke(app, list(args), env={**cleared, **env},
                                  catch_exceptions=False)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def write_config(tmp_path: Path, database_url: str, *, channels: list[str],
                 extra: str = "", port: int = 8000, load_on_start: bool = True) -> Path:
    config = tmp_path / "chronicle.toml"
    config.write_text(f"""
base_dir = "{tmp_path}"
database_url = "{database_url}"
sources = ["{REPO}/events/*.yaml"]
[feed]
base_url = "https://chronicle.example.org"
[posting]
channels = {json.dumps(channels)}
outbox_path = "outbox.jsonl"
{extra}
[server]
port = {port}
load_on_start = {json.dumps(load_on_start)}
""", encoding="utf-8")
    return config


def env_for(config: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return {**env, "CHRONICLE_CONFIG": str(config), "COLUMNS": "200", "PYTHONFAULTHANDLER": "1",
            **values}


def outbox(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Service:
    """A `chronicle` subprocess whose stderr is collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "chronicle", *args], env=env,
                                     cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # PYTHONFAULTHANDLER (env_for) makes SIGABRT print every thread's stack first.
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(timeout=10)
            self._reader.join(timeout=5)
            raise AssertionError("still running 30 s after SIGTERM; its stderr and, at the "
                                 f"end, every thread's stack:\n{self.log()}") from None
        self._reader.join(timeout=5)
        return code

    def log(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def loaded_sqlite(tmp_path: Path) -> str:
    """The shipped data set loaded into a fresh SQLite log by the real `chronicle load`."""
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    config = write_config(tmp_path, url, channels=["outbox"])
    result = run_cli("load", env=env_for(config))
    assert result.code == 0, result.stderr
    return url


def test_upcoming_lists_the_fortieth_on_the_shipped_data_set(tmp_path: Path,
                                                             loaded_sqlite: str) -> None:
    config = tmp_path / "chronicle.toml"
    env = env_for(config, CHRONICLE_FAKE_NOW="2026-11-23T12:00:00+08:00")
    result = run_cli("upcoming", "--days", "400", "--json", env=env)
    assert result.code == 0, result.stderr
    rows = json.loads(result.stdout)
    (fortieth,) = [r for r in rows if r["milestone_ids"] == [RELATIONS]]
    assert fortieth["local_time"] == "2027-01-27T09:00:00+08:00"
    assert fortieth["utc_time"] == "2027-01-27T01:00:00+00:00"
    assert fortieth["years"] == [40]
    assert fortieth["channels"] == {"outbox": "scheduled"}
    assert fortieth["text"].startswith(SHIPPED_FORTIETH)
    assert fortieth["weighted_length"] <= 280
    assert all(r["local_date"] >= "2026-11-23" for r in rows)

    table = invoke("upcoming", "--days", "400", env=env)
    assert table.exit_code == 0, table.output
    assert "2027-01-27 09:00 local" in table.stdout
    assert "2027-01-27 01:00 UTC" in table.stdout
    assert SHIPPED_FORTIETH in " ".join(table.stdout.replace("│", " ").split())


def test_post_by_date_posts_once_and_says_so_the_second_time(tmp_path: Path,
                                                             loaded_sqlite: str) -> None:
    env = env_for(tmp_path / "chronicle.toml", CHRONICLE_FAKE_NOW="2027-01-27T09:00:30+08:00")
    dry = invoke("post", "--date", "2027-01-27", "--dry-run", env=env)
    assert dry.exit_code == 0, dry.output
    assert f"{RELATIONS}/2027/outbox: would publish" in dry.stdout
    assert SHIPPED_FORTIETH in dry.stdout
    assert outbox(tmp_path) == []

    first = run_cli("post", "--date", "2027-01-27", env=env)
    assert first.code == 0, first.stderr
    assert f"{RELATIONS}/2027/outbox: published" in first.stdout
    second = invoke("post", "--date", "2027-01-27", env=env)
    assert second.exit_code == 0, second.output
    assert f"{RELATIONS}/2027/outbox: already published" in second.stdout
    keys = [r["key"] for r in outbox(tmp_path)]
    assert keys.count(f"{RELATIONS}/2027/outbox") == 1
    assert len(keys) == len(set(keys)) >= 1  # every January 27 anniversary, once each
    assert "ambassador-message-39-years/2027/outbox" not in keys  # opted out in its YAML

    bad = run_cli("post", "--date", "27/01/2027", env=env)
    assert bad.code == 2
    assert "YYYY-MM-DD" in bad.stderr


def test_serve_posts_the_fortieth_at_nine_ulaanbaatar_time(tmp_path: Path) -> None:
    """A real `chronicle serve`, told it is 08:59:50 on January 27, 2027, loads and waits."""
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    config = write_config(tmp_path, url, channels=["outbox"], port=free_port())
    env = env_for(config, CHRONICLE_FAKE_NOW="2027-01-27T08:59:50+08:00",
                  CHRONICLE_FAKE_NOW_RATE="2")
    server = Service(["serve"], env)
    try:
        wait_for(lambda: server.said("anniversary scheduler: leading") or
                 server.proc.poll() is not None, 60, "the scheduler to start")
        assert outbox(tmp_path) == [], "nothing may be posted before 09:00"
        wait_for(lambda: any(r["key"] == f"{RELATIONS}/2027/outbox" for r in outbox(tmp_path))
                 or server.proc.poll() is not None, 60, "the 09:00 post")
    finally:
        code = server.stop()
    assert code == 0, server.log()
    (line,) = [r for r in outbox(tmp_path) if r["key"] == f"{RELATIONS}/2027/outbox"]
    assert str(line["text"]).startswith(SHIPPED_FORTIETH)
    store = open_store(url)
    try:
        (claim,) = [e for e in store.read_stream(f"post-{RELATIONS}-2027-outbox")
                    if e.type == ev.CLAIMED]
    finally:
        store.close()
    claimed_at = dt.datetime.fromisoformat(claim.payload["claimed_at"])
    assert NINE_UB <= claimed_at < NINE_UB + dt.timedelta(seconds=30), claimed_at


def test_sigterm_while_serve_starts_stops_the_scheduler_and_exits_0(tmp_path: Path) -> None:
    """SIGTERM as soon as the scheduler runs, before the server answers: an orderly stop."""
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    store = open_store(url)
    record_all(store, [relations()])
    store.close()
    config = write_config(tmp_path, url, channels=["outbox"], load_on_start=False)
    server = Service(["serve", "--port", str(free_port())],
                     env_for(config, CHRONICLE_FAKE_NOW="2027-01-20T12:00:00+08:00"))
    try:
        wait_for(lambda: server.said("anniversary scheduler started (worker") or
                 server.proc.poll() is not None, 60, "the scheduler to start")
    finally:
        code = server.stop()
    assert code == 0, server.log()
    log = server.log()
    assert "anniversary scheduler stopped" in log and "chronicle.serve: stopped" in log, log
    assert "Traceback" not in log, log


def test_serves_sigterm_handler_only_flags_the_stop() -> None:
    """It returns normally: raised at any bytecode of the main thread, an exception could leave
    a lock held (logging's, between its acquire and its try) and hang the orderly shutdown."""
    stop = StopRequest()
    stop(signal.SIGTERM, None)   # before the server exists
    assert stop.requested.is_set()
    server = uvicorn.Server(uvicorn.Config("chronicle.web.app:app_from_environment"))
    stop.server = server
    stop(signal.SIGTERM, None)
    assert server.should_exit


@pytest.fixture
def x_api() -> Iterator[FakeXApi]:
    with FakeXApi(Secrets(*CREDENTIALS.secrets()), XResponses(load_fixtures())) as api:
        yield api


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[SqlEventStore]:
    store = open_store(postgres_url)
    record_all(store, [relations(), milestone("second-27", "2017-01-27", title="Second")])
    yield store
    store.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_replicas_the_leader_killed_before_nine_the_other_posts_once(
        tmp_path: Path, postgres_url: str, pg_store: SqlEventStore, x_api: FakeXApi) -> None:
    x_api.script(x_api.responses.created(), x_api.responses.created())
    config = write_config(tmp_path, postgres_url, channels=["outbox", "x"],
                          extra=f'x_api_base_url = "{x_api.base_url}"', load_on_start=False)
    # The leader's clock starts 76 s before nine: both replicas start up (slow under load)
    # and the leader is killed before it could post (at 08:59:44 it once posted first).
    first = Service(["serve", "--port", str(free_port())], env_for(
        config, CHRONICLE_FAKE_NOW="2027-01-27T08:58:44+08:00", **ENVIRON))
    second: Service | None = None
    try:
        wait_for(lambda: first.said("scheduler: leading"), 60, "the first replica to lead")
        second = Service(["serve", "--port", str(free_port())], env_for(
            config, CHRONICLE_FAKE_NOW="2027-01-27T08:59:50+08:00", **ENVIRON))
        wait_for(lambda: second.said("standing by"), 60, "the second replica to stand by")
        assert pg_store.read_all() and not [e for e in pg_store.iter_all()
                                            if e.stream_id.startswith("post-")
                                            and e.type != "AnniversaryPostDrafted"]
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        wait_for(lambda: second.said("scheduler: leading"), 30, "the second replica to lead")
        try:
            wait_for(lambda: len(outbox(tmp_path)) == 2 and len(x_api.requests) == 2, 60,
                     "both posts on both channels")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the survivor said:\n{second.log()}") from None
        time.sleep(1.0)  # room for a duplicate to show up, if there were one
    finally:
        codes = [s.stop() for s in (first, second) if s is not None]
    assert codes[-1] == 0, second.log() if second else ""
    assert sorted(r["key"] for r in outbox(tmp_path)) == [
        f"{RELATIONS}/2027/outbox", "second-27/2027/outbox"]
    assert len(x_api.requests) == 2 and x_api.take_problems() == []
    assert any(req.text.startswith(FORTIETH) for req in x_api.requests)
    claims = [e for e in pg_store.iter_all() if e.type == ev.CLAIMED]
    assert sorted(e.stream_id for e in claims) == sorted([
        f"post-{RELATIONS}-2027-outbox", f"post-{RELATIONS}-2027-x",
        "post-second-27-2027-outbox", "post-second-27-2027-x"])
    assert {e.payload["pid"] for e in claims} == {second.proc.pid if second else -1}
    published = [e for e in pg_store.iter_all() if e.type == ev.PUBLISHED]
    assert len(published) == 4
    assert all(dt.datetime.fromisoformat(e.payload["claimed_at"]) >= NINE_UB for e in claims)
