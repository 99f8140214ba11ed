"""Every document of the site, from the feeds and from later features (pages, calendar).

The server and `chronicle export` both publish exactly this list, so a file exported for
static hosting has the bytes the server answers with. The feeds know no other feature: the
composition root (`chronicle.site`) passes the other sources in (the pages and calendar), and
`register_document_source` adds one at run time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from chronicle.config import Settings
from chronicle.feeds.export import ExportReport, SiteWriter
from chronicle.feeds.live import LiveFeeds
from chronicle.feeds.model import Document
from chronicle.feeds.render import FeedRenderer, RenderHook
from chronicle.feeds.snapshot import read_snapshot
from chronicle.projections import ReadModels

DocumentSource = Callable[[Settings, ReadModels], Iterable[Document]]
_registered: list[DocumentSource] = []


def register_document_source(source: DocumentSource) -> DocumentSource:
    """Add a producer of documents (usable as a decorator)."""
    if source not in _registered:
        _registered.append(source)
    return source


def unregister_document_source(source: DocumentSource) -> None:
    if source in _registered:
        _registered.remove(source)


def extra_sources() -> list[DocumentSource]:
    """The sources registered at run time."""
    return list(_registered)


def checked(documents: list[Document]) -> list[Document]:
    """`documents`, unless a path is listed twice (an error)."""
    seen: set[str] = set()
    for document in documents:
        if document.path in seen:
            raise ValueError(f"two documents claim the path {document.path}")
        seen.add(document.path)
    return documents


def site_documents(settings: Settings, read_models: ReadModels,
                   renderer: FeedRenderer | None = None,
                   sources: Sequence[DocumentSource] | None = None) -> list[Document]:
    """The feeds in every language, then every other source's documents (default: the
    registered ones), rendered from scratch (`renderer`: the English feeds' renderer, to reuse
    its bytes)."""
    renderer = renderer or FeedRenderer(settings.feed)
    snapshot = read_snapshot(read_models, posts_limit=settings.feed.main_size)
    documents = renderer.documents(snapshot)
    for language in settings.feed.languages[1:]:
        documents += FeedRenderer(settings.feed, language=language).documents(snapshot)
    for source in extra_sources() if sources is None else sources:
        documents.extend(source(settings, read_models))
    return checked(documents)


class SiteDocuments:
    """What the server re-renders after each log change: the live feeds, then the other sources.

    The two parts are separate calls so the server can publish the feeds (tens of
    milliseconds) before the pages (seconds on a large chronicle) are rendered.
    `timings` holds the seconds each part took in the last refresh ("feeds", then each
    source's qualified name), for the bench and for profiling.
    """

    def __init__(self, settings: Settings, read_models: ReadModels, *,
                 on_render: RenderHook | None = None,
                 sources: Sequence[DocumentSource] | None = None) -> None:
        self.settings = settings
        self.read_models = read_models
        self.feeds = LiveFeeds(settings.feed, read_models, on_render=on_render)
        self.translated = [LiveFeeds(settings.feed, read_models, on_render=on_render,
                                     language=language)
                           for language in settings.feed.languages[1:]]
        self.sources = sources
        self.timings: dict[str, float] = {}

    def feed_documents(self, position: int) -> list[Document]:
        """The live feeds at `position` in every language (incremental); starts a new set of
        `timings`."""
        started = time.perf_counter()
        documents = self.feeds.documents(position)
        for feeds in self.translated:
            documents += feeds.documents(position)
        self.timings = {"feeds": time.perf_counter() - started}
        return documents

    def with_sources(self, feeds: Iterable[Document]) -> list[Document]:
        """`feeds` followed by every other source's documents, checked for clashing paths."""
        documents = list(feeds)
        for source in extra_sources() if self.sources is None else self.sources:
            started = time.perf_counter()
            documents.extend(source(self.settings, self.read_models))
            self.timings[f"{source.__module__}.{source.__qualname__}"] = (
                time.perf_counter() - started)
        return checked(documents)

    def documents(self, position: int) -> list[Document]:
        """Every document at `position`, in one call (the feeds first)."""
        return self.with_sources(self.feed_documents(position))


def export_site(settings: Settings, read_models: ReadModels, out: Path,
                sources: Sequence[DocumentSource] | None = None) -> ExportReport:
    """Write every document under `out` (the site root); unchanged files are left alone."""
    return SiteWriter(out).write_all(site_documents(settings, read_models, sources=sources))
