"""Two-phase publishing: a new milestone reaches the feeds while the pages are still rendering.

A real document source that blocks on a threading.Event stands for a slow page render; the
app, its follower thread and the HTTP layer are the real ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

import pytest

from chronicle.config import Settings
from chronicle.feeds.documents import register_document_source, unregister_document_source
from chronicle.feeds.model import Document
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from chronicle.web import create_app
from tests.test_feeds_support import milestone, record_all, wait_until
from tests.test_serve_http import Client

MAIN_ATOM = "/feeds/milestones.atom"


class SlowSource:
    """A document source that, once armed, waits for `release` before answering."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.__qualname__ = self.__name__ = "SlowSource"

    def __call__(self, _settings: Settings, read_models: ReadModels) -> Iterable[Document]:
        if self.armed:
            self.entered.set()
            assert self.release.wait(30), "the test never released the source"
        return []


@pytest.fixture
def slow() -> Iterator[SlowSource]:
    source = SlowSource()
    register_document_source(source)
    try:
        yield source
    finally:
        source.release.set()
        unregister_document_source(source)


def test_new_feeds_are_served_while_the_pages_still_render(
        store: SqlEventStore, db_url: str, slow: SlowSource) -> None:
    record_all(store, [milestone(n) for n in range(3)])
    settings = Settings(database_url=db_url, server={"poll_seconds": 0.1})
    with Client(create_app(settings, store)) as client:
        before = client.get("/healthz").json()
        assert before["status"] == "ok"
        old_page = client.get("/milestones/feed-milestone-0")
        assert old_page.status_code == 200
        assert client.get("/milestones/feed-milestone-3").status_code == 404

        slow.armed = True
        record_all(store, [milestone(3, title="Published before the pages")])
        assert slow.entered.wait(30), "the follower never reached the slow source"
        feed = client.get(MAIN_ATOM)
        assert feed.status_code == 200 and b"Published before the pages" in feed.content
        # The pages are still the old set: none dropped, the new one not there yet.
        assert client.get("/milestones/feed-milestone-0").content == old_page.content
        assert client.get("/milestones/feed-milestone-3").status_code == 404
        during = client.get("/healthz").json()
        assert during["served_position"] == before["served_position"]
        assert during["status"] == "ok"

        slow.release.set()
        wait_until(lambda: client.get("/milestones/feed-milestone-3").status_code == 200,
                   30, "the pages never caught up after the source was released")
        after = client.get("/healthz").json()
        assert after["served_position"] > before["served_position"]
        assert after["documents"] > before["documents"]
        assert b"Published before the pages" in client.get(MAIN_ATOM).content


def test_a_refresh_between_phases_reports_both_positions(
        store: SqlEventStore, db_url: str, slow: SlowSource) -> None:
    """`position` stays the one every document reflects; `feeds_position` runs ahead."""
    record_all(store, [milestone(n) for n in range(2)])
    settings = Settings(database_url=db_url, server={"poll_seconds": 0.1})
    app = create_app(settings, store)
    cache = app.state.chronicle.cache
    with Client(app) as client:
        first, paths = cache.position, set(cache.documents)
        assert cache.feeds_position == first
        slow.armed = True
        record_all(store, [milestone(2)])
        assert slow.entered.wait(30)
        assert cache.position == first and cache.feeds_position > first
        health = client.get("/healthz").json()
        assert health["served_position"] == first < health["feeds_position"]
        assert paths <= set(cache.documents), "publishing the feeds dropped documents"
        slow.release.set()
        deadline = time.monotonic() + 30
        while cache.position == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cache.position == cache.feeds_position > first
