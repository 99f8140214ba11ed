"""Every route of the server, registered in one place."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi.responses import JSONResponse, Response

from chronicle.posting.statuses import post_counts
from chronicle.projections import ReadModels
from chronicle.web.api import register_api
from chronicle.web.documents import DocumentMiddleware
from chronicle.web.metrics import CONTENT_TYPE_LATEST
from chronicle.web.pages import register_page_routes
from chronicle.web.search import register_search
from chronicle.web.state import ServerState

if TYPE_CHECKING:
    from chronicle.web.app import ChronicleApp


def health(state: ServerState) -> tuple[int, dict[str, Any]]:
    """Healthy: the database answered recently and documents are ready."""
    status = state.follower.status
    age = time.monotonic() - status.succeeded_at if status.succeeded_at else None
    fresh = age is not None and age <= state.stale_after
    stopped = status.stopped
    healthy = (status.database_ok and fresh and state.cache.ready
               and status.render_error is None and stopped is None)
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": {"reachable": status.database_ok and fresh, "error": status.error},
        "head": status.head,
        "head_link": status.head_link,
        "position": status.position,
        "lag": status.lag,
        "render_error": status.render_error,
        "unreadable_event": None if stopped is None else {
            "position": stopped.position, "reason": stopped.reason, "error": str(stopped)},
        "served_position": state.cache.position,          # every document reflects it
        "feeds_position": state.cache.feeds_position,     # the feeds, published first
        "documents": len(state.cache.documents),
        "last_success_seconds_ago": None if age is None else round(age, 3),
    }
    return (200 if healthy else 503), body


def register_routes(app: ChronicleApp, state: ServerState) -> None:
    """Documents (feeds and, later, pages) first, then the operational endpoints."""
    app.outer_layers.append(lambda inner: DocumentMiddleware(
        inner, state.cache, state.metrics, known_routes=("/healthz", "/metrics")))
    register_page_routes(app, state)
    read_models = ReadModels(state.store.engine)
    register_search(app, state.settings, read_models)
    register_api(app, read_models)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        code, body = health(state)
        return JSONResponse(body, status_code=code, headers={"cache-control": "no-store"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        status = state.follower.status
        state.metrics.head.set(status.head)
        state.metrics.position.set(status.position)
        state.metrics.database_up.set(1 if status.database_ok else 0)
        state.metrics.documents.set(len(state.cache.documents))
        if status.database_ok:
            for post_state in ("draft", "approved", "held", "claimed", "published", "failed",
                               "skipped"):
                state.metrics.posts.labels(post_state).set(0)
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # the database may just have gone
                for post_state, count in post_counts(state.store.engine).items():
                    state.metrics.posts.labels(post_state).set(count)
        return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
