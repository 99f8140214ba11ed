"""The pages and the calendar as Documents: what `chronicle serve` caches and `export` writes.

Pages are published at `.html` paths so a static host serves them with the right type:
/index.html, /milestones/<id>.html, /tags/<tag>.html, /years/<year>.html, /404.html. The
server answers the clean URLs (/, /milestones/<id>, …) with the same bytes (chronicle.pages.web).
A retracted milestone keeps its page, marked by GONE_ROUTE so the server answers it with 410.

Only the home page depends on the date (its "next anniversary"); every other page changes
only when the log does.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from functools import lru_cache, partial
from importlib import resources
from urllib.parse import quote

from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.pages.audit import LogReader, from_history, from_stream
from chronicle.pages.ical import MEDIA_TYPE as CALENDAR_TYPE
from chronicle.pages.ical import render_calendar
from chronicle.pages.queries import PageData, read_page_data
from chronicle.pages.render import CALENDAR_PATH, CSS_PATH, JS_PATH, PageRenderer
from chronicle.pages.upcoming import local_today
from chronicle.posting.clock import Clock, clock_from_env
from chronicle.projections import MilestoneView, ReadModels, RetractedView

HTML = "text/html; charset=utf-8"
INDEX_PATH = "/index.html"
NOT_FOUND_PATH = "/404.html"
EXPORTED_CALENDAR_PATH = "/feeds/anniversaries.ics"
GONE_ROUTE = "/milestones/{id} (retracted)"
ASSETS = {CSS_PATH: ("chronicle.css", "text/css; charset=utf-8"),
          JS_PATH: ("filter.js", "text/javascript; charset=utf-8")}


def page_path(kind: str, name: object) -> str:
    """The published path of a milestone, tag or year page."""
    return f"/{kind}/{quote(str(name), safe='')}.html"


def day_start(today: dt.date, settings: Settings) -> dt.datetime:
    """Local midnight in the posting time zone, in UTC: when a date-dependent page changed."""
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=settings.posting.zone)
    return midnight.astimezone(dt.UTC)


@lru_cache(maxsize=1)
def _clock() -> Clock:
    """One clock per process: a rehearsal's fake clock runs on from when it was first read."""
    return clock_from_env()


def system_today(settings: Settings) -> dt.date:
    """Today in the posting time zone, on the posting clock (CHRONICLE_FAKE_NOW rehearsals too)."""
    return local_today(_clock().now(), settings.posting.zone)


def index_document(renderer: PageRenderer, data: PageData, today: dt.date) -> Document:
    modified = max(data.changed_at, day_start(today, renderer.settings))
    return Document(INDEX_PATH, renderer.index(data, today), HTML, modified, route="/")


def asset_documents() -> list[Document]:
    documents = []
    for path, (name, media_type) in ASSETS.items():
        resource = resources.files("chronicle.pages") / "static" / name
        with resources.as_file(resource) as file:
            modified = dt.datetime.fromtimestamp(int(file.stat().st_mtime), dt.UTC)
        documents.append(Document(path, resource.read_bytes(), media_type, modified, route=path))
    return documents


def calendar_documents(settings: Settings, data: PageData) -> list[Document]:
    """The same calendar at the brief URL and beside the anniversaries feed."""
    body = render_calendar(data.day_precision, settings,
                           f"{settings.feed.base_url}{CALENDAR_PATH}")
    return [Document(path, body, CALENDAR_TYPE, data.changed_at, route=path)
            for path in (CALENDAR_PATH, EXPORTED_CALENDAR_PATH)]


class RenderMemo:
    """The bytes of the previous pass, reused for pages whose inputs did not change.

    A key holds everything a page shows (a milestone page: the milestone's view and its audit
    trail), so equal keys mean equal bytes, whichever database they came from; a new
    milestone re-renders the pages it appears on, not all of them.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._previous: dict[Hashable, bytes] = {}
        self._current: dict[Hashable, bytes] = {}

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        body = self._previous.get(key)
        self._current[key] = body if body is not None else render()
        return self._current[key]

    def finish(self) -> None:
        self._previous, self._current = self._current, {}


@lru_cache(maxsize=8)
def _renderer(settings_json: str) -> tuple[PageRenderer, RenderMemo]:
    return PageRenderer(Settings.model_validate_json(settings_json)), RenderMemo()


def renderer_for(settings: Settings) -> PageRenderer:
    """One renderer per configuration: its templates compile once per process."""
    return _renderer(settings.model_dump_json())[0]


class PageBuilder:
    """Renders every page of one snapshot of the read models."""

    def __init__(self, settings: Settings, read_models: ReadModels) -> None:
        self.settings = settings
        self.read_models = read_models
        self.renderer, self.memo = _renderer(settings.model_dump_json())
        self.log = LogReader(read_models.engine)

    def all(self, data: PageData, today: dt.date) -> list[Document]:
        with self.memo.lock:
            documents = [index_document(self.renderer, data, today), self.not_found(data)]
            documents += self.milestones(data) + self.retracted(data) + self.listings(data)
            self.memo.finish()
        return documents + calendar_documents(self.settings, data) + asset_documents()

    def not_found(self, data: PageData) -> Document:
        return Document(NOT_FOUND_PATH, self.renderer.not_found(data), HTML, data.changed_at,
                        route=NOT_FOUND_PATH)

    def milestones(self, data: PageData) -> list[Document]:
        def page(view: MilestoneView) -> bytes:
            trail = tuple(from_history(data.history.get(view.id, [])))
            return self.memo.get(("milestone", view, trail),
                                 lambda: self.renderer.milestone(view, trail))

        return [Document(page_path("milestones", view.id), page(view), HTML,
                         view.updated_at.astimezone(dt.UTC), route="/milestones/{id}")
                for view in data.milestones]

    def retracted(self, data: PageData) -> list[Document]:
        def page(gone: RetractedView) -> bytes:
            events = self.log.stream(gone.id)
            last, trail = self.log.last_known(events), tuple(from_stream(events))
            return self.memo.get(("gone", gone, last, trail),
                                 lambda: self.renderer.retracted(gone, last, trail))

        return [Document(page_path("milestones", gone.id), page(gone), HTML, gone.retracted_at,
                         route=GONE_ROUTE) for gone in data.retracted]

    def listings(self, data: PageData) -> list[Document]:
        pages = []
        for tag in (t.tag for t in data.tags):
            views = data.tagged(tag)
            body = self.memo.get(("tag", tag, tuple(views)),
                                 partial(self.renderer.tag, tag, views))
            pages.append(Document(page_path("tags", tag), body, HTML, data.changed_at,
                                  route="/tags/{tag}"))
        for year in data.years:
            views = data.in_year(year)
            body = self.memo.get(("year", year, tuple(views), data.years),
                                 partial(self.renderer.year, year, views, data.years))
            pages.append(Document(page_path("years", year), body, HTML, data.changed_at,
                                  route="/years/{year}"))
        return pages


def documents(settings: Settings, read_models: ReadModels,
              today: Callable[[Settings], dt.date] = system_today) -> list[Document]:
    """Every page and the calendar; found by `chronicle.feeds.site` for serving and export."""
    data = read_page_data(read_models)
    return PageBuilder(settings, read_models).all(data, today(settings))
