"""The fast path's prepared heads follow the entry answered, not the dict: the cache's two
dicts take turns (chronicle.web.cache.DocumentCache._swap), so the same dict comes back
with other entries."""

from __future__ import annotations

import datetime as dt

from chronicle.feeds.model import Document
from chronicle.web.cache import DocumentCache
from chronicle.web.fastpath import DocumentAnswers
from chronicle.web.metrics import Metrics

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DEFAULTS = [(b"server", b"uvicorn"), (b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")]


def page(body: bytes, moment: dt.datetime = T0) -> Document:
    return Document("/a", body, "text/html; charset=utf-8", moment, route="/a")


def test_a_dict_that_comes_back_changed_is_answered_from_its_new_entry() -> None:
    cache = DocumentCache()
    answers = DocumentAnswers(cache, Metrics())
    cache.replace([page(b"one")], 1)
    cache.update([], [], 2)          # from here on the two dicts take turns
    first = cache.documents

    def answer() -> bytes:
        return b"".join(answers.answer("GET", "/a", None, None, DEFAULTS, True) or ())

    assert answer().endswith(b"\r\n\r\none")
    cache.publish([], 3)
    cache.update([page(b"two, longer", T0 + dt.timedelta(hours=1))], [], 3)
    assert cache.documents is first  # the same dict again, another entry in it
    again = answer()
    assert again.endswith(b"\r\n\r\ntwo, longer")
    assert b"content-length: 11\r\n" in again
    assert cache.documents["/a"].etag in again
