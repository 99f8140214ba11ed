"""The HTTP layer in-process (the real app, its lifespan and httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chronicle.config import Settings
from chronicle.store import SqlEventStore, open_store
from chronicle.web import create_app
from tests.test_feeds_support import milestone, record_all


class Client:
    """A synchronous face over an app running (with its lifespan) on a private event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def __enter__(self) -> Client:
        self.thread.start()
        self.lifespan = self.app.router.lifespan_context(self.app)
        self._run(self.lifespan.__aenter__())
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                      base_url="http://testserver")
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self.http.aclose())
        self._run(self.lifespan.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._run(self.http.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def client(store: SqlEventStore, db_url: str) -> Iterator[Client]:
    record_all(store, [milestone(n) for n in range(3)])
    settings = Settings(database_url=db_url, server={"poll_seconds": 0.1})
    with Client(create_app(settings, store)) as client:
        yield client


def test_only_get_and_head(client: Client) -> None:
    answer = client.post("/feeds/milestones.atom")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert client.head("/feeds/milestones.json").status_code == 200


def test_validators_are_parsed_as_rfc_9110_says(client: Client) -> None:
    first = client.get("/feeds/milestones.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    cases = {
        "garbage date is ignored": ({"If-Modified-Since": "yesterday"}, 200),
        "a date without zone is ignored": ({"If-Modified-Since": "2999-01-01"}, 200),
        "future date": ({"If-Modified-Since": "Fri, 01 Jan 2999 00:00:00 GMT"}, 304),
        "one second early": ({"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}, 200),
        "exact": ({"If-Modified-Since": modified}, 304),
        "list": ({"If-None-Match": f'"a", {etag}, "b"'}, 304),
        "weak": ({"If-None-Match": f"W/{etag}"}, 304),
        "other": ({"If-None-Match": '"a", "b"'}, 200),
    }
    for name, (headers, status) in cases.items():
        assert client.get("/feeds/milestones.atom", headers=headers).status_code == status, name


def test_unknown_paths_are_404_and_counted(client: Client) -> None:
    assert client.get("/feeds/nothing.atom").status_code == 404
    assert client.get("/feeds/milestones.xml").status_code == 404
    metrics = client.get("/metrics").text
    assert 'chronicle_http_requests_total{route="other",status="404"} 2.0' in metrics


def test_a_server_that_never_reached_its_database_says_so(tmp_path: object) -> None:
    store = open_store("postgresql+psycopg://nobody@127.0.0.1:1/none", migrate_schema=False)
    try:
        with Client(create_app(Settings(), store, follow=False)) as client:
            feed = client.get("/feeds/milestones.atom")
            assert feed.status_code == 503 and feed.headers["retry-after"] == "5"
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["database"]["reachable"] is False
            assert client.get("/elsewhere").status_code == 404
    finally:
        store.close()


def test_a_rendering_failure_is_reported_and_retried(store: SqlEventStore, db_url: str) -> None:
    """A document source that fails is not the database failing: healthz says which."""
    from chronicle.feeds.documents import register_document_source, unregister_document_source
    from chronicle.feeds.model import Document

    broken = {"now": True}

    def flaky(_settings: Settings, _models: object) -> list[Document]:
        if broken["now"]:
            raise RuntimeError("a template is broken")
        return []

    record_all(store, [milestone(0)])
    register_document_source(flaky)
    try:
        settings = Settings(database_url=db_url, server={"poll_seconds": 0.1})
        with Client(create_app(settings, store)) as client:
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["render_error"] == "RuntimeError: a template is broken"
            assert health.json()["database"]["reachable"] is True
            broken["now"] = False
            deadline = time.monotonic() + 10
            while client.get("/healthz").status_code != 200:
                assert time.monotonic() < deadline, client.get("/healthz").json()
                time.sleep(0.05)
            assert client.get("/feeds/milestones.atom").status_code == 200
    finally:
        unregister_document_source(flaky)
