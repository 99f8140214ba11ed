"""Every document of the site, from the feeds and from later features (pages, calendar).

The server and `chronicle export` both publish exactly this list, so a file exported for
static hosting has the bytes the server answers with. A feature joins by exposing
`documents(settings, read_models) -> Iterable[Document]` in a module listed in
SITE_MODULES, or by calling `register_document_source`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path

from chronicle.config import Settings
from chronicle.feeds.export import ExportReport, SiteWriter
from chronicle.feeds.model import Document
from chronicle.feeds.queries import read_snapshot
from chronicle.feeds.render import FeedRenderer
from chronicle.projections import ReadModels

DocumentSource = Callable[[Settings, ReadModels], Iterable[Document]]
SITE_MODULES = ("chronicle.pages",)
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
    """Registered sources plus the `documents` function of each of SITE_MODULES."""
    sources = list(_registered)
    for name in SITE_MODULES:
        documents = getattr(importlib.import_module(name), "documents", None)
        if callable(documents) and documents not in sources:
            sources.append(documents)
    return sources


def site_documents(settings: Settings, read_models: ReadModels,
                   renderer: FeedRenderer | None = None) -> list[Document]:
    """The feeds, then every other source's documents; a path listed twice is an error."""
    renderer = renderer or FeedRenderer(settings.feed)
    documents = renderer.documents(read_snapshot(read_models,
                                                 posts_limit=settings.feed.main_size))
    for source in extra_sources():
        documents.extend(source(settings, read_models))
    seen: set[str] = set()
    for document in documents:
        if document.path in seen:
            raise ValueError(f"two documents claim the path {document.path}")
        seen.add(document.path)
    return documents


def export_site(settings: Settings, read_models: ReadModels, out: Path) -> ExportReport:
    """Write every document under `out` (the site root); unchanged files are left alone."""
    return SiteWriter(out).write_all(site_documents(settings, read_models))
