"""The pages and the calendar as Documents: what `chronicle serve` caches and `export` writes.

Pages are published as directory indexes so every link works on any static host (nginx,
`python3 -m http.server`, object storage): /index.html, /milestones/<id>/index.html,
/tags/<tag>/index.html, /years/<year>/index.html, /404.html; the pages link /milestones/<id>/.
A tag or source above `feed.listing_size` is an index of its years, each year a page of its
own (/tags/<tag>/<year>/index.html, /sources/<slug>/<year>/index.html): named by content,
never numbered, so an insert in the middle of history moves no other page.
The server answers the same URLs, and the clean ones without the slash, with the same bytes
(chronicle.web.pages).
A retracted milestone keeps its page, with status 410 (Gone): the server answers it so.

Every language of `feed.languages` beyond English publishes the same pages under its prefix
(/mn/index.html, /mn/milestones/<id>/index.html, …, /mn/calendar.ics); the card images, the
style sheet and the script are shared.

Only the home page depends on the date (its "next anniversary"); every other page changes
only when the log does.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache, partial
from http import HTTPStatus
from importlib import resources
from typing import Any, TypeVar, cast
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy.engine import Engine

from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.forked import in_processes
from chronicle.pages import splice
from chronicle.pages.audit import AuditEntry, LogReader, from_history, from_stream
from chronicle.pages.calendarparts import HeldCalendar, MonthDay
from chronicle.pages.cardimages import card_documents
from chronicle.pages.ical import MEDIA_TYPE as CALENDAR_TYPE
from chronicle.pages.ical import HeldEvents, calendar_head, event_ical
from chronicle.pages.pagedata import PageData, histories, post_streams, read_page_data
from chronicle.pages.render import (
    CALENDAR_PATH,
    CSS_PATH,
    JS_PATH,
    Card,
    PageRenderer,
    Shown,
    Timeline,
)
from chronicle.pages.sources import (
    Passage,
    SourcePage,
    passages_by_year,
    source_pages,
    source_slug,
)
from chronicle.pages.upcoming import local_today
from chronicle.posting.clock import Clock, clock_from_env
from chronicle.projections import MilestoneView, ReadModels, RetractedView
from chronicle.uitext import SOURCE_LANGUAGE, language_prefix

HTML = "text/html; charset=utf-8"
INDEX_PATH = "/index.html"
NOT_FOUND_PATH = "/404.html"
SOURCES_PATH = "/sources/index.html"
EXPORTED_CALENDAR_PATH = "/feeds/anniversaries.ics"
GONE_ROUTE = "/milestones/{id} (retracted)"
FEW_NEW = 8         # more new passages than this: render a source page whole, then cut it
LISTING_LEVEL = 2   # the heading level of a card on a tag or year page (listing.html)
FORK_FROM = 500     # milestones from which `documents` renders each language in its own process
T = TypeVar("T")
ASSETS = {CSS_PATH: ("chronicle.css", "text/css; charset=utf-8"),
          JS_PATH: ("filter.js", "text/javascript; charset=utf-8")}


def page_path(kind: str, name: object, year: int | None = None) -> str:
    """The published path of a milestone, tag, year or source page, or of one `year` of a
    tag or source above `feed.listing_size`: a directory's index."""
    if year is None:
        return f"/{kind}/{quote(str(name), safe='')}/index.html"
    return f"/{kind}/{quote(str(name), safe='')}/{year}/index.html"


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


def index_document(renderer: PageRenderer, data: PageData, today: dt.date,
                   card: Card | None = None, timeline: Shown | None = None) -> Document:
    """`card`: the milestones' timeline entries, `timeline` the shown ones' picture and
    groups, memoised by the caller (or rendered here)."""
    modified = max(data.changed_at, day_start(today, renderer.settings))
    return Document(renderer.prefix + INDEX_PATH, renderer.index(data, today, card, timeline),
                    HTML, modified, route=f"{renderer.prefix}/")


def asset_documents() -> list[Document]:
    documents = []
    for path, (name, media_type) in ASSETS.items():
        resource = resources.files("chronicle.pages") / "static" / name
        with resources.as_file(resource) as file:
            modified = dt.datetime.fromtimestamp(int(file.stat().st_mtime), dt.UTC)
        documents.append(Document(path, resource.read_bytes(), media_type, modified, route=path))
    return documents


def held_calendar(settings: Settings, language: str) -> HeldCalendar:
    """An empty calendar of `language`, to be held across passes."""
    return HeldCalendar(HeldEvents(partial(event_ical, settings=settings, language=language)))


def calendar_documents(settings: Settings, data: PageData, held: HeldCalendar | None = None,
                       language: str = SOURCE_LANGUAGE, *,
                       changed: Collection[MonthDay] | None = None,
                       since: int | None = None) -> list[Document]:
    """The same calendar at the brief URL and beside the anniversaries feed (per language),
    with its ETag (chronicle.pages.calendarparts); `held`: the calendar held by the caller
    (`PageBuilder.calendar`), `changed`: the only month-days that changed since the log
    position `since` (see `HeldCalendar.render`)."""
    prefix = language_prefix(language)
    if held is None:
        held = held_calendar(settings, language)
    head = calendar_head(settings, f"{settings.feed.base_url}{prefix}{CALENDAR_PATH}", language)
    body, etag = held.render(data.day_precision, head, data.position, changed, since)
    return [Document(prefix + path, body, CALENDAR_TYPE, data.changed_at, route=prefix + path,
                     etag=etag)
            for path in (CALENDAR_PATH, EXPORTED_CALENDAR_PATH)]


def stamp(view: MilestoneView) -> tuple[str, int]:
    """What identifies a milestone's content within one database: any change moves it."""
    return view.id, view.updated_position


PassageVersion = tuple[str | None, str, tuple[tuple[str, int], ...]]


class PassageFragments:
    """A source page's passages' fragments by anchor, each with the passage it was made
    for: the same passage object (a live source page keeps those it did not touch) answers
    at once, an equal one after comparing what the fragment shows."""

    def __init__(self) -> None:
        self.url: str | None = None
        self._held: dict[str, tuple[Passage, PassageVersion, bytes]] = {}

    def _version(self, passage: Passage) -> PassageVersion:
        return self.url, passage.text, tuple(map(stamp, passage.citing))

    def get(self, passage: Passage) -> bytes | None:
        held = self._held.get(passage.anchor)
        if held is None:
            return None
        if held[0] is passage and held[1][0] == self.url:
            return held[2]
        if held[1] != self._version(passage):
            return None
        self._held[passage.anchor] = (passage, held[1], held[2])
        return held[2]

    def put(self, passage: Passage, fragment: bytes) -> bytes:
        self._held[passage.anchor] = (passage, self._version(passage), fragment)
        return fragment


def _listing_key(kind: str, name: object, views: Sequence[MilestoneView],
                 *more: Hashable) -> Hashable:
    """What a tag or year page shows: its milestones' stamps (and, for a year, the years)."""
    return (kind, name, tuple(map(stamp, views)), *more)


def _source_key(page: SourcePage) -> Hashable:
    return "source", page.key


def _source_year_key(page: SourcePage, *more: Hashable) -> Hashable:
    return "source-year", page.key, *more


def _sources_key(pages: Sequence[SourcePage]) -> Hashable:
    return "sources", tuple(page.key for page in pages)


class RenderMemo:
    """The bytes of the previous pass, reused for pages and fragments whose inputs did not change.

    One memo serves one configuration over one database (see `_memo_for`), so a milestone's
    `stamp` stands for all its content: a new milestone re-renders the pages it appears on,
    its own card and calendar event, not all of them.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._previous: dict[Hashable, Any] = {}
        self._current: dict[Hashable, Any] = {}
        self._latest: dict[Hashable, tuple[Hashable, Any]] = {}

    def __contains__(self, key: Hashable) -> bool:
        return key in self._current or key in self._previous

    def get(self, key: Hashable, render: Callable[[], T]) -> T:
        value = self._current.get(key)
        if value is None:
            value = self._previous.get(key)
        self._current[key] = value if value is not None else render()
        return cast(T, self._current[key])

    def latest(self, key: Hashable, version: Hashable, render: Callable[[], T]) -> T:
        """The value held for `key` if it was made for `version`, else a new one.

        Held across passes whether or not a pass asks for it: a card on a listing page that
        one pass reuses whole is still there when a later change re-renders that page. One
        entry per key, so it grows only with the milestones ever shown.
        """
        held = self._latest.get(key)
        if held is None or held[0] != version:
            held = self._latest[key] = (version, render())
        return cast(T, held[1])

    def holds(self, key: Hashable, version: Hashable) -> bool:
        """Whether `latest(key, version, …)` would answer without rendering."""
        held = self._latest.get(key)
        return held is not None and held[0] == version

    def hold(self, key: Hashable, version: Hashable, value: Any) -> None:
        """Keep `value` as what `latest(key, version, …)` answers (made by the caller)."""
        self._latest[key] = (version, value)

    def finish(self) -> None:
        self._previous, self._current = self._current, {}


Memos = weakref.WeakKeyDictionary[Engine, RenderMemo]
_memos_lock = threading.Lock()


@lru_cache(maxsize=8)
def _renderer(settings_json: str, language: str) -> tuple[PageRenderer, Memos]:
    return (PageRenderer(Settings.model_validate_json(settings_json), language),
            weakref.WeakKeyDictionary())


def renderer_for(settings: Settings, language: str = SOURCE_LANGUAGE) -> PageRenderer:
    """One renderer per configuration and language: its templates compile once per process."""
    return _renderer(settings.model_dump_json(), language)[0]


def _memo_for(settings: Settings, engine: Engine,
              language: str) -> tuple[PageRenderer, RenderMemo]:
    """The renderer of a configuration and its memo for one database (dropped with its engine)."""
    renderer, memos = _renderer(settings.model_dump_json(), language)
    with _memos_lock:
        memo = memos.get(engine)
        if memo is None:
            memo = memos[engine] = RenderMemo()
    return renderer, memo


class PageBuilder:
    """Renders every page of one snapshot of the read models, in one language."""

    def __init__(self, settings: Settings, read_models: ReadModels,
                 language: str = SOURCE_LANGUAGE) -> None:
        self.settings = settings
        self.read_models = read_models
        self.language = language
        self.renderer, self.memo = _memo_for(settings, read_models.engine, language)
        self.log = LogReader(read_models.engine)
        self.incremental = False

    def all(self, data: PageData, today: dt.date, *, cards: bool = True,
            sources: Sequence[SourcePage] | None = None) -> list[Document]:
        """Every page; English adds what all languages share (card images, assets).

        `cards=False` leaves the card images out (the bench: a PNG costs tens of ms);
        `sources`: the source pages, when the caller has them (else worked out here)."""
        english = self.language == SOURCE_LANGUAGE
        if sources is None:
            sources = source_pages(data.milestones, self.settings.path(self.settings.seeds_dir))
        split = split_sources(self.settings, sources)
        with self.memo.lock:
            documents = [index_document(self.renderer, data, today, self.card, self.timeline),
                         self.not_found(data)]
            documents += self.milestones(data, split=split) + self.retracted(data)
            documents += self.listings(data)
            if english and cards:
                documents += card_documents(self.settings, data.milestones, self.memo)
            documents += self.sources(data, sources)
            documents += calendar_documents(self.settings, data, self.calendar, self.language)
            self.memo.finish()
        return documents + asset_documents() if english else documents

    def path(self, kind: str, name: object, year: int | None = None) -> str:
        return self.renderer.prefix + page_path(kind, name, year)

    def split(self, count: int) -> bool:
        """Whether a tag's or source's page of `count` milestones or passages is an index
        of year pages (`feed.listing_size`; see `split_sources`)."""
        return is_split(self.settings, count)

    def route(self, route: str) -> str:
        return self.renderer.prefix + route

    def card(self, view: MilestoneView, level: int) -> Markup:
        return self.memo.latest(("card", level, view.id), view.updated_position,
                                partial(self.renderer.card, view, level))

    def timeline(self, shown: Sequence[MilestoneView]) -> Timeline:
        """The home page's picture and groups, held while its milestones are unchanged (most
        new milestones are not among the newest it shows)."""
        return self.memo.latest("timeline", tuple(map(stamp, shown)),
                                partial(self.renderer.timeline, shown, self.card))

    def cards_bytes(self, views: Sequence[MilestoneView], level: int) -> list[bytes]:
        """The views' cards at `level` as bytes, each held while its milestone is unchanged
        (one look-up a card: a tag page of a large chronicle lists tens of thousands)."""
        held: dict[str, tuple[int, bytes]] = self.memo.latest(("card-bytes", level), None, dict)
        cards = []
        for view in views:
            found = held.get(view.id)
            if found is None or found[0] != view.updated_position:
                found = held[view.id] = (view.updated_position, self.card(view, level).encode())
            cards.append(found[1])
        return cards

    def listing(self, render: Callable[[Sequence[MilestoneView], Card], bytes],
                views: Sequence[MilestoneView]) -> bytes:
        """A tag or year page: its memoised cards joined into the page (chronicle.pages.
        splice), or the whole render where the template's list does not splice."""
        body = splice.listing(render, views, self.cards_bytes)
        return body if body is not None else render(views, self.card)

    def year_page(self, year: int, years: Sequence[int], views: Sequence[MilestoneView],
                  card: Card) -> bytes:
        return self.renderer.year(year, views, years, card)

    @property
    def calendar(self) -> HeldCalendar:
        """The calendar's events and month-days, held across passes (only changed milestones'
        events are made, only their month-days joined and hashed again)."""
        return self.memo.latest("calendar", None,
                                partial(held_calendar, self.settings, self.language))

    def not_found(self, data: PageData) -> Document:
        return Document(self.route(NOT_FOUND_PATH), self.renderer.not_found(data), HTML,
                        data.changed_at, route=self.route(NOT_FOUND_PATH))

    def milestones(self, data: PageData, views: Sequence[MilestoneView] | None = None, *,
                   split: Collection[str] = ()) -> list[Document]:
        """Only the milestones whose page is not memoised read their audit trail; a post's
        review or outcome moves its milestone's key, so the page shows who acted when.
        `views`: only these milestones' pages (default: every one); `split`: the sources
        whose page is an index of years (`split_sources`)."""
        views = data.milestones if views is None else views
        posted = post_streams(self.read_models)

        def key(view: MilestoneView) -> Hashable:
            base = "milestone", stamp(view), posted.get(view.id, (0, ()))[0]
            if not split:
                return base
            return *base, tuple(slug for slug in map(source_slug, view.milestone.sources)
                                if slug in split)

        trails = histories(self.read_models, [view.id for view in views
                                              if key(view) not in self.memo])

        def trail(view: MilestoneView) -> tuple[AuditEntry, ...]:
            entries = from_history(trails.get(view.id, []))
            entries += self.log.post_trail(posted.get(view.id, (0, ()))[1])
            return tuple(sorted(entries, key=lambda entry: entry.position))

        def page(view: MilestoneView) -> bytes:
            return self.keep(partial(key, view),
                             lambda: self.renderer.milestone(view, trail(view), split))

        return [Document(self.path("milestones", view.id), page(view), HTML,
                         view.updated_at.astimezone(dt.UTC), route=self.route("/milestones/{id}"))
                for view in views]

    def retracted(self, data: PageData) -> list[Document]:
        def render(gone: RetractedView) -> bytes:
            events = self.log.stream(gone.id)
            last, trail = self.log.last_known(events), tuple(from_stream(events))
            return self.renderer.retracted(gone, last, trail)

        return [Document(self.path("milestones", gone.id),
                         self.memo.get(("gone", gone), partial(render, gone)), HTML,
                         gone.retracted_at, route=GONE_ROUTE, status=HTTPStatus.GONE)
                for gone in data.retracted]

    def listings(self, data: PageData, tags: Collection[str] | None = None,
                 years: Collection[int] | None = None,
                 tag_years: Mapping[str, Collection[int] | None] | None = None
                 ) -> list[Document]:
        """The tag and year pages (`tags`, `years`: only these ones; `tag_years`: of a tag
        above `feed.listing_size`, only these year pages, None or absent for every one)."""
        pages = []
        for tag in (t.tag for t in data.tags if tags is None or t.tag in tags):
            if self.split(data.tag_size(tag)):
                pages += self.tag_pages(data, tag, (tag_years or {}).get(tag))
                continue
            views = data.tagged(tag)
            body = self.keep(partial(_listing_key, "tag", tag, views), partial(
                self.listing, partial(self.renderer.tag, tag), views))
            pages.append(Document(self.path("tags", tag), body, HTML, data.changed_at,
                                  route=self.route("/tags/{tag}")))
        for year in (y for y in data.years if years is None or y in years):
            views = data.in_year(year)
            body = self.keep(partial(_listing_key, "year", year, views, data.years), partial(
                self.listing, partial(self.year_page, year, data.years), views))
            pages.append(Document(self.path("years", year), body, HTML, data.changed_at,
                                  route=self.route("/years/{year}")))
        return pages

    def tag_pages(self, data: PageData, tag: str,
                  only: Collection[int] | None = None) -> list[Document]:
        """A tag above `feed.listing_size`: its index of years and a page per year (`only`:
        just these years' pages)."""
        groups = data.tag_years(tag)
        counts = {year: len(views) for year, views in groups.items()}
        body = self.keep(lambda: ("tag-index", tag, tuple(counts.items())),
                         partial(self.renderer.tag_index, tag, counts))
        pages = [Document(self.path("tags", tag), body, HTML, data.changed_at,
                          route=self.route("/tags/{tag}"))]
        years = tuple(groups)
        for year in (y for y in years if only is None or y in only):
            views = groups[year]
            body = self.keep(partial(_listing_key, "tag-year", (tag, year), views, years),
                             partial(self.listing, partial(self.renderer.tag_year, tag, year,
                                                           years), views))
            pages.append(Document(self.path("tags", tag, year), body, HTML, data.changed_at,
                                  route=self.route("/tags/{tag}/{year}")))
        return pages

    def sources(self, data: PageData, pages: Sequence[SourcePage] | None = None,
                changed: Collection[str] | None = None,
                years: Mapping[str, Collection[int] | None] | None = None) -> list[Document]:
        """A page per quoted document, and their index (see chronicle.pages.sources).

        `pages`: every source page, when the caller keeps them; `changed`: the slugs whose
        page to render (default: every one); `years`: of a source above `feed.listing_size`,
        the year pages to render (None or absent: every one)."""
        if pages is None:
            pages = source_pages(data.milestones, self.settings.path(self.settings.seeds_dir))
        documents = [Document(self.route(SOURCES_PATH), self.keep(
            partial(_sources_key, pages), partial(self.renderer.sources, pages)),
            HTML, data.changed_at, route=self.route("/sources/"))]
        for page in pages:
            if changed is not None and page.slug not in changed:
                continue
            # Passages the document has come first (chronicle.pages.sources).
            ordered = bool(page.passages) and page.passages[0].offset is not None
            if self.split(len(page.passages)):
                documents += self.source_years(data, page, ordered, (years or {}).get(page.slug))
                continue
            body = self.keep(partial(_source_key, page), partial(self.source_page, page, ordered))
            documents.append(Document(self.path("sources", page.slug), body, HTML,
                                      data.changed_at, route=self.route("/sources/{slug}")))
        return documents

    def source_years(self, data: PageData, page: SourcePage, ordered: bool,
                     only: Collection[int] | None = None) -> list[Document]:
        """A source above `feed.listing_size`: its index of years and a page per year
        (`only`: just these years' pages)."""
        groups = passages_by_year(page)
        counts = {year: len(passages) for year, passages in groups.items()}
        index = self.keep(
            lambda: ("source-index", page.slug, page.title, page.publisher, page.url,
                     ordered, len(page.passages), tuple(counts.items())),
            partial(self.renderer.source_index, page, counts, ordered))
        documents = [Document(self.path("sources", page.slug), index, HTML, data.changed_at,
                              route=self.route("/sources/{slug}"))]
        years = tuple(groups)
        for year in (y for y in years if only is None or y in only):
            shown = replace(page, passages=groups[year], years=None)
            body = self.keep(partial(_source_year_key, shown, year, years, ordered),
                             partial(self.source_page, shown, ordered, year, years))
            documents.append(Document(self.path("sources", page.slug, year), body, HTML,
                                      data.changed_at, route=self.route("/sources/{slug}/{year}")))
        return documents

    def source_page(self, page: SourcePage, ordered: bool, year: int | None = None,
                    years: Sequence[int] = ()) -> bytes:
        """A source's page (or one `year`'s of it, `years` all of them): its passages'
        memoised fragments joined into the page's frame (chronicle.pages.splice); a whole
        render when many are new (and cut into fragments for the next time) or the list
        does not splice."""
        def render(shown: Sequence[Passage]) -> bytes:
            return self.renderer.source(replace(page, passages=cast(Any, shown)), ordered,
                                        year, years)

        def start(passage: Passage) -> bytes:
            return f'<li id="{passage.anchor}"'.encode()

        passages = page.passages
        found = passages and splice.spliced(render, len(passages), passages[0],
                                            lambda one: one.find(start(passages[0])))
        if not found:
            return render(passages)
        frame, held = found[0], self._passages(page)
        fragments = [held.get(passage) for passage in passages]
        if fragments.count(None) > FEW_NEW:
            whole = render(passages)
            cut = splice.cut(whole, frame, [start(passage) for passage in passages]) or ()
            for passage, piece in zip(passages, cut, strict=False):
                held.put(passage, piece)
            return whole
        for index, passage in enumerate(passages):
            if fragments[index] is None:
                made = frame.fragment(render(splice.Looped(len(passages), (passage,))))
                if made is None:
                    raise RuntimeError(f"a passage of {page.slug} does not fit its page's frame")
                fragments[index] = held.put(passage, made)
        return frame.join(cast(list[bytes], fragments))

    def _passages(self, page: SourcePage) -> PassageFragments:
        """The fragments of a source page's passages, held across passes."""
        held = self.memo.latest(("passages", page.slug), None, PassageFragments)
        held.url = page.url
        return held

    def keep(self, key: Callable[[], Hashable], render: Callable[[], T]) -> T:
        """A whole page's bytes, memoised across full passes under `key()`; an incremental
        pass renders only pages that changed, so it asks the memo nothing (nor fills it),
        and never works out a key (over a long listing that costs a pass of its own)."""
        return render() if self.incremental else self.memo.get(key(), render)


def split_sources(settings: Settings, pages: Iterable[SourcePage]) -> frozenset[str]:
    """The slugs of the sources above `feed.listing_size`: their pages are indexes of years,
    and a milestone's page links its passage on its year's page."""
    return frozenset(page.slug for page in pages if is_split(settings, len(page.passages)))


def is_split(settings: Settings, count: int) -> bool:
    return count > settings.feed.listing_size


def documents_of(builders: Iterable[PageBuilder], data: PageData, day: dt.date, *,
                 cards: bool = True, sources: Sequence[SourcePage] | None = None
                 ) -> list[Document]:
    """Every page of `data` in each builder's language, from scratch (or the memo);
    `sources`: the source pages, worked out once for every language."""
    return [document for builder in builders
            for document in builder.all(data, day, cards=cards, sources=sources)]


def documents(settings: Settings, read_models: ReadModels,
              today: Callable[[Settings], dt.date] = system_today, *, cards: bool = True
              ) -> list[Document]:
    """Every page and the calendar in every language the site publishes; found by
    `chronicle.feeds.documents` for serving and export. From FORK_FROM milestones each
    language renders on its own core (chronicle.forked): the same documents, in the same order,
    in about half the time of the static export's largest part."""
    builders = [PageBuilder(settings, read_models, language)
                for language in settings.feed.languages]
    data, day = read_page_data(read_models), today(settings)
    # Worked out once for every language, not once each (0.35 s CPU at 10,000 milestones).
    sources = source_pages(data.milestones, settings.path(settings.seeds_dir))
    if len(data.milestones) < FORK_FROM:
        return documents_of(builders, data, day, cards=cards, sources=sources)
    calls = [partial(builder.all, data, day, cards=cards, sources=sources)
             for builder in builders]
    return [document for part in in_processes(
        calls, after_fork=lambda: read_models.engine.dispose(close=False)) for document in part]
