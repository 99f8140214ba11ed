"""Helpers shared by the feed, serve and export tests (no tests here).

Test data goes through the real domain commands and the real repository; servers are real
`chronicle serve` subprocesses.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import feedparser
import httpx

from chronicle.config import FeedSettings, Settings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source, record, retract, revise
from chronicle.feeds import Document, feed_documents
from chronicle.projections import Projector, ReadModels
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore

REPO = Path(__file__).resolve().parents[1]
DATES = ("1987-01-27", "1988-04", "1899", "2019-07-30/2019-08-02", "1990", "2004-10-18")
TAGS = ("diplomacy", "visits", "defense", "trade")


def milestone(n: int, *, title: str | None = None, date: str | None = None,
              tags: tuple[str, ...] | None = None, circa: bool = False,
              url: str | None = "https://example.org/source") -> Milestone:
    return Milestone(
        id=f"feed-milestone-{n}",
        title=title or f"Milestone {n} between Mongolia and the United States",
        date=HistoricalDate.parse(date or DATES[n % len(DATES)], circa=circa),
        summary=f"What happened in milestone {n}.",
        tags=tags if tags is not None else (TAGS[n % len(TAGS)],),
        people=(f"Person {n}",),
        places=("Ulaanbaatar",),
        sources=(Source(title=f"Source of {n}", quote=f"The passage quoted for {n}.", url=url),),
        notes=f"A note on {n}." if n % 2 else None,
    )


def record_all(store: SqlEventStore, milestones: Sequence[Milestone]) -> list[int]:
    repo = MilestoneRepository(store)
    return repo.save([Decision(repo.get(m.id), record(repo.get(m.id), m)) for m in milestones],
                     {"by": "feed tests"})


def revise_one(store: SqlEventStore, changed: Milestone, reason: str = "corrected") -> None:
    repo = MilestoneRepository(store)
    state = repo.get(changed.id)
    repo.save([Decision(state, revise(state, changed, reason))], {"by": "feed tests"})


def retract_one(store: SqlEventStore, milestone_id: str, reason: str = "withdrawn") -> None:
    repo = MilestoneRepository(store)
    state = repo.get(milestone_id)
    repo.save([Decision(state, retract(state, reason))], {"by": "feed tests"})


def caught_up(store: SqlEventStore) -> ReadModels:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return ReadModels(store.engine)


def documents(store: SqlEventStore, feed: FeedSettings | None = None) -> dict[str, Document]:
    rendered = feed_documents(feed or FeedSettings(), caught_up(store))
    return {d.path: d for d in rendered}


def parse(document: Document | bytes) -> feedparser.FeedParserDict:
    """feedparser, insisting on a well-formed document."""
    body = document.body if isinstance(document, Document) else document
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


# -- a real `chronicle serve` subprocess -------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(directory: Path, port: int, *, main_size: int = 8, archive_size: int = 5,
                 poll_seconds: float = 0.2) -> Path:
    config = directory / "chronicle.toml"
    config.write_text(f"""
[feed]
base_url = "http://127.0.0.1:{port}"
tag_authority = "chronicle.test,2026"
main_size = {main_size}
archive_size = {archive_size}

[server]
scheduler = false
load_on_start = false
poll_seconds = {poll_seconds}
""", encoding="utf-8")
    return config


def settings_for(config: Path, database_url: str) -> Settings:
    from chronicle.config import load_settings

    return load_settings(config, database_url=database_url)


@dataclass
class Server:
    process: subprocess.Popen[str]
    base: str
    log_path: Path

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.base + path, timeout=10, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = 60) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                answer = self.get("/healthz")
                if answer.status_code == 200:
                    return answer.json()
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not healthy after {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"server ignored SIGTERM for {timeout}s:\n{self.log()}") from None


def start_server(config: Path, database_url: str, port: int, log_path: Path,
                 *extra: str) -> Server:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("CHRONICLE_CONFIG", None)
    handle = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "chronicle", "--config", str(config), "--database-url",
         database_url, "serve", "--port", str(port), *extra],
        stdout=handle, stderr=subprocess.STDOUT, text=True, env=env, cwd=config.parent)
    handle.close()
    return Server(process, f"http://127.0.0.1:{port}", log_path)


def wait_until(condition: object, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(message)
