"""WebSub publish pings against a real loopback hub: once per change, retried on a 5xx."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from chronicle.feeds.model import Document
from chronicle.pages.screenshots import running_server
from chronicle.pages.websub import HubPinger
from chronicle.store import open_store
from chronicle.upcasters import UPCASTERS
from tests.factories import make_milestone, record_milestones

ATOM = "application/atom+xml; charset=utf-8"
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Hub:
    """Records publish pings; answers each with the next scripted status (then 204)."""

    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                with hub.lock:
                    hub.pings.append(form)
                    status = hub.script.pop(0) if hub.script else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hub"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def urls(self) -> list[str]:
        with self.lock:
            return [ping["hub.url"][0] for ping in self.pings]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub()
    yield running
    running.close()


def feed(path: str, body: bytes, media_type: str = ATOM) -> Document:
    return Document(path, body, media_type, WHEN)


def pinger(hub: Hub, state: Path | None = None) -> HubPinger:
    return HubPinger(hub.url, "https://chronicle.example.org", state_path=state, backoff=0.01)


def test_each_changed_feed_is_announced_once(hub: Hub) -> None:
    publisher = pinger(hub)
    documents = [feed("/feeds/milestones.atom", b"<feed>1</feed>"),
                 feed("/feeds/milestones.json", b"{}", "application/feed+json; charset=utf-8"),
                 feed("/feeds/archive/milestones-0.atom", b"<feed>archive</feed>"),
                 feed("/index.html", b"<html>", "text/html; charset=utf-8")]
    publisher.observe(documents)
    publisher.join()
    assert sorted(hub.urls()) == ["https://chronicle.example.org/feeds/milestones.atom",
                                  "https://chronicle.example.org/feeds/milestones.json"]
    assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
    publisher.observe(documents)             # the same bytes: nothing to announce
    publisher.join()
    assert len(hub.pings) == 2
    documents[0] = feed("/feeds/milestones.atom", b"<feed>2</feed>")
    assert publisher.observe(documents) == ["https://chronicle.example.org/feeds/milestones.atom"]
    publisher.join()
    assert hub.urls()[2:] == ["https://chronicle.example.org/feeds/milestones.atom"]
    publisher.close()


def test_a_5xx_is_retried_with_backoff_and_a_4xx_is_not(hub: Hub) -> None:
    publisher = pinger(hub)
    hub.script = [503, 502]
    publisher.observe([feed("/feeds/milestones.atom", b"a")])
    publisher.join()
    assert len(hub.pings) == 3 and publisher.sent == [
        "https://chronicle.example.org/feeds/milestones.atom"]
    hub.script = [400]
    publisher.observe([feed("/feeds/milestones.atom", b"b")])
    publisher.join()
    assert len(hub.pings) == 4 and len(publisher.sent) == 1
    # the refused change was given back: the next look announces it again
    publisher.observe([feed("/feeds/milestones.atom", b"b")])
    publisher.join()
    assert len(hub.pings) == 5 and len(publisher.sent) == 2
    publisher.close()


def test_a_state_file_survives_restarts_and_is_shared(hub: Hub, tmp_path: Path) -> None:
    state = tmp_path / "websub.json"
    documents = [feed("/feeds/milestones.atom", b"a"), feed("/feeds/tags/x.atom", b"x")]
    first = pinger(hub, state)
    first.observe(documents)
    first.join()
    assert len(hub.pings) == 2
    second, third = pinger(hub, state), pinger(hub, state)   # e.g. a restart, two workers
    for publisher in (second, third):
        publisher.observe(documents)
    changed = [feed("/feeds/milestones.atom", b"a2"), documents[1]]
    threads = [threading.Thread(target=p.observe, args=(changed,)) for p in (second, third)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for publisher in (first, second, third):
        publisher.join()
        publisher.close()
    assert hub.urls() == ["https://chronicle.example.org/feeds/milestones.atom",
                          "https://chronicle.example.org/feeds/tags/x.atom",
                          "https://chronicle.example.org/feeds/milestones.atom"]


def wait_for(condition: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def settle(hub: Hub, quiet: float = 1.5, timeout: float = 30) -> list[str]:
    """The pings once none has arrived for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(hub.pings)
        if count != seen:
            seen, since = count, time.monotonic()
        elif count and time.monotonic() - since >= quiet:
            return hub.urls()
        time.sleep(0.1)
    raise AssertionError(f"the pings did not settle: {hub.urls()}")


@pytest.mark.slow
def test_the_server_announces_its_feeds_once_per_change(hub: Hub, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'chronicle.db'}"
    store = open_store(database, upcasters=UPCASTERS)
    record_milestones(store, [make_milestone(1, date="1987-01-27", tags=("diplomacy",)),
                              make_milestone(2, date="1990", tags=("trade",))])
    hub.script = [503]                         # the very first ping fails once
    env = {"CHRONICLE_FEED__HUB_URL": hub.url, "CHRONICLE_EXPORT_DIR": str(tmp_path),
           "CHRONICLE_SERVER__LOAD_ON_START": "false", "CHRONICLE_SERVER__POLL_SECONDS": "0.2"}
    try:
        with running_server(database, env=env) as base:
            first = settle(hub)
            announced = {f"{base}{lang}/feeds/{name}.{fmt}" for lang in ("", "/mn")
                         for name in ("milestones", "anniversaries", "tags/diplomacy",
                                      "tags/trade")
                         for fmt in ("atom", "rss", "json")}
            assert set(first) == announced
            assert len(first) == len(announced) + 1            # one retry after the 503
            atom = httpx.get(f"{base}/feeds/milestones.atom").text
            assert f'href="{hub.url}" rel="hub"' in atom
            assert f'href="{base}/feeds/milestones.atom" rel="self"' in atom
            rss = httpx.get(f"{base}/feeds/milestones.rss").text
            assert f'href="{hub.url}" rel="hub"' in rss

            record_milestones(store, [make_milestone(3, date="2019-07", tags=("trade",))])
            wait_for(lambda: len(hub.pings) > len(first))
            changed = settle(hub)[len(first):]
            assert sorted(changed) == sorted(
                f"{base}{lang}/feeds/{name}.{fmt}" for lang in ("", "/mn")
                for name in ("milestones", "tags/trade") for fmt in ("atom", "rss", "json"))
        assert (tmp_path / ".websub-state.json").is_file()
    finally:
        store.close()
