"""DocumentCache.update: a refresh that knows what moved installs one new dict with just that."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from chronicle.feeds.model import Document
from chronicle.web.cache import DocumentCache, Served, strong_etag

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def page(path: str, body: bytes, moment: dt.datetime = T0) -> Document:
    return Document(path, body, "text/html; charset=utf-8", moment, route=path)


def test_update_replaces_the_changed_keeps_the_rest_and_drops_the_removed() -> None:
    cache = DocumentCache()
    kept, dated, gone = page("/a", b"a"), page("/b", b"b"), page("/c", b"c")
    cache.replace([kept, dated, gone], 1)
    before = cache.documents
    seen: list[Mapping[str, Served]] = []
    cache.listeners.append(seen.append)

    later = T0 + dt.timedelta(hours=1)
    cache.update([page("/b", dated.body, later), page("/d", b"d")], ["/c"], 2)

    assert before is not cache.documents and sorted(before) == ["/a", "/b", "/c"]
    assert sorted(cache.documents) == ["/a", "/b", "/d"]
    assert cache.documents["/a"] is before["/a"]               # untouched: the same entry
    assert cache.documents["/b"].etag == before["/b"].etag     # same bytes, same validator
    assert cache.documents["/b"].last_modified == int(later.timestamp())
    assert (cache.position, cache.feeds_position, cache.ready) == (2, 2, True)
    assert seen == [cache.documents]


def test_a_document_that_brings_its_etag_is_served_with_it_and_keeps_it_redated() -> None:
    """The calendars bring an ETag made from their parts (chronicle.pages.calendarparts):
    the cache serves it instead of hashing the body, and keeps it with the bytes."""
    cache = DocumentCache()
    calendar = Document("/calendar.ics", b"BEGIN:VCALENDAR", "text/calendar", T0,
                        etag=b'"parts"')
    cache.replace([calendar, page("/a", b"a")], 1)
    assert cache.documents["/calendar.ics"].etag == b'"parts"'
    assert (b"etag", b'"parts"') in cache.documents["/calendar.ics"].ok_headers
    assert cache.documents["/a"].etag == strong_etag(b"a")      # the others: hashed

    later = T0 + dt.timedelta(hours=1)
    cache.update([Document("/calendar.ics", calendar.body, "text/calendar", later,
                           etag=b'"parts"')], [], 2)
    assert cache.documents["/calendar.ics"].etag == b'"parts"'


def test_a_redated_entry_has_the_headers_a_fresh_one_would_have() -> None:
    """A page re-dated (the same body at a new Last-Modified) is served with the headers
    `Served.prepare` makes, for a 200 page and a retracted page's 410, as a new entry."""
    cache = DocumentCache()
    pages = [page("/a", b"a"), Document("/gone", b"gone", "text/html", T0, status=410)]
    cache.replace(pages, 1)
    before = dict(cache.documents)

    later = T0 + dt.timedelta(days=2)
    again = [Document(d.path, d.body, d.media_type, later, d.route, d.status) for d in pages]
    cache.update(again, [], 2)

    for document in again:
        served, fresh = cache.documents[document.path], Served.prepare(document)
        assert served is not before[document.path] and served.document is document
        assert (served.etag, served.last_modified) == (fresh.etag, fresh.last_modified)
        assert served.ok_headers == fresh.ok_headers
        assert served.not_modified_headers == fresh.not_modified_headers


def test_the_dicts_taking_turns_hold_the_whole_set_and_leave_the_one_read_alone() -> None:
    """`publish` and `update` swap in the dict served before, brought up to date (not a copy):
    over refreshes that change, drop and bring back paths, the served dict holds exactly the
    set, and the one a request read before a swap stays as it was."""
    cache = DocumentCache()
    others = [page(f"/p{number}", b"p") for number in range(50)]   # a dict not worth copying
    cache.replace([page("/a", b"a"), page("/b", b"b"), *others], 1)
    expected = {"/a": b"a", "/b": b"b"} | {other.path: b"p" for other in others}
    served: list[dict[str, Served]] = []
    steps: list[tuple[str, list[Document], list[str]]] = [
        ("publish", [page("/f", b"f1")], []),
        ("update", [page("/a", b"a2")], ["/b"]),
        ("publish", [page("/f", b"f2")], []),
        ("update", [page("/b", b"b3")], ["/a"]),
        ("publish", [], []),
        ("update", [page("/a", b"a4"), page("/c", b"c")], ["/f", "/c"]),
    ]
    for position, (phase, documents, removed) in enumerate(steps, 2):
        read = cache.documents
        held = dict(read)
        if phase == "publish":
            cache.publish(documents, position)
        else:
            cache.update(documents, removed, position)
        for path in removed:
            expected.pop(path, None)
        expected.update((document.path, document.body) for document in documents)
        assert {path: s.document.body for path, s in cache.documents.items()} == expected
        assert read is not cache.documents and read == held
        served.append(cache.documents)
    assert served[1] is not served[0]    # two dicts, in turns:
    assert all(later is earlier for later, earlier in zip(served[2:], served[:-2], strict=True))


def test_an_equal_document_keeps_its_entry_and_a_redated_one_gets_a_new_one() -> None:
    """A document equal to the one served (another object, same bytes and date) keeps the
    very entry (the fast path's prepared heads stay valid); the same bytes at another date
    are a new entry with the same ETag."""
    cache = DocumentCache()
    cache.replace([page("/a", b"a"), page("/b", b"b")], 1)
    before = dict(cache.documents)
    cache.update([page("/a", b"a"), page("/b", before["/b"].document.body, T0 + HOUR)], [], 2)
    assert cache.documents["/a"] is before["/a"]
    assert cache.documents["/b"] is not before["/b"]
    assert cache.documents["/b"].etag == before["/b"].etag
    assert cache.documents["/b"].last_modified == before["/b"].last_modified + 3600
