"""The site, wired in one place: the feeds, then the pages and the calendar.

`chronicle.feeds` renders the feeds and knows no other feature; `chronicle.pages` renders the
HTML pages and the calendar from the same read models. This module, at the faces' level (only
`chronicle.web` and `chronicle.cli` import it), puts them together, so the server and
`chronicle export` publish the same documents and imports run one way: faces → site →
pages, feeds → projections → store.
"""

from __future__ import annotations

from pathlib import Path

from chronicle import pages
from chronicle.config import Settings
from chronicle.feeds.documents import DocumentSource, FollowedSource, extra_sources
from chronicle.feeds.documents import export_site as _export_site
from chronicle.feeds.documents import site_documents as _site_documents
from chronicle.feeds.export import ExportReport
from chronicle.feeds.model import Document
from chronicle.pages.live import LivePages
from chronicle.projections import ReadModels

__all__ = ["SITE_SOURCES", "document_sources", "export_site", "site_documents"]

SITE_SOURCES: tuple[DocumentSource, ...] = (FollowedSource(pages.documents, LivePages),)
"""The documents besides the feeds that every site has: the pages and the calendar (kept
live by the server, rendered whole by `export`)."""


def document_sources() -> list[DocumentSource]:
    """The sources registered at run time, then the site's own (each once)."""
    sources = extra_sources()
    return [*sources, *(source for source in SITE_SOURCES if source not in sources)]


def site_documents(settings: Settings, read_models: ReadModels) -> list[Document]:
    """Every document of the site, rendered from scratch."""
    return _site_documents(settings, read_models, sources=document_sources())


def export_site(settings: Settings, read_models: ReadModels, out: Path) -> ExportReport:
    """Write every document under `out` (the site root); unchanged files are left alone."""
    return _export_site(settings, read_models, out, sources=document_sources())
