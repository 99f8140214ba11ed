"""The pages on the HTTP face: clean URLs, the day's home page, 404 and 410, hub pings.

The pages themselves are documents in the server's cache (rendered by the follower with the
feeds, see chronicle.pages.builder), so 200 and 304 answers take the same hot path as the feeds.
This layer sits in front of it and only maps URLs:

  /, /index.html           the home page: today's, as the cache holds it (see DayTurn)
  /milestones/<id>/        → /milestones/<id>/index.html (also without the slash, and the
                           earlier /milestones/<id>.html); a retracted milestone's page is
                           cached with its status, 410 Gone
  /tags/<tag>/, /years/<y>/, /sources/<slug>/  → their index.html documents, the same way
  /tags/<tag>/<y>/, /sources/<slug>/<y>/  → a year's page of a tag or source above
                           `feed.listing_size` (also without the slash)
  anything unknown         a friendly HTML 404 page
  /mn/, /mn/milestones/<id>/, …  the same for each other language of `feed.languages`
                           (its own home page, 404 page and 410 answers)
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.pages.builder import (
    INDEX_PATH,
    NOT_FOUND_PATH,
    SOURCES_PATH,
    index_document,
    renderer_for,
    system_today,
)
from chronicle.pages.pagedata import read_page_data
from chronicle.pages.websub import HubPinger
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from chronicle.uitext import SOURCE_LANGUAGE, language_prefix
from chronicle.web.cache import Served
from chronicle.web.hardening import SECURITY_HEADERS

log = logging.getLogger(__name__)
_PAGE = re.compile(r"/(milestones|tags|years|sources)/([^/]+?)(?:\.html|/|/index\.html)?")
_YEAR_PAGE = re.compile(r"/(tags|sources)/([^/]+)/(-?[0-9]+)(?:/|/index\.html)?")
_PREFIXES = ("/milestones/", "/tags/", "/years/", "/sources/")
HTML = b"text/html; charset=utf-8"
NOT_READY = b"the pages are not rendered yet: the database has not answered since start\n"


class _Cache(Protocol):
    ready: bool
    position: int
    listeners: list[Callable[[Mapping[str, Served]], None]]

    def get(self, path: str) -> Served | None: ...

    def update(self, changed: Iterable[Document], removed: Iterable[str],
               position: int) -> None: ...


class _Follower(Protocol):
    refresh: Callable[[int], None]
    on_step: list[Callable[[int], None]]


class _Metrics(Protocol):
    def request(self, route: str, status: int) -> None: ...


class _State(Protocol):
    settings: Settings
    store: SqlEventStore
    cache: _Cache
    follower: _Follower
    metrics: _Metrics


def split_language(path: str, languages: Sequence[str]) -> tuple[str, str]:
    """(the language prefix, the rest): ("/mn", "/milestones/x/") or ("", path) for English."""
    for language in languages[1:]:
        prefix = language_prefix(language)
        if path == prefix or path.startswith(prefix + "/"):
            return prefix, path[len(prefix):] or "/"
    return "", path


def page_target(path: str) -> str | None:
    """The document path a page URL is published at, or None for other URLs (`path` without
    its language prefix)."""
    if not path.startswith(_PREFIXES):  # the feeds' hot path pays one startswith
        return SOURCES_PATH if path == "/sources" else None
    if path in ("/sources/", SOURCES_PATH):
        return SOURCES_PATH
    match = _PAGE.fullmatch(path)
    if match:
        return f"/{match[1]}/{match[2]}/index.html"
    match = _YEAR_PAGE.fullmatch(path)
    return f"/{match[1]}/{match[2]}/{match[3]}/index.html" if match else None


class DayTurn:
    """Today's home pages in the cache once the local day turns, even with no new event.

    Only the home page depends on the day (its "next anniversary"). Every refresh renders it
    for the day the refresh began; the follower's first step of a new day (within
    `server.poll_seconds` of midnight) renders it again and puts it in the cache, so every
    layer serves it as a cached document. While the database is down, yesterday's stays.
    """

    def __init__(self, settings: Settings, read_models: ReadModels, cache: _Cache,
                 today: Callable[[Settings], dt.date]) -> None:
        self.settings, self.read_models, self.cache, self.today = (settings, read_models,
                                                                   cache, today)
        self.rendered_day: dt.date | None = None   # the day of the home pages in the cache

    def wrap_refresh(self, refresh: Callable[[int], None]) -> Callable[[int], None]:
        def refreshed(position: int) -> None:
            day = self.today(self.settings)
            refresh(position)
            self.rendered_day = day
        return refreshed

    def turn(self, _position: int) -> None:
        """After a follower's step: the home pages for today, if the cache holds another day's."""
        day = self.today(self.settings)
        if day == self.rendered_day or not self.cache.ready:
            return
        data = read_page_data(self.read_models)
        self.cache.update([index_document(renderer_for(self.settings, language), data, day)
                           for language in self.settings.feed.languages], (),
                          self.cache.position)
        self.rendered_day = day
        log.info("the day turned to %s: the home pages now show it", day)


class PageLayer:
    """ASGI layer in front of the document middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, state: _State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        prefix, path = split_language(scope["path"], self.state.settings.feed.languages)
        cache = self.state.cache
        target = INDEX_PATH if path in ("/", INDEX_PATH) else page_target(path)
        if target is None:
            await self.app(scope, receive, send)
            return
        target = prefix + target
        if not cache.ready:
            await self._answer(scope, send, 503, NOT_READY, "/pages",
                               [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"retry-after", b"5")])
            return
        served = cache.get(target)
        if scope["method"] not in ("GET", "HEAD"):
            await self._answer(scope, send, 405, b"", "/pages", [(b"allow", b"GET, HEAD")])
        elif served is None:
            await self._not_found(scope, send, prefix)
        else:
            await self.app({**scope, "path": target, "raw_path": target.encode()}, receive, send)

    async def _not_found(self, scope: Scope, send: Send, prefix: str = "") -> None:
        await self._answer(scope, send, 404, not_found_body(self.state, prefix), "/404",
                           [(b"content-type", HTML)])

    async def _answer(self, scope: Scope, send: Send, status: int, body: bytes, route: str,
                      headers: list[tuple[bytes, bytes]]) -> None:
        names = {name for name, _ in headers}
        extra = [] if b"content-length" in names or status == 304 else [
            (b"content-length", str(len(body)).encode())]
        # This layer is in front of the hardening one: its own answers carry its headers.
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, *extra, *SECURITY_HEADERS]})
        await send({"type": "http.response.body",
                    "body": b"" if scope["method"] == "HEAD" or status == 304 else body})
        self.state.metrics.request(route, status)


def not_found_body(state: _State, prefix: str = "") -> bytes:
    """The 404 page in the language of the address asked for."""
    served = state.cache.get(prefix + NOT_FOUND_PATH)
    if served is not None:
        return served.document.body
    return renderer_for(state.settings, prefix.lstrip("/") or SOURCE_LANGUAGE).not_found()


def notify_hub(pinger: HubPinger, state: _State) -> None:
    """Tell the hub about every feed whose bytes changed, as soon as the cache serves it:
    after the feeds' phase of a refresh, not only once the pages are rendered too."""
    def served(documents: Mapping[str, Served]) -> None:
        pinger.observe(entry.document for entry in documents.values())

    state.cache.listeners.append(served)


def register_page_routes(app: FastAPI, state: Any,
                         today: Callable[[Settings], dt.date] = system_today) -> None:
    """Serve the pages (and ping the WebSub hub if configured) in the app `create_app` built."""
    day_turn = DayTurn(state.settings, ReadModels(state.store.engine), state.cache, today)
    state.follower.refresh = day_turn.wrap_refresh(state.follower.refresh)
    state.follower.on_step.append(day_turn.turn)
    if state.settings.feed.hub_url:
        pinger = HubPinger.for_settings(state.settings)
        notify_hub(pinger, state)
    app.outer_layers.append(  # type: ignore[attr-defined]
        lambda inner: PageLayer(inner, state))

    async def html_not_found(request: Request, _exc: Exception) -> Response:
        prefix, _ = split_language(request.url.path, state.settings.feed.languages)
        return Response(not_found_body(state, prefix), status_code=404,
                        media_type=HTML.decode())

    app.add_exception_handler(404, html_not_found)
