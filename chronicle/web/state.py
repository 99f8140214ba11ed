"""What one running server holds: settings, store, projector, rendered documents, follower."""

from __future__ import annotations

from dataclasses import dataclass

from chronicle.config import Settings
from chronicle.feeds.render import FeedRenderer
from chronicle.feeds.site import site_documents
from chronicle.projections import Projector, ReadModels
from chronicle.store import SqlEventStore
from chronicle.web.cache import DocumentCache
from chronicle.web.follower import LogFollower
from chronicle.web.metrics import Metrics


@dataclass
class ServerState:
    settings: Settings
    store: SqlEventStore
    projector: Projector
    renderer: FeedRenderer
    cache: DocumentCache
    metrics: Metrics
    follower: LogFollower
    stale_after: float

    @classmethod
    def build(cls, settings: Settings, store: SqlEventStore,
              projector: Projector | None = None) -> ServerState:
        metrics = Metrics()
        cache = DocumentCache()
        renderer = FeedRenderer(settings.feed, on_render=metrics.rendered)
        read_models = ReadModels(store.engine)

        def refresh(position: int) -> None:
            cache.replace(site_documents(settings, read_models, renderer), position)

        projector = projector or Projector(store)
        poll = settings.server.poll_seconds
        follower = LogFollower(store, projector, refresh, poll_seconds=poll)
        return cls(settings=settings, store=store, projector=projector, renderer=renderer,
                   cache=cache, metrics=metrics, follower=follower,
                   stale_after=max(10.0, 5 * poll))
