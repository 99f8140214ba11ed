"""What one running server holds: settings, store, projector, rendered documents, follower."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chronicle.config import Settings
from chronicle.feeds.documents import DocumentSource, SiteDocuments
from chronicle.projections import Projector, ReadModels
from chronicle.site import document_sources
from chronicle.store import SqlEventStore
from chronicle.web.cache import DocumentCache
from chronicle.web.follower import LogFollower
from chronicle.web.heap import FrozenHeap
from chronicle.web.metrics import Metrics


def refresh_documents(site: SiteDocuments, cache: DocumentCache, position: int) -> None:
    """Serve the documents at `position`: the feeds as soon as they are rendered (only those
    the change rebuilt), then everything else that changed (the pages the change touches)."""
    feeds = site.feed_changes(position)
    cache.publish(feeds.changed or (), position)
    changes = site.changes(feeds)
    cache.update(changes.changed or (), changes.removed, position)


@dataclass
class ServerState:
    settings: Settings
    store: SqlEventStore
    projector: Projector
    site: SiteDocuments
    cache: DocumentCache
    metrics: Metrics
    follower: LogFollower
    heap: FrozenHeap
    stale_after: float

    @classmethod
    def build(cls, settings: Settings, store: SqlEventStore,
              projector: Projector | None = None,
              sources: Sequence[DocumentSource] | None = None) -> ServerState:
        """`sources`: the documents besides the feeds (default: every site source)."""
        metrics = Metrics()
        cache = DocumentCache()
        heap = FrozenHeap()
        site = SiteDocuments(settings, ReadModels(store.engine), on_render=metrics.rendered,
                             sources=document_sources() if sources is None else sources)

        def refresh(position: int) -> None:
            """`refresh_documents`, with the collector kept out (see heap)."""
            with heap.refreshing():
                refresh_documents(site, cache, position)

        projector = projector or Projector(store)
        poll = settings.server.poll_seconds
        follower = LogFollower(store, projector, refresh, poll_seconds=poll)
        return cls(settings=settings, store=store, projector=projector, site=site,
                   cache=cache, metrics=metrics, follower=follower, heap=heap,
                   stale_after=max(10.0, 5 * poll))
