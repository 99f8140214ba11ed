"""RFC 5005 archived feeds: linked, complete, and full pages stable as the chronicle grows."""

from __future__ import annotations

from collections.abc import Callable

import feedparser
from lxml import etree

from chronicle.config import FeedSettings
from chronicle.feeds import Document
from chronicle.store import SqlEventStore
from tests.test_feeds_support import (
    caught_up,
    documents,
    milestone,
    parse,
    record_all,
    retract_one,
)

FH_ARCHIVE = b"<fh:archive/>"
AT = "http://purl.org/atompub/tombstones/1.0"
SETTINGS = FeedSettings(main_size=3, archive_size=5)
BASE = SETTINGS.base_url


def links(feed: feedparser.FeedParserDict) -> dict[str, str]:
    return {link.rel: link.href for link in feed.feed.links}


def walk(fetch: Callable[[str], bytes], start: str) -> tuple[list[str], list[list[str]]]:
    """Follow prev-archive from the current feed: (current ids, ids of each archive page)."""
    current = parse(fetch(start))
    pages = []
    url = links(current).get("prev-archive")
    seen = set()
    while url:
        assert url not in seen, f"archive loop at {url}"
        seen.add(url)
        body = fetch(url)
        assert FH_ARCHIVE in body
        page = parse(body)
        assert links(page)["current"] == start
        pages.append([e.id for e in page.entries])
        url = links(page).get("prev-archive")
    return [e.id for e in current.entries], pages


def fetcher(docs: dict[str, Document]) -> Callable[[str], bytes]:
    return lambda url: docs[url.removeprefix(BASE)].body


def test_walking_prev_archive_collects_every_entry_exactly_once(store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(23)])
    docs = documents(store, SETTINGS)
    assert sorted(p for p in docs if "/archive/" in p) == [
        f"/feeds/archive/milestones-{k}.atom" for k in range(4)]
    current, pages = walk(fetcher(docs), f"{BASE}/feeds/milestones.atom")
    assert [len(page) for page in pages] == [5, 5, 5, 5]
    archived = [entry for page in pages for entry in page]
    assert len(archived) == len(set(archived)) == 20  # no entry on two pages
    everything = {e.id for e in parse(docs["/feeds/milestones.atom"]).entries} | set(archived)
    assert len(everything) == 23 and set(current) | set(archived) == everything
    # Page k holds entries k*5+1 … (k+1)*5 in recorded order (shown newest first).
    order = [f"tag:{SETTINGS.tag_authority}:milestone/{v.id}"
             for v in caught_up(store).oldest_first()]
    for k, page in enumerate(reversed(pages)):
        assert page == list(reversed(order[k * 5:(k + 1) * 5]))


def test_archive_links_both_ways(store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(15)])
    docs = documents(store, SETTINGS)
    first = parse(docs["/feeds/archive/milestones-0.atom"])
    middle = parse(docs["/feeds/archive/milestones-1.atom"])
    newest = parse(docs["/feeds/archive/milestones-2.atom"])
    archive = f"{BASE}/feeds/archive/milestones-"
    assert "prev-archive" not in links(first)
    assert links(first)["next-archive"] == f"{archive}1.atom"
    assert links(middle)["prev-archive"] == f"{archive}0.atom"
    assert links(middle)["next-archive"] == f"{archive}2.atom"
    assert "next-archive" not in links(newest)
    assert links(newest)["self"] == f"{archive}2.atom"
    assert links(parse(docs["/feeds/milestones.atom"]))["prev-archive"] == f"{archive}2.atom"
    assert FH_ARCHIVE not in docs["/feeds/milestones.atom"].body


def test_full_pages_keep_their_bytes_as_the_chronicle_grows(store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(10)])
    before = documents(store, SETTINGS)
    record_all(store, [milestone(n) for n in range(10, 14)])
    after = documents(store, SETTINGS)
    for k in (0, 1):
        path = f"/feeds/archive/milestones-{k}.atom"
        assert after[path] == before[path], path
    assert "/feeds/archive/milestones-2.atom" not in after
    record_all(store, [milestone(14)])   # page 2 fills: page 1 gains its next-archive link
    grown = documents(store, SETTINGS)
    assert grown["/feeds/archive/milestones-0.atom"] == before["/feeds/archive/milestones-0.atom"]
    page1 = grown["/feeds/archive/milestones-1.atom"]
    assert page1.body != before["/feeds/archive/milestones-1.atom"].body
    assert page1.last_modified > before["/feeds/archive/milestones-1.atom"].last_modified
    assert b"next-archive" in page1.body


def test_a_retraction_keeps_its_slot_as_an_rfc6721_tombstone(store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(12)])
    before = documents(store, SETTINGS)
    retract_one(store, "feed-milestone-2", reason="a duplicate")
    docs = documents(store, SETTINGS)
    current, pages = walk(fetcher(docs), f"{BASE}/feeds/milestones.atom")
    archived = {entry for page in pages for entry in page}
    assert len(archived | set(current)) == 12
    # The current feed shows it retracted; the archive page no longer holds it as an entry…
    assert current[0].endswith("/feed-milestone-2")
    assert not any(entry.endswith("/feed-milestone-2") for entry in archived)
    page = docs["/feeds/archive/milestones-0.atom"].body
    tree = etree.fromstring(page)
    tombstones = tree.findall(f"{{{AT}}}deleted-entry")
    # …but says it was deleted, with when and why; the later page did not shift.
    assert [t.get("ref") for t in tombstones] == [
        "tag:chronicle.example.org,2026:milestone/feed-milestone-2"]
    assert tombstones[0].findtext(f"{{{AT}}}comment") == "a duplicate"
    assert tombstones[0].get("when", "").startswith("20")
    assert (docs["/feeds/archive/milestones-1.atom"].body
            == before["/feeds/archive/milestones-1.atom"].body)
