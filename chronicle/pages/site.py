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
from collections.abc import Callable
from functools import lru_cache
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
from chronicle.projections import ReadModels

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


@lru_cache(maxsize=8)
def _renderer(settings_json: str) -> PageRenderer:
    return PageRenderer(Settings.model_validate_json(settings_json))


def renderer_for(settings: Settings) -> PageRenderer:
    """One renderer per configuration: its templates compile once per process."""
    return _renderer(settings.model_dump_json())


class PageBuilder:
    """Renders every page of one snapshot of the read models."""

    def __init__(self, settings: Settings, read_models: ReadModels) -> None:
        self.settings = settings
        self.read_models = read_models
        self.renderer = renderer_for(settings)
        self.log = LogReader(read_models.engine)

    def all(self, data: PageData, today: dt.date) -> list[Document]:
        documents = [index_document(self.renderer, data, today), self.not_found(data)]
        documents += self.milestones(data) + self.retracted(data) + self.listings(data)
        return documents + calendar_documents(self.settings, data) + asset_documents()

    def not_found(self, data: PageData) -> Document:
        return Document(NOT_FOUND_PATH, self.renderer.not_found(data), HTML, data.changed_at,
                        route=NOT_FOUND_PATH)

    def milestones(self, data: PageData) -> list[Document]:
        return [Document(page_path("milestones", view.id),
                         self.renderer.milestone(view, from_history(data.history.get(view.id, []))),
                         HTML, view.updated_at.astimezone(dt.UTC), route="/milestones/{id}")
                for view in data.milestones]

    def retracted(self, data: PageData) -> list[Document]:
        documents = []
        for gone in data.retracted:
            events = self.log.stream(gone.id)
            body = self.renderer.retracted(gone, self.log.last_known(events), from_stream(events))
            documents.append(Document(page_path("milestones", gone.id), body, HTML,
                                      gone.retracted_at, route=GONE_ROUTE))
        return documents

    def listings(self, data: PageData) -> list[Document]:
        pages = [Document(page_path("tags", t.tag), self.renderer.tag(t.tag, data.tagged(t.tag)),
                          HTML, data.changed_at, route="/tags/{tag}") for t in data.tags]
        pages += [Document(page_path("years", year),
                           self.renderer.year(year, data.in_year(year), data.years),
                           HTML, data.changed_at, route="/years/{year}") for year in data.years]
        return pages


def documents(settings: Settings, read_models: ReadModels,
              today: Callable[[Settings], dt.date] = system_today) -> list[Document]:
    """Every page and the calendar; found by `chronicle.feeds.site` for serving and export."""
    data = read_page_data(read_models)
    return PageBuilder(settings, read_models).all(data, today(settings))
