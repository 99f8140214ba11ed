"""Prometheus metrics of one app (its own registry, so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from chronicle.feeds.model import Feed, Format

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("chronicle_http_requests", "HTTP requests answered.",
                                ["route", "status"], registry=self.registry)
        self.renders = Counter("chronicle_feed_renders", "Feed documents rendered.",
                               ["format"], registry=self.registry)
        self.render_seconds = Counter("chronicle_feed_render_seconds",
                                      "Time spent rendering feed documents.",
                                      registry=self.registry)
        self.position = Gauge("chronicle_projection_position",
                              "Log position the read models have reached.",
                              registry=self.registry)
        self.head = Gauge("chronicle_log_head", "Last position of the event log.",
                          registry=self.registry)
        self.database_up = Gauge("chronicle_database_up",
                                 "1 when the last check reached the database.",
                                 registry=self.registry)
        self.documents = Gauge("chronicle_documents", "Documents held ready to serve.",
                               registry=self.registry)
        self.posts = Gauge("chronicle_posts", "Anniversary posts by state (draft, approved, "
                           "held, claimed, published, failed, skipped).", ["state"],
                           registry=self.registry)
        self._children: dict[tuple[str, int], Counter] = {}

    def request(self, route: str, status: int) -> None:
        """Count one answer; label children are cached (this runs on every request)."""
        child = self._children.get((route, status))
        if child is None:
            child = self._children[route, status] = self.requests.labels(route, str(status))
        child.inc()

    def rendered(self, _feed: Feed, fmt: Format, seconds: float) -> None:
        self.renders.labels(fmt.value).inc()
        self.render_seconds.inc(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
