"""`chronicle serve` as a real subprocess, on SQLite and PostgreSQL: feeds over real HTTP.

One server per database kind serves the whole module (starting one costs seconds); the
tests that change the log or stop the server come last.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import httpx
import pytest

from chronicle.store import SqlEventStore, open_store
from tests.conftest import fresh_schema
from tests.test_feeds_support import (
    Server,
    caught_up,
    free_port,
    milestone,
    record_all,
    retract_one,
    revise_one,
    start_server,
    wait_until,
    write_config,
)

AUTHORITY = "chronicle.test,2026"
MAIN_SIZE, ARCHIVE_SIZE, COUNT = 8, 5, 23


@dataclass
class Served:
    server: Server
    store: SqlEventStore
    database_url: str

    def url(self, path: str) -> str:
        return self.server.base + path


def _database(kind: str, tmp: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'chronicle.db'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_server"), "t_serve") as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"serve-{request.param}")
    databases = _database(request.param, tmp, request)
    database_url = next(databases)
    store = open_store(database_url)
    record_all(store, [milestone(n) for n in range(COUNT)])
    revise_one(store, milestone(3, title="A revised title"))
    retract_one(store, "feed-milestone-4")
    port = free_port()
    config = write_config(tmp, port, main_size=MAIN_SIZE, archive_size=ARCHIVE_SIZE)
    server = start_server(config, database_url, port, tmp / "server.log")
    try:
        server.wait_healthy()
        yield Served(server, store, database_url)
    finally:
        server.stop()
        store.close()
        next(databases, None)


def entry_ids(n_values: list[int]) -> list[str]:
    return [f"tag:{AUTHORITY}:milestone/feed-milestone-{n}" for n in n_values]


def test_feeds_parse_over_http_with_their_content_types(served: Served) -> None:
    # Last changed first: 4 was retracted last, 3 revised before; the others were recorded
    # together: the MAIN_SIZE - 2 with the latest historical dates (2019: 21, 15, 9; 2004:
    # 17, 11, 5), then what no full archive page holds yet (22: 1990, 20: 1899).
    newest = [4, 3, 21, 15, 9, 17, 11, 5, 22, 20]
    for path, version, media in (
            ("/feeds/milestones.atom", "atom10", "application/atom+xml; charset=utf-8"),
            ("/feeds/milestones.rss", "rss20", "application/rss+xml; charset=utf-8")):
        feed = feedparser.parse(served.url(path))
        assert not feed.bozo, feed.get("bozo_exception")
        assert (feed.status, feed.version) == (200, version)
        assert feed.headers["content-type"] == media
        assert [e.id for e in feed.entries] == entry_ids(newest)
        assert feed.entries[0].title.startswith("Retracted: ")
        assert all(e.tags and e.published for e in feed.entries[1:])
    answer = served.server.get("/feeds/milestones.json")
    assert answer.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert [item["id"] for item in answer.json()["items"]] == entry_ids(newest)
    revised = feedparser.parse(served.url("/feeds/archive/milestones-0.atom"))
    titles = {e.id: e.title for e in revised.entries}
    assert titles[entry_ids([3])[0]] == "30 July – 2 August 2019: A revised title"


def test_conditional_get_round_trips(served: Served) -> None:
    first = served.server.get("/feeds/milestones.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and first.headers["cache-control"] == "public, max-age=60"
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified},
                    {"If-None-Match": f'"other", W/{etag}'}, {"If-None-Match": "*"}):
        again = served.server.get("/feeds/milestones.atom", headers=headers)
        assert again.status_code == 304, headers
        assert again.content == b"" and again.headers["etag"] == etag
        assert "content-length" not in again.headers or again.headers["content-length"] == "0"
    # If-None-Match wins over If-Modified-Since; a stale validator gets the document.
    stale = served.server.get("/feeds/milestones.atom",
                              headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert stale.status_code == 200 and stale.content == first.content
    old = served.server.get("/feeds/milestones.atom",
                            headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert old.status_code == 200
    head = httpx.head(served.url("/feeds/milestones.atom"), timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(first.content)
    assert head.headers["etag"] == etag
    head304 = httpx.head(served.url("/feeds/milestones.atom"), headers={"If-None-Match": etag})
    assert head304.status_code == 304
    # A real feed client sends back what it was given.
    parsed = feedparser.parse(served.url("/feeds/milestones.rss"))
    again = feedparser.parse(served.url("/feeds/milestones.rss"), etag=parsed.etag)
    assert again.status == 304 and again.entries == []
    again = feedparser.parse(served.url("/feeds/milestones.rss"), modified=parsed.modified)
    assert again.status == 304


def test_archives_are_linked_and_complete_over_http(served: Served) -> None:
    start = served.url("/feeds/milestones.atom")
    current = feedparser.parse(start)
    collected = {e.id for e in current.entries}
    url = next(link.href for link in current.feed.links if link.rel == "prev-archive")
    pages = 0
    while url:
        page = feedparser.parse(url)
        assert not page.bozo and page.status == 200
        ids = [e.id for e in page.entries]
        rels = {link.rel: link.href for link in page.feed.links}
        # The oldest page keeps retracted 4's slot as an at:deleted-entry, not an entry.
        assert len(ids) == ARCHIVE_SIZE - ("prev-archive" not in rels)
        assert not collected & set(ids) - {e.id for e in current.entries}
        collected |= set(ids)
        pages += 1
        assert rels["current"] == start
        url = rels.get("prev-archive")
    assert pages == COUNT // ARCHIVE_SIZE
    assert collected == set(entry_ids(list(range(COUNT))))  # 4 as "Retracted: …" in current


def test_tag_and_anniversary_feeds_over_http(served: Served) -> None:
    models = caught_up(served.store)
    for tag in models.tags():
        for ext in ("atom", "rss"):
            feed = feedparser.parse(served.url(f"/feeds/tags/{tag.tag}.{ext}"))
            assert not feed.bozo and len(feed.entries) == min(tag.count, MAIN_SIZE)
            assert all(tag.tag in [t.term for t in e.tags] for e in feed.entries)
        assert served.server.get(f"/feeds/tags/{tag.tag}.json").status_code == 200
    assert served.server.get("/feeds/tags/no-such-tag.atom").status_code == 404
    for ext in ("atom", "rss"):
        anniversaries = feedparser.parse(served.url(f"/feeds/anniversaries.{ext}"))
        assert not anniversaries.bozo and anniversaries.status == 200
    assert json.loads(served.server.get("/feeds/anniversaries.json").content)["version"] == (
        "https://jsonfeed.org/version/1.1")


def test_healthz_and_metrics(served: Served) -> None:
    health = served.server.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["database"]["reachable"] is True
    assert body["head"] == body["position"] == served.store.head() and body["lag"] == 0
    served.server.get("/feeds/milestones.atom")
    metrics = served.server.get("/metrics").text
    assert 'chronicle_http_requests_total{route="/feeds/milestones.atom",status="200"}' in metrics
    assert 'chronicle_feed_renders_total{format="atom"}' in metrics
    assert 'chronicle_posts{state="held"} 0.0' in metrics  # posting states, for alerting rules
    assert f"chronicle_projection_position {float(served.store.head())}" in metrics
    assert f"chronicle_log_head {float(served.store.head())}" in metrics


def test_a_milestone_appended_by_another_process_appears_without_restart(
        served: Served) -> None:
    before = served.server.get("/feeds/milestones.atom")
    started = time.monotonic()
    record_all(served.store, [milestone(100, title="Appended while serving")])
    new_id = entry_ids([100])[0]

    def visible() -> bool:
        return new_id.encode() in served.server.get("/feeds/milestones.atom").content

    wait_until(visible, 5, "the new milestone did not appear within 5 seconds")
    took = time.monotonic() - started
    after = served.server.get("/feeds/milestones.atom")
    assert after.headers["etag"] != before.headers["etag"]
    stale = served.server.get("/feeds/milestones.atom",
                              headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200
    assert feedparser.parse(after.content).entries[0].title.endswith("Appended while serving")
    assert served.server.get("/healthz").json()["position"] == served.store.head()
    print(f"appeared after {took:.2f}s")


def test_sigterm_stops_the_server_cleanly(served: Served) -> None:
    assert served.server.stop() == 0
    log = served.server.log()
    assert "serving on http://127.0.0.1:" in log and "stopped" in log
    assert "GET /feeds/milestones.atom" not in log  # no access log unless --access-log
