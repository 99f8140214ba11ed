"""The server's pages between refreshes: only the pages a change touches are rendered again.

Like the live feeds (chronicle.feeds.live): after the log advances by a few recorded or revised
milestones, the snapshot takes just those (chronicle.pages.livedata) and only the pages they
appear on are rendered: their own pages and card images, the listings of their tags and years
(every year page when the years change: each links its neighbours; of a tag above
`feed.listing_size`, its index and the pages of the years they are in), the source pages that
quote them (likewise by year above the limit; a source crossing it re-renders its milestones'
pages, which then link their passages on their year's page), the home page, the 404 page (it
counts the tags) and the calendar when an anniversary moved. The other listings, source pages
and calendars keep their documents, and so does a page rendered again to the same bytes: a
page's Last-Modified moves only when its bytes do. A retraction, a post (it goes on its
milestones' audit trails), a window too large to follow, or a database that sorts text another
way takes a full pass. The documents equal a full render's but for the Last-Modified of the
pages DATED_ROUTES names, which a full render sets to the snapshot's time (it cannot know
when their bytes last changed) and a refresh keeps while their bytes stand: never later than
a full render's, so a restart only moves them forward (tests/test_pages_live.py).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection, Iterable, Sequence

from chronicle.config import Settings
from chronicle.feeds.changes import Changes, LogChanges
from chronicle.feeds.documents import Changed
from chronicle.feeds.model import Document
from chronicle.pages.builder import (
    EXPORTED_CALENDAR_PATH,
    INDEX_PATH,
    NOT_FOUND_PATH,
    PageBuilder,
    calendar_documents,
    documents_of,
    index_document,
    split_sources,
    system_today,
)
from chronicle.pages.cardimages import card_documents
from chronicle.pages.livedata import Moved, PageSet
from chronicle.pages.livesources import SourceSet
from chronicle.pages.pagedata import first_year, read_page_data, year_span
from chronicle.pages.render import CALENDAR_PATH
from chronicle.pages.sources import passages_by_year
from chronicle.projections import MilestoneView, ReadModels
from chronicle.uitext import SOURCE_LANGUAGE, language_prefix

# Pages whose Last-Modified is the snapshot's in a full render, by route; a refresh moves it
# only for those whose bytes changed (see the module). Re-dating every one on each new
# milestone made thousands of new documents and cache entries a refresh at 100,000
# milestones (the year pages of every split tag, in each language) and told clients that
# pages had changed whose bytes had not.
DATED_ROUTES = frozenset({"/tags/{tag}", "/tags/{tag}/{year}", "/years/{year}", "/sources/",
                          "/sources/{slug}", "/sources/{slug}/{year}", NOT_FOUND_PATH,
                          CALENDAR_PATH, EXPORTED_CALENDAR_PATH})


class LivePages:
    """Every page and calendar of one database, in every language, kept incrementally."""

    def __init__(self, settings: Settings, read_models: ReadModels, *, cards: bool = True,
                 today: Callable[[Settings], dt.date] = system_today) -> None:
        self.settings = settings
        self.read_models = read_models
        self.cards = cards
        self.today = today
        self.log = LogChanges(read_models.engine)
        self.builders = [PageBuilder(settings, read_models, language)
                         for language in settings.feed.languages]
        self.pages: PageSet | None = None
        self.sources: SourceSet | None = None
        self.documents: dict[str, Document] = {}
        self.dated: set[str] = set()     # the paths of the pages DATED_ROUTES names
        self.split: frozenset[str] = frozenset()   # the sources whose pages index years
        # DATED_ROUTES in every language (a set look-up a page: thousands a refresh).
        self.dated_routes = frozenset(language_prefix(language) + route
                                      for language in settings.feed.languages
                                      for route in DATED_ROUTES)
        self._lock = threading.Lock()

    def refresh(self, position: int) -> Changed:
        """The pages at `position` (the read models' checkpoint) in `documents`; what moved."""
        with self._lock:
            try:
                return self._refresh(position)
            except BaseException:
                self.pages = None  # half-applied (the database went away): reload next time
                raise

    def _refresh(self, position: int) -> Changed:
        pages, changes = self.pages, None
        if pages is not None and pages.ordered and position >= pages.data.position:
            changes = self.log.between(pages.data.position, position)
        if pages is None or changes is None or changes.retracted or changes.other:
            return self._full()
        return self._apply(pages, changes, position)

    def _full(self) -> Changed:
        data = read_page_data(self.read_models)
        self.pages = PageSet(data)
        self.sources = SourceSet(data.milestones, self.pages.keys, self.settings)
        self.split = split_sources(self.settings, self.sources.pages.values())
        documents = documents_of(self.builders, data, self.today(self.settings),
                                 cards=self.cards, sources=self.sources.ordered())
        self.documents = {document.path: document for document in documents}
        self.dated = {path for path, document in self.documents.items()
                      if document.route in self.dated_routes}
        return Changed(None)

    def _apply(self, pages: PageSet, changes: Changes, position: int) -> Changed:
        views = self.read_models.by_ids(changes.milestone_ids)
        if len(views) != len(changes.milestone_ids):  # one was retracted meanwhile
            return self._full()
        since = pages.data.position
        moved = pages.advance(views, position)
        assert self.sources is not None     # made with the pages (`_full`)
        slugs = self.sources.move(moved)
        split, self.split = self.split, split_sources(self.settings, self.sources.pages.values())
        # A source split or joined again: its milestones link their passages elsewhere.
        crossed = {view.id: view for slug in split ^ self.split
                   for _, view in self.sources.cited.get(slug, ())}
        crossed.update((view.id, view) for view in moved.after)
        day = self.today(self.settings)
        changed: list[Document] = []
        dated: set[str] = set()
        for builder in self.builders:
            fresh, standing = self._render(builder, moved, tuple(crossed.values()), slugs,
                                           day, since)
            changed += map(self._kept, fresh)
            dated |= standing
        dated.update(document.path for document in changed
                     if document.route in self.dated_routes)
        removed = self.dated - dated
        for path in removed:
            del self.documents[path]
        self.documents.update((document.path, document) for document in changed)
        self.dated = dated
        return Changed(changed, frozenset(removed))

    def _kept(self, document: Document) -> Document:
        """The document served before at a dated page's path when `document` is it again but
        for the snapshot's Last-Modified: the page did not change."""
        if document.route not in self.dated_routes:
            return document
        held = self.documents.get(document.path)
        return held if held is not None and held.same_but_date(document) else document

    def _render(self, builder: PageBuilder, moved: Moved, pages: Sequence[MilestoneView],
                slugs: Collection[str], day: dt.date, since: int
                ) -> tuple[list[Document], set[str]]:
        """One language's pages that `moved` may have changed, rendered again, and the paths
        of its dated pages that still exist (those not rendered again keep their documents);
        `pages`: the milestones whose own page to render again; `since`: the position the
        snapshot moved from."""
        assert self.pages is not None and self.sources is not None
        data = self.pages.data
        touched = (*moved.before, *moved.after)
        tag_years: dict[str, set[int]] = {}
        for view in touched:
            for tag in view.milestone.tags:
                tag_years.setdefault(tag, set()).add(first_year(view))
        tags = set(tag_years)
        years = (set(data.years) if moved.years_changed
                 else {year for view in touched for year in year_span(view)})
        # The calendar's month-days the change leaves or joins (none: the calendar stands).
        month_days = {found for view in touched
                      if (found := view.milestone.date.month_day()) is not None}
        builder.incremental = True
        try:
            with builder.memo.lock:
                fresh = [index_document(builder.renderer, data, day, builder.card,
                                        builder.timeline), builder.not_found(data)]
                fresh += builder.milestones(data, pages, split=self.split)
                fresh += builder.listings(data, tags, years, {
                    tag: self._wanted(builder, "tags", tag, data.tag_groups().get(tag, {}),
                                      touched_years)
                    for tag, touched_years in tag_years.items()})
                fresh += builder.sources(data, self.sources.ordered(), slugs, {
                    slug: self._wanted(builder, "sources", slug, self._source_years(slug),
                                       self.sources.years.get(slug, set()))
                    for slug in slugs})
                if month_days:
                    fresh += calendar_documents(self.settings, data, builder.calendar,
                                                builder.language, changed=month_days,
                                                since=since)
                else:
                    builder.calendar.moved(since, data.position)
                if self.cards and builder.language == SOURCE_LANGUAGE:
                    fresh += card_documents(self.settings, moved.after, builder.memo)
        finally:
            builder.incremental = False
        return fresh, self._present(builder, tags, years, slugs)

    def _source_years(self, slug: str) -> Collection[int]:
        assert self.sources is not None
        page = self.sources.pages.get(slug)
        return () if page is None else passages_by_year(page)

    def _wanted(self, builder: PageBuilder, kind: str, name: str, now: Collection[int],
                touched: Collection[int]) -> Collection[int] | None:
        """The year pages of a split tag or source to render again: those of the touched
        years, or every one (None) when its years changed (each page links its neighbours)
        or it was not split before."""
        for year in touched:
            if year not in now or builder.path(kind, name, year) not in self.documents:
                return None
        return touched

    def _present(self, builder: PageBuilder, tags: Collection[str], years: Collection[int],
                 slugs: Collection[str]) -> set[str]:
        """The paths of the language's dated pages still present but those of `tags`, `years`
        and `slugs`, which a refresh renders again (the caller adds the fresh ones)."""
        assert self.pages is not None and self.sources is not None
        data = self.pages.data
        present = {builder.path("tags", tag.tag) for tag in data.tags if tag.tag not in tags}
        present.update(builder.path("years", year) for year in data.years if year not in years)
        present.update(builder.path("sources", slug) for slug in self.sources.pages
                       if slug not in slugs)
        # A split tag's or source's year pages: hundreds each, their paths made from one.
        for tag in data.tags:
            if builder.split(data.tag_size(tag.tag)):
                present.update(_year_paths(builder, "tags", tag.tag, data.tag_groups()[tag.tag]))
        for slug, page in self.sources.pages.items():
            if builder.split(len(page.passages)):
                present.update(_year_paths(builder, "sources", slug, passages_by_year(page)))
        present.update(builder.route(path) for path in (CALENDAR_PATH, EXPORTED_CALENDAR_PATH))
        return present


def _year_paths(builder: PageBuilder, kind: str, name: str, years: Iterable[int]) -> list[str]:
    """`builder.path(kind, name, year)` of each year, from the index's folder quoted once
    (a refresh looks for hundreds of a split tag's or source's year pages)."""
    folder = builder.path(kind, name).removesuffix(INDEX_PATH)
    return [f"{folder}/{year}{INDEX_PATH}" for year in years]
