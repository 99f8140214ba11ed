"""Rendered documents held in memory with their validators and ready-made response headers.

A request only looks a path up in a dict: no database, no rendering, no header building.
The follower swaps in another dict when the log advanced (never mutating the one served),
so a request sees one consistent dict: the old set, the old set with the new feeds (see
DocumentCache), or the new set. Two dicts take turns: the one served a phase before is
brought up to date with what changed since and swapped in, instead of a copy of ~200,000
entries made twice a refresh (a request holds the dict it read only while it answers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from email.utils import format_datetime
from functools import lru_cache
from http import HTTPStatus
from typing import NamedTuple

from chronicle.feeds.model import Document
from chronicle.web.hardening import SECURITY_HEADERS

CACHE_CONTROL = "public, max-age=60"
OK_STATUS = int(HTTPStatus.OK)   # a plain int: an enum member's lookup costs a request 0.2 µs
Headers = list[tuple[bytes, bytes]]
# A dict is copied rather than brought up to date when it holds fewer than this many
# entries per one it lacks: a copy costs ~15 ns an entry, an entry set in Python ~150.
COPY_BELOW = 10


def strong_etag(body: bytes) -> bytes:
    """A strong validator: equal bytes, equal ETag, on every server and after every restart."""
    return b'"' + hashlib.sha256(body).hexdigest()[:40].encode() + b'"'


@lru_cache(maxsize=64)
def _http_date(moment: dt.datetime, zone: dt.tzinfo | None) -> tuple[tuple[bytes, bytes], int]:
    """A Last-Modified header and its whole seconds, made once for the many documents that
    share it (a full render dates every tag, year and source page to the snapshot's time).
    `zone`: the moment's, in the key, so an equal moment elsewhere is formatted (or
    refused) as before."""
    header = b"last-modified", format_datetime(moment, usegmt=True).encode()
    return header, int(moment.timestamp())


@lru_cache(maxsize=16)
def _content_type(media_type: str) -> tuple[bytes, bytes]:
    return b"content-type", media_type.encode()


@lru_cache(maxsize=8)
def _cache_control(value: str) -> tuple[bytes, bytes]:
    return b"cache-control", value.encode()


class Served(NamedTuple):
    """One document as the server answers it; immutable (a tuple: a full render makes one a
    document, ~200,000 at 100,000 milestones, and a tuple is made in a third of a frozen
    dataclass's time)."""

    document: Document
    etag: bytes
    last_modified: int            # whole seconds since the epoch, as HTTP dates carry
    ok_headers: Headers           # the document's status (200, or 410 for a retracted page), HEAD
    not_modified_headers: Headers  # 304: validators and caching, no body headers

    @property
    def status(self) -> int:
        return self.document.status

    @classmethod
    def prepare(cls, document: Document, cache_control: str = CACHE_CONTROL,
                etag: bytes | None = None) -> Served:
        """`etag`: the body's, when the caller already knows it (the same bytes as before);
        else the document's own (`Document.etag`), else the body's SHA-256.

        A document whose status is not 200 (a retracted milestone's 410) carries no
        validators: conditional requests apply to 2xx answers only (RFC 9110 §13.2.1).
        """
        etag = etag or document.etag or strong_etag(document.body)
        modified, seconds = _http_date(document.last_modified, document.last_modified.tzinfo)
        caching = _cache_control(cache_control)
        common = [(b"etag", etag), modified, caching]
        ok = [_content_type(document.media_type),
              (b"content-length", str(len(document.body)).encode()),
              *SECURITY_HEADERS, *(common if document.status == OK_STATUS else [caching])]
        return cls(document, etag, seconds, ok, common)


Changes = dict[str, Served | None]   # path → its new entry; None: gone


class DocumentCache:
    """Path → Served, replaced as a whole, or ahead of that for a few documents.

    A refresh publishes in two phases: `publish` adds the feeds of the new position at once,
    keeping every other document; `replace` then installs the whole new set (so documents
    that no longer exist disappear), or `update` the documents that changed and the paths
    gone. Between the two, `position` is still the one every
    served document reflects (the last `replace` or `update`), while `feeds_position` is the
    newer one the published feeds reflect; after `replace` or `update` both are equal.
    """

    def __init__(self, cache_control: str = CACHE_CONTROL) -> None:
        self.cache_control = cache_control
        self.documents: dict[str, Served] = {}
        self.position = 0
        self.feeds_position = 0
        self.ready = False
        # Called with the new dict after each publish and replace (e.g. WebSub pings).
        self.listeners: list[Callable[[Mapping[str, Served]], None]] = []
        # The dict served before `documents`, and what it lacks of it (path → entry, None:
        # gone); None: none (made by copying, once after each `replace`).
        self._spare: dict[str, Served] | None = None
        self._lag: Changes = {}

    def _install(self, documents: dict[str, Served]) -> None:
        self.documents = documents  # one reference assignment: readers never see a mix
        for listener in self.listeners:
            listener(documents)

    def _swap(self, changes: Changes) -> None:
        """Serve `documents` with `changes`: the spare dict, brought up to date, swapped in.

        The spare was last served one phase of a refresh ago; a request holds the dict it
        read only while answering (chronicle.web.fastpath checks its heads by entry)."""
        spare, lag = self._spare, self._lag
        if spare is None or len(lag) * COPY_BELOW > len(self.documents):
            spare, lag = dict(self.documents), {}
        self._spare = None      # half brought up to date (never, short of memory): remade
        for table in (lag, changes):
            for path, served in table.items():
                if served is None:
                    spare.pop(path, None)
                else:
                    spare[path] = served
        self._spare, self._lag = self.documents, changes
        self._install(spare)

    def _served(self, document: Document, old: Served | None,
                etags: dict[int, bytes]) -> Served:
        """`document` as served, reusing `old` (the entry previously served at its path, if
        any) or its ETag for the same bytes.

        `etags`: by the identity of bodies served in this pass, so a body published at two
        paths (a calendar) is hashed once; the caller holds the documents meanwhile."""
        if old is not None:
            held = old.document
            # A page dated anew (each page a full render gives the snapshot's time) differs
            # at once in its Last-Modified.
            if held is document or (held.last_modified == document.last_modified
                                    and held == document):
                return old
        body = document.body
        # Bytes kept from the last pass with a new Last-Modified: no need to hash again.
        etag = old.etag if old is not None and old.document.body is body else etags.get(id(body))
        served = Served.prepare(document, self.cache_control, etag)
        etags[id(body)] = served.etag
        return served

    def _put(self, changes: Changes, document: Document,
             previous: dict[str, Served], etags: dict[int, bytes]) -> None:
        """`changes[document.path]` served from `document`, unless the very object is served
        already (most feeds of a refresh, thousands at 100,000 milestones: two look-ups)."""
        path = document.path
        old = previous.get(path)
        held = changes.get(path, old)
        if held is None or held.document is not document:
            changes[path] = self._served(document, old, etags)

    def publish(self, documents: Iterable[Document], position: int) -> None:
        """Serve `documents` now, keeping every other path: the first phase of a refresh.

        `ready` and `position` are left alone: the rest of the set is still older.
        """
        previous = self.documents
        changes: Changes = {}
        etags: dict[int, bytes] = {}
        for document in documents:
            self._put(changes, document, previous, etags)
        self.feeds_position = position
        self._swap(changes)

    def replace(self, documents: Iterable[Document], position: int) -> None:
        """Serve exactly `documents`, all rendered at `position`."""
        previous = self.documents
        etags: dict[int, bytes] = {}
        fresh = {document.path: self._served(document, previous.get(document.path), etags)
                 for document in documents}
        self.position = self.feeds_position = position
        self.ready = True
        self._spare, self._lag = None, {}
        self._install(fresh)

    def update(self, changed: Iterable[Document], removed: Iterable[str], position: int) -> None:
        """Serve `changed` in place of what their paths held and drop `removed`, all at
        `position`: `replace` for a refresh that knows what moved (the rest is kept as is,
        not prepared again)."""
        previous = self.documents
        changes: Changes = dict.fromkeys(removed)
        etags: dict[int, bytes] = {}
        for document in changed:
            self._put(changes, document, previous, etags)
        self.position = self.feeds_position = position
        self.ready = True
        self._swap(changes)

    def get(self, path: str) -> Served | None:
        return self.documents.get(path)
