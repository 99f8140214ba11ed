"""Pages as bytes: Jinja2 templates (autoescaped) over the page snapshot; no HTTP here.

Every link inside the site is root-relative, prefixed with the path of `feed.base_url`, so
the pages work on any host the site is served or exported to; only `rel=canonical` and
the calendar's links are absolute.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import quote, urlsplit

from jinja2 import PackageLoader, StrictUndefined
from markupsafe import Markup

from chronicle.config import Settings
from chronicle.dates import DatePoint
from chronicle.datewords import date_words, full_date_words, month_day_words
from chronicle.datewords import ordinal as ordinal_words
from chronicle.domain import Milestone, Source
from chronicle.localized import LocalizedMilestone, localize
from chronicle.pages.audit import AuditEntry
from chronicle.pages.eras import era_of, timeline
from chronicle.pages.macros import Macros
from chronicle.pages.pagedata import PageData, first_year
from chronicle.pages.quickjinja import PageEnvironment, escape_output
from chronicle.pages.sources import SourcePage, passage_anchor, source_slug
from chronicle.pages.timeline_svg import picture
from chronicle.pages.upcoming import ANNIVERSARIES_SHOWN, FEB29, soonest_anniversaries
from chronicle.projections import MilestoneView, RetractedView, SearchHit
from chronicle.projections.jsonviews import marked_html
from chronicle.quotes import readable_quote
from chronicle.uitext import SOURCE_LANGUAGE, language_name, language_prefix, ui_text

CSS_PATH = "/assets/chronicle.css"
JS_PATH = "/assets/filter.js"
CALENDAR_PATH = "/calendar.ics"
URL_PATHS = {"home": "/", "milestone": "/milestones/{}/", "tag": "/tags/{}/",
             "tag-year": "/tags/{}/{}/", "year": "/years/{}/", "source": "/sources/{}/",
             "source-year": "/sources/{}/{}/", "sources": "/sources/",
             "search": "/search", "card": "/cards/{}.png", "css": CSS_PATH, "js": JS_PATH,
             "calendar": CALENDAR_PATH, "tag-feed": "/feeds/tags/{}"}
SHARED_URLS = frozenset({"css", "js", "card"})   # one for every language
_BLANK_LINES = re.compile(r"\n\s*\n")
NEWLINE = "\n"
Card = Callable[[MilestoneView, int], Markup]  # a milestone's entry in a list, at a heading level


@dataclass(frozen=True, slots=True)
class Timeline:
    """The home page's picture and timeline: only the milestones it shows decide them, so
    a refresh that leaves those alone reuses them (PageBuilder.timeline)."""

    picture: Markup
    groups: Markup


Shown = Callable[[Sequence[MilestoneView]], Timeline]  # the timeline of the shown milestones


@dataclass(frozen=True, slots=True)
class Alternate:
    """A `<link rel=alternate>`: feed autodiscovery."""

    href: str
    type: str
    title: str


ENGLISH = Markup(' lang="en"')


@dataclass(frozen=True, slots=True)
class Translated:
    """The same page in another language: `hreflang` alternates and the language switch."""

    language: str
    href: str
    name: str


def fallback_mark(localized: LocalizedMilestone, field: str) -> Markup:
    """` lang="en"` on the element of a field shown in English for want of a translation."""
    return ENGLISH if field in localized.fallbacks else Markup("")


def paragraphs(text: str | None) -> Markup:
    """Plain text as escaped paragraphs: blank lines split them, single newlines break lines."""
    parts = [p.strip() for p in _BLANK_LINES.split((text or "").replace("\r\n", "\n"))]
    return Markup("".join(f"<p>{escape_output(p).replace(NEWLINE, '<br>')}</p>"
                          for p in parts if p))


@lru_cache(maxsize=1 << 16)
def path_part(value: str) -> str:
    """`value` percent-escaped for a URL path: the same ids, tags and years come back on
    every page, and quoting them again was a twentieth of a milestone page."""
    return quote(value, safe="")


def is_web_url(url: str | None) -> bool:
    """Only http(s) addresses become links: never javascript:, data: or relative ones."""
    return bool(url) and re.match(r"(?i)https?://\S+\Z", url or "") is not None


def utc_words(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def neighbours(year: int, years: Sequence[int], href: Callable[[int], str]
               ) -> dict[str, Any]:
    """The pager of a year page: the years before and after `year` among `years`, and
    `year_url`, their links."""
    before = [y for y in years if y < year]
    after = [y for y in years if y > year]
    return {"previous_year": before[-1] if before else None,
            "next_year": after[0] if after else None, "year_url": href}


@lru_cache(maxsize=1024)
def day_of_year_words(month: int, day: int, language: str) -> str:
    """"27 January": a milestone page says when its anniversary is marked, and there are only
    366 days to say (babel took a tenth of a Mongolian milestone page to say one)."""
    if language == SOURCE_LANGUAGE:
        return DatePoint(2000, month, day).words(with_year=False)
    return month_day_words(month, day, language=language)


def when_markup(moment: dt.datetime) -> Markup:
    """A recorded time as a <time> element, for a sentence that places it."""
    return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), utc_words(moment))


class PageRenderer:
    """Renders the site's HTML pages for one configuration, in one of its languages.

    Every language renders the same templates: interface words through the catalogue
    (chronicle.uitext), a milestone's text through `localize`, English standing in where
    there is no translation and marked `lang="en"`. English lives at the root, another
    language under /<code>/ (see `language_prefix`).
    """

    def __init__(self, settings: Settings, language: str = SOURCE_LANGUAGE) -> None:
        self.settings = settings
        self.language = language
        self.prefix = language_prefix(language)
        feed = settings.feed
        self.root = urlsplit(feed.base_url).path.rstrip("/")
        self.ui = ui_text(language)
        self._url_bases = {kind: self.root + ("" if kind in SHARED_URLS else self.prefix)
                           for kind in URL_PATHS}
        self.env = PageEnvironment(loader=PackageLoader("chronicle.pages", "templates"),
                               autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                               auto_reload=False, extensions=["jinja2.ext.i18n"])
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            self.ui.lookup, self.ui.nlookup, newstyle=True)
        self._translated: dict[str, Markup] = {}
        self._year_rows: dict[tuple[str, str, int], tuple[int, str]] = {}  # see year_rows
        self.env.globals["_"] = self.translate
        # The main feeds' and the calendar's links: worked out once (every page has them).
        self.main_alternates = self._alternates()
        self._languages = [(lang, language_prefix(lang), language_name(lang))   # translations
                           for lang in settings.feed.languages]
        english = language == SOURCE_LANGUAGE
        self.env.filters.update(paragraphs=paragraphs, utc_words=utc_words,
                                ordinal=partial(ordinal_words, language=language),
                                day_words=partial(full_date_words, language=language),
                                date_words=partial(date_words, language=language),
                                readable_quote=readable_quote, t=self.ui.lookup,
                                marked=lambda text: Markup(marked_html(text)))
        self.env.globals.update(url=self.url, is_web_url=is_web_url, era_of=era_of,
                                source_slug=source_slug, passage_anchor=passage_anchor,
                                site=self._site(), loc=partial(localize, language=language),
                                fb=fallback_mark, when_markup=when_markup,
                                en=Markup("") if english else ENGLISH)
        self.macros = Macros(self.translate, self.url, partial(localize, language=language),
                             fallback_mark, partial(date_words, language=language),
                             self.ui.lookup, utc_words, Markup("") if english else ENGLISH)
        self.env.globals.update(self.macros.globals())
        self.env.globals["chrome"] = SimpleNamespace(**self.chrome())

    def translate(self, message: str, **variables: Any) -> Markup:
        """`_()` in the templates: what Jinja's newstyle gettext answers with autoescape on
        (the translation as Markup, %-formatted with the variables escaped), without the
        three context calls of its `_` alias; a message without variables is translated once.
        A dozen of them on every page made a tenth of a page's rendering."""
        if variables:
            return Markup(self.ui.lookup(message)) % variables
        text = self._translated.get(message)
        if text is None:
            text = self._translated[message] = Markup(self.ui.lookup(message)) % {}
        return text

    def chrome(self) -> dict[str, Markup]:
        """The parts of every page that only the language and the settings decide (the
        header, the search form, the footer): rendered once here, not once per page, which
        saves about a third of a milestone page's rendering. Each `_chrome_*.html` is what
        base.html held in its place; its final newline is base.html's own."""
        return {part: Markup(self.env.get_template(f"_chrome_{part}.html").render()[:-1])
                for part in ("header", "search", "footer")}

    # -- links -------------------------------------------------------------------------

    def url(self, kind: str, *values: object) -> str:
        """A root-relative URL in this language: url("milestone", id), url("year", 1987),
        url("tag-year", tag, 1987); the style sheet, the script and the card images are
        shared by every language."""
        path = URL_PATHS[kind]
        if values:
            path = path.format(*[path_part(str(value)) for value in values])
        return self._url_bases[kind] + path

    def translations(self, path: str) -> tuple[list[Translated], list[Translated]]:
        """The page at `path` (unprefixed) in every language the site publishes, as absolute
        `hreflang` alternates (with x-default, the English page), and as the root-relative
        links of the language switch (the other languages)."""
        base = self.settings.feed.base_url
        alternates = [Translated(lang, f"{base}{prefix}{path}", name)
                      for lang, prefix, name in self._languages]
        alternates.append(Translated("x-default", f"{base}{path}", ""))
        switch = [Translated(lang, f"{self.root}{prefix}{path}", name)
                  for lang, prefix, name in self._languages if lang != self.language]
        return alternates, switch

    def _site(self) -> SimpleNamespace:
        """`site` in the templates. An object, not a dict: Jinja reads `site.title` as an
        attribute first, and a dict's missing attribute raised (and caught) an exception for
        each of the five such reads of every page, with the `chrome` parts."""
        feed = self.settings.feed
        english = self.language == SOURCE_LANGUAGE
        return SimpleNamespace(
            title=self.ui.gettext(feed.title), subtitle=self.ui.gettext(feed.subtitle),
            language=feed.language if english else self.language, base_url=feed.base_url,
            rights=feed.rights, feeds=self.main_alternates)

    def _alternates(self) -> tuple[Alternate, ...]:
        stem = f"{self.root}{self.prefix}/feeds/milestones"
        _ = self.ui.gettext
        return (Alternate(f"{stem}.atom", "application/atom+xml", _("Milestones (Atom)")),
                Alternate(f"{stem}.rss", "application/rss+xml", _("Milestones (RSS)")),
                Alternate(f"{stem}.json", "application/feed+json", _("Milestones (JSON Feed)")),
                Alternate(self.url("calendar"), "text/calendar",
                          _("Anniversaries (iCalendar)")))

    def tag_alternates(self, tag: str) -> list[Alternate]:
        stem = self.url("tag-feed", tag)
        _ = self.ui.gettext
        return [Alternate(f"{stem}.{ext}", media_type, _(f"Tagged “%(tag)s” ({name})", tag=tag))
                for ext, media_type, name in (("atom", "application/atom+xml", "Atom"),
                                              ("rss", "application/rss+xml", "RSS"),
                                              ("json", "application/feed+json", "JSON Feed"))]

    def _render(self, template: str, canonical: str, **context: Any) -> bytes:
        context.setdefault("alternates", self.main_alternates)
        context.setdefault("scripts", False)
        hreflang, switch = self.translations(canonical)
        text = self.env.get_template(template).render(
            canonical=f"{self.settings.feed.base_url}{self.prefix}{canonical}",
            hreflang=hreflang, switch=switch, **context)
        return text.encode("utf-8")

    # -- pages -------------------------------------------------------------------------

    def card(self, view: MilestoneView, level: int) -> Markup:
        """A milestone's entry in the timeline and the listings (chronicle.pages.macros)."""
        return self.macros.card(view, level)

    def timeline(self, shown: Sequence[MilestoneView], card: Card | None = None) -> Timeline:
        """The picture and the era and year groups of the milestones the home page shows."""
        svg: Any = self.env.get_template("_timeline_svg.html").module
        groups: Any = self.env.get_template("_timeline.html").module
        return Timeline(cast(Markup, svg.timeline_svg(picture(shown))),
                        cast(Markup, groups.timeline_groups(timeline(shown), card or self.card)))

    def index(self, data: PageData, today: dt.date, card: Card | None = None,
              shown_timeline: Shown | None = None) -> bytes:
        """The home page: the timeline of the most recent `feed.home_size` milestones.

        The newest end of the historical order is kept (what a visitor comes for; the older
        ones stay a click away on their year pages), so the page, its picture and the cost
        of a refresh stop growing with the chronicle; below the limit nothing is left out.
        Likewise the next anniversary lists at most ANNIVERSARIES_SHOWN milestones of its day.
        `shown_timeline`: the shown milestones' `timeline`, memoised by the caller.
        """
        upcoming = soonest_anniversaries(data.day_precision, today,
                                         self.settings.posting.feb29_rule, ANNIVERSARIES_SHOWN)
        views = data.milestones
        shown = views[-self.settings.feed.home_size:]
        # The historical order sorts by first day, so its ends hold the first and last years.
        first_year = views[0].milestone.date.first_day().year if views else None
        last_year = views[-1].milestone.date.first_day().year if views else None
        parts = (shown_timeline or partial(self.timeline, card=card))(shown)
        return self._render(
            "index.html", "/", timeline=parts, tags=data.tags, years=data.years,
            count=len(views), hidden=len(views) - len(shown),
            upcoming=upcoming.first, upcoming_more=upcoming.count - len(upcoming.first),
            upcoming_days=(upcoming.first[0].on - today).days if upcoming.first else None,
            first_year=first_year, last_year=last_year, scripts=True)

    def milestone(self, view: MilestoneView, trail: Sequence[AuditEntry],
                  split: Collection[str] = ()) -> bytes:
        """Independent of today's date, so the bytes change only when the milestone does
        (or when one of its sources becomes, or stops being, an index of years: `split`,
        their slugs; its passages are then on the page of the milestone's year)."""
        year = first_year(view)

        def source_url(source: Source) -> str:
            slug = source_slug(source)
            return self.url("source-year", slug, year) if slug in split else self.url(
                "source", slug)

        return self._render("milestone.html", f"/milestones/{quote(view.id, safe='')}/",
                            view=view, m=view.milestone, trail=trail,
                            marked=self.marked_on(view.milestone), source_url=source_url)

    def marked_on(self, milestone: Milestone) -> str | None:
        """When the anniversary is marked: "27 January", with the 29 February rule said."""
        month_day = milestone.date.month_day()
        if month_day is None:
            return None
        words = day_of_year_words(*month_day, self.language)
        if month_day != FEB29:
            return words
        _ = self.ui.gettext
        common = {"feb28": _("on 28 February in other years"),
                  "mar1": _("on 1 March in other years"),
                  "skip": _("only in leap years")}[self.settings.posting.feb29_rule]
        return f"{words} ({common})"

    def retracted(self, gone: RetractedView, last_known: Milestone | None,
                  trail: Sequence[AuditEntry]) -> bytes:
        return self._render("retracted.html", f"/milestones/{quote(gone.id, safe='')}/",
                            gone=gone, m=last_known, trail=trail)

    def tag(self, tag: str, views: Sequence[MilestoneView], card: Card | None = None) -> bytes:
        return self._render("listing.html", f"/tags/{quote(tag, safe='')}/",
                            heading=self.ui.gettext("Milestones tagged “%(tag)s”", tag=tag),
                            views=views, count=len(views), tag=tag, year=None, counts=None,
                            alternates=[*self.main_alternates, *self.tag_alternates(tag)],
                            card=card or self.card)

    def tag_index(self, tag: str, counts: Mapping[int, int]) -> bytes:
        """A tag above `feed.listing_size`: its years with their counts, each a page."""
        return self._render("listing.html", f"/tags/{quote(tag, safe='')}/",
                            heading=self.ui.gettext("Milestones tagged “%(tag)s”", tag=tag),
                            views=(), count=sum(counts.values()), tag=tag, year=None,
                            counts=counts, year_rows=self.year_rows("tag-year", tag, counts),
                            alternates=[*self.main_alternates, *self.tag_alternates(tag)],
                            card=self.card)

    def tag_year(self, tag: str, year: int, years: Sequence[int],
                 views: Sequence[MilestoneView], card: Card | None = None) -> bytes:
        """One year of a tag above `feed.listing_size`, linking the tag's other years."""
        heading = self.ui.gettext("Milestones tagged “%(tag)s” in %(year)s", tag=tag, year=year)
        return self._render("listing.html", f"/tags/{quote(tag, safe='')}/{year}/",
                            heading=heading, views=views, count=len(views), tag=tag,
                            year=year, counts=None, card=card or self.card,
                            alternates=[*self.main_alternates, *self.tag_alternates(tag)],
                            **neighbours(year, years, partial(self.url, "tag-year", tag)))

    def year(self, year: int, views: Sequence[MilestoneView], years: Sequence[int],
             card: Card | None = None) -> bytes:
        heading = self.ui.gettext("Milestones of %(year)s", year=year)
        return self._render("listing.html", f"/years/{year}/", heading=heading,
                            views=views, count=len(views), tag=None, year=year, counts=None,
                            card=card or self.card,
                            **neighbours(year, years, partial(self.url, "year")))

    def source(self, page: SourcePage, ordered: bool, year: int | None = None,
               years: Sequence[int] = ()) -> bytes:
        """A source's page: `ordered` when the passages are in the document's order; with
        `year`, one year's page of a source above `feed.listing_size` (`years`: all of
        them), its passages `page.passages`."""
        if year is None:
            return self._render("source.html", f"/sources/{page.slug}/", page=page,
                                ordered=ordered, year=None, counts=None)
        return self._render("source.html", f"/sources/{page.slug}/{year}/", page=page,
                            ordered=ordered, year=year, counts=None,
                            **neighbours(year, years, partial(self.url, "source-year",
                                                              page.slug)))

    def source_index(self, page: SourcePage, counts: Mapping[int, int], ordered: bool
                     ) -> bytes:
        """A source above `feed.listing_size`: its years with their passages' counts."""
        return self._render("source.html", f"/sources/{page.slug}/", page=page,
                            ordered=ordered, year=None, counts=counts,
                            year_rows=self.year_rows("source-year", page.slug, counts))

    def year_rows(self, kind: str, name: str, counts: Mapping[int, int]) -> Markup:
        """A tag's or source's index of years (`year_index`): each year's row, linking the
        `kind` page of `name` for it, as rendered for its count and held while that stays
        (the index is rendered again on every change of the tag or source and lists every
        year: 160 rows in the bench, half a millisecond a page; one entry per year page)."""
        macros: Any = self.env.get_template("_macros.html").module
        href = partial(self.url, kind, name)
        rows = []
        for year, count in counts.items():
            held = self._year_rows.get((kind, name, year))
            if held is None or held[0] != count:
                held = self._year_rows[kind, name, year] = (
                    count, str(macros.year_row(year, count, href)))
            rows.append(held[1])
        return Markup("".join(rows))

    def sources(self, pages: Sequence[SourcePage]) -> bytes:
        return self._render("sources.html", "/sources/", pages=pages)

    def search(self, query: str, hits: Sequence[SearchHit]) -> bytes:
        """The search page: the query, and each match with its highlights."""
        return self._render("search.html", "/search", query=query, hits=hits)

    def not_found(self, data: PageData | None = None) -> bytes:
        return self._render("not_found.html", "/", tags=data.tags if data else ())
