"""Rendered documents held in memory with their validators and ready-made response headers.

A request only looks a path up in a dict: no database, no rendering, no header building.
The follower replaces the whole dict at once when the log advanced, so a request sees either
the old set of documents or the new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import format_datetime

from chronicle.feeds.model import Document

CACHE_CONTROL = "public, max-age=60"
Headers = list[tuple[bytes, bytes]]


def strong_etag(body: bytes) -> bytes:
    """A strong validator: equal bytes, equal ETag, on every server and after every restart."""
    return b'"' + hashlib.sha256(body).hexdigest()[:40].encode() + b'"'


@dataclass(frozen=True, slots=True)
class Served:
    """One document as the server answers it."""

    document: Document
    etag: bytes
    last_modified: int            # whole seconds since the epoch, as HTTP dates carry
    ok_headers: Headers           # 200 and HEAD
    not_modified_headers: Headers  # 304: validators and caching, no body headers

    @classmethod
    def prepare(cls, document: Document, cache_control: str = CACHE_CONTROL,
                etag: bytes | None = None) -> Served:
        """`etag`: the body's, when the caller already knows it (the same bytes as before)."""
        etag = etag or strong_etag(document.body)
        modified = format_datetime(document.last_modified, usegmt=True).encode()
        common = [(b"etag", etag), (b"last-modified", modified),
                  (b"cache-control", cache_control.encode())]
        ok = [(b"content-type", document.media_type.encode()),
              (b"content-length", str(len(document.body)).encode()),
              (b"x-content-type-options", b"nosniff"), *common]
        return cls(document=document, etag=etag,
                   last_modified=int(document.last_modified.timestamp()),
                   ok_headers=ok, not_modified_headers=common)


class DocumentCache:
    """Path → Served, replaced as a whole."""

    def __init__(self, cache_control: str = CACHE_CONTROL) -> None:
        self.cache_control = cache_control
        self.documents: dict[str, Served] = {}
        self.position = 0
        self.ready = False

    def replace(self, documents: Iterable[Document], position: int) -> None:
        previous = self.documents
        fresh = {}
        for document in documents:
            old = previous.get(document.path)
            if old is not None and (old.document is document or old.document == document):
                fresh[document.path] = old
                continue
            # Bytes kept from the last pass with a new Last-Modified: no need to hash again.
            etag = old.etag if old is not None and old.document.body is document.body else None
            fresh[document.path] = Served.prepare(document, self.cache_control, etag)
        self.documents = fresh  # one reference assignment: readers never see a mix
        self.position = position
        self.ready = True

    def get(self, path: str) -> Served | None:
        return self.documents.get(path)
