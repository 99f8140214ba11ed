"""Feed models to Documents (bytes at paths), reusing the bytes of feeds that did not change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from chronicle.config import FeedSettings
from chronicle.feeds.catalog import FeedCatalog
from chronicle.feeds.jsonfeed import render_json_feed
from chronicle.feeds.model import Document, Feed, Format
from chronicle.feeds.snapshot import Snapshot, read_snapshot
from chronicle.feeds.xmlfeeds import FeedgenWriter
from chronicle.projections import ReadModels
from chronicle.uitext import SOURCE_LANGUAGE

RenderHook = Callable[[Feed, Format, float], None]   # (feed, format, seconds) per real render


class FeedRenderer:
    """Renders every feed document of a snapshot.

    Equal Feed models give equal bytes, so the bytes of the previous pass are reused for feeds
    that did not change (full archive pages, untouched tags): a new milestone re-renders only
    the documents it appears in. Safe to call from several threads.
    """

    def __init__(self, settings: FeedSettings, *, on_render: RenderHook | None = None,
                 language: str = SOURCE_LANGUAGE) -> None:
        self.catalog = FeedCatalog(settings, language)
        self.xml = FeedgenWriter(self.catalog.settings)
        self.on_render = on_render
        self._memo: dict[tuple[Feed, Format], bytes] = {}
        self._lock = threading.Lock()

    def render(self, feed: Feed, fmt: Format) -> bytes:
        started = time.perf_counter()
        if fmt is Format.JSON:
            body = render_json_feed(feed, self.catalog.settings)
        else:
            body = self.xml.render(feed, fmt)
        if self.on_render is not None:
            self.on_render(feed, fmt, time.perf_counter() - started)
        return body

    def document(self, feed: Feed, fmt: Format, body: bytes) -> Document:
        """A feed's bytes at its path in the site (under the language's prefix)."""
        prefix = self.catalog.prefix
        return Document(prefix + feed.path(fmt), body, fmt.media_type, feed.last_modified,
                        route=f"{prefix}{feed.route}.{fmt}")

    def documents(self, snapshot: Snapshot) -> list[Document]:
        with self._lock:
            memo: dict[tuple[Feed, Format], bytes] = {}
            documents = []
            for feed in self.catalog.feeds(snapshot):
                for fmt in feed.formats:
                    body = self._memo.get((feed, fmt))
                    memo[feed, fmt] = body if body is not None else self.render(feed, fmt)
                    documents.append(self.document(feed, fmt, memo[feed, fmt]))
            self._memo = memo
            return documents


def feed_documents(settings: FeedSettings, read_models: ReadModels,
                   language: str = SOURCE_LANGUAGE) -> list[Document]:
    """Every feed document of the read models as they are now (a one-off renderer)."""
    return FeedRenderer(settings, language=language).documents(
        read_snapshot(read_models, posts_limit=settings.main_size))
