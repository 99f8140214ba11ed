"""Every document of the site, from the feeds and from later features (pages, calendar).

The server and `chronicle export` both publish exactly this list, so a file exported for
static hosting has the bytes the server answers with. The feeds know no other feature: the
composition root (`chronicle.site`) passes the other sources in (the pages and calendar), and
`register_document_source` adds one at run time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chronicle.config import Settings
from chronicle.feeds.export import ExportReport, SiteWriter
from chronicle.feeds.live import LiveFeeds
from chronicle.feeds.model import Document
from chronicle.feeds.render import FeedRenderer, RenderHook
from chronicle.feeds.snapshot import read_snapshot
from chronicle.forked import in_processes
from chronicle.projections import ReadModels

DocumentSource = Callable[[Settings, ReadModels], Iterable[Document]]
FORK_FEEDS_FROM = 500   # log positions from which `site_documents` forks for the feeds
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
    its bytes).

    From FORK_FEEDS_FROM log positions the feeds render in a forked process (chronicle.forked)
    while this one renders the other sources: the static export's pages no longer wait for
    the feeds, and the two cores stay busy (the pages fork a process of their own)."""
    chosen = extra_sources() if sources is None else list(sources)

    def feeds() -> list[Document]:
        return _feed_documents(settings, read_models, renderer or FeedRenderer(settings.feed))

    def others() -> list[Document]:
        return [document for source in chosen for document in source(settings, read_models)]

    if renderer is None and chosen and read_models.position() >= FORK_FEEDS_FROM:
        rest, feed_part = in_processes(
            [others, feeds], after_fork=lambda: read_models.engine.dispose(close=False))
        return checked(feed_part + rest)
    documents = feeds()
    return checked(documents + others())


def _feed_documents(settings: Settings, read_models: ReadModels,
                    renderer: FeedRenderer) -> list[Document]:
    snapshot = read_snapshot(read_models, posts_limit=settings.feed.main_size)
    documents = renderer.documents(snapshot)
    for language in settings.feed.languages[1:]:
        documents += FeedRenderer(settings.feed, language=language).documents(snapshot)
    return documents


@dataclass(frozen=True, slots=True)
class Changed:
    """A refresh's outcome: the documents new or changed, and the paths no longer published.

    `changed` is None after a full pass: any document may have changed."""

    changed: list[Document] | None
    removed: frozenset[str] = frozenset()


class LiveSource(Protocol):
    """A source that follows one database: `refresh` brings `documents` to a position."""

    documents: dict[str, Document]

    def refresh(self, position: int) -> Changed: ...


@dataclass(frozen=True, slots=True)
class FollowedSource:
    """A document source that the server can also keep live (`follow`: one per database);
    called like any source, it renders every document from scratch (export)."""

    render: DocumentSource
    follow: Callable[[Settings, ReadModels], LiveSource]

    def __call__(self, settings: Settings, read_models: ReadModels) -> Iterable[Document]:
        return self.render(settings, read_models)


def source_name(source: DocumentSource) -> str:
    """The qualified name `timings` files a source under."""
    if isinstance(source, FollowedSource):
        source = source.render
    return f"{source.__module__}.{source.__qualname__}"


FEEDS = -1  # the owner of the feed documents in SiteDocuments.owners


class SiteDocuments:
    """What the server re-renders after each log change: the live feeds, then the other sources.

    The two parts are separate calls so the server can publish the feeds (tens of
    milliseconds) before the pages are rendered. The feeds and a `FollowedSource` (the
    pages) are kept live, so a refresh hands the cache only what changed (`feed_changes`,
    `changes`).
    `timings` holds the seconds each part took in the last refresh ("feeds", then each
    source's qualified name), for the bench and for profiling.
    """

    def __init__(self, settings: Settings, read_models: ReadModels, *,
                 on_render: RenderHook | None = None,
                 sources: Sequence[DocumentSource] | None = None) -> None:
        self.settings = settings
        self.read_models = read_models
        # One language's live feeds each, English first (FeedSettings puts it there).
        self.languages = [LiveFeeds(settings.feed, read_models, on_render=on_render,
                                    language=language)
                          for language in settings.feed.languages]
        self._relist = True   # the next `feed_changes` lists every feed document
        self.sources = sources
        self.live: dict[DocumentSource, LiveSource] = {}
        self.owners: dict[str, int] = {}   # path → the index of its source (or FEEDS)
        self.paths: dict[int, set[str]] = {}   # the paths of each source (by index)
        self.held: dict[int, list[Document]] = {}  # each whole source's last documents
        self.timings: dict[str, float] = {}
        self.position = 0

    def feed_changes(self, position: int) -> Changed:
        """The live feeds at `position` in every language (incremental): the documents they
        rebuilt and the paths they dropped; every feed document (and the paths gone since the
        last claim) after a refresh that did not reach the end of `changes`, as what it
        rebuilt may never have been served. Starts a new set of `timings`."""
        started = time.perf_counter()
        relist, self._relist = self._relist, True   # until `changes` has claimed these
        changed: list[Document] = []
        removed: set[str] = set()
        for feeds in self.languages:
            outcome = feeds.changes(position)
            changed += outcome.changed
            removed |= outcome.removed
        if relist:
            changed = self.listed_feeds()
            removed = self.paths.get(FEEDS, set()) - {document.path for document in changed}
        self.position = position
        self.timings = {"feeds": time.perf_counter() - started}
        return Changed(changed, frozenset(removed))

    def listed_feeds(self) -> list[Document]:
        """Every feed document of the last refresh, language by language in catalogue order."""
        return [document for feeds in self.languages for document in feeds.listed()]

    def _sources(self) -> list[DocumentSource]:
        return extra_sources() if self.sources is None else list(self.sources)

    def _live(self, source: FollowedSource) -> LiveSource:
        live = self.live.get(source)
        if live is None:
            live = self.live[source] = source.follow(self.settings, self.read_models)
        return live

    def changes(self, feeds: Changed) -> Changed:
        """`feeds` (from `feed_changes`) and every other source's new or changed documents
        at the feeds' position, and the paths gone; a path claimed by two sources is an
        error."""
        try:
            outcome = self._changes(feeds)
        except BaseException:
            self.live.clear()  # a source may have moved on: start the live ones afresh
            raise
        self._relist = False
        return outcome

    def _changes(self, feeds: Changed) -> Changed:
        changed: list[Document] = []
        removed: set[str] = set(feeds.removed)
        self._claim(FEEDS, feeds.changed or (), removed)
        changed += feeds.changed or ()
        for owner, source in enumerate(self._sources()):
            started = time.perf_counter()
            if isinstance(source, FollowedSource):
                documents, gone = self._followed(owner, self._live(source))
            else:
                self.held[owner] = list(source(self.settings, self.read_models))
                documents, gone = self._whole(owner, self.held[owner])
            self.timings[source_name(source)] = time.perf_counter() - started
            self._claim(owner, documents, gone)
            changed += documents
            removed |= gone
        return Changed(changed, frozenset(removed - {d.path for d in changed}))

    def _whole(self, owner: int, documents: list[Document]) -> tuple[list[Document], set[str]]:
        """A source rendered whole: its paths not rendered this time are gone."""
        paths = {document.path for document in documents}
        return documents, self.paths.get(owner, set()) - paths

    def _followed(self, owner: int, live: LiveSource) -> tuple[list[Document], set[str]]:
        outcome = live.refresh(self.position)
        if outcome.changed is None:
            return self._whole(owner, list(live.documents.values()))
        return outcome.changed, set(outcome.removed)

    def _claim(self, owner: int, documents: Iterable[Document], gone: set[str]) -> None:
        """Record who publishes what; a path another source holds is an error."""
        paths = self.paths.setdefault(owner, set())
        for path in gone:
            paths.discard(path)
            del self.owners[path]
        for document in documents:
            held = self.owners.setdefault(document.path, owner)
            if held != owner:
                raise ValueError(f"two documents claim the path {document.path}")
            paths.add(document.path)

    def documents(self, position: int) -> list[Document]:
        """Every document at `position`, in one call (the feeds first), checked for clashing
        paths."""
        self.changes(self.feed_changes(position))
        documents = self.listed_feeds()
        for owner, source in enumerate(self._sources()):
            if isinstance(source, FollowedSource):
                documents += self._live(source).documents.values()
            else:
                documents += self.held[owner]
        return checked(documents)


def export_site(settings: Settings, read_models: ReadModels, out: Path,
                sources: Sequence[DocumentSource] | None = None) -> ExportReport:
    """Write every document under `out` (the site root); unchanged files are left alone.
    Each renderer writes its own documents (`SiteWriter.rendering`)."""
    writer = SiteWriter(out)
    with writer.rendering():
        return writer.write_all(site_documents(settings, read_models, sources=sources))
