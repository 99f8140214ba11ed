"""Pages as bytes: Jinja2 templates (autoescaped) over the page snapshot; no HTTP here.

Every link inside the site is root-relative, prefixed with the path of `feed.base_url`, so
the pages work on any host the site is served or exported to; only `rel=canonical` and
the calendar's links are absolute.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from num2words import num2words

from chronicle.config import Settings
from chronicle.dates import DatePoint, HistoricalDate
from chronicle.domain import Milestone
from chronicle.pages.audit import AuditEntry
from chronicle.pages.eras import era_of, timeline
from chronicle.pages.queries import PageData
from chronicle.pages.sources import SourcePage, passage_anchor, source_slug
from chronicle.pages.timeline_svg import picture
from chronicle.pages.upcoming import FEB29, next_anniversaries
from chronicle.projections import MilestoneView, RetractedView, SearchHit
from chronicle.projections.jsonviews import marked_html
from chronicle.quotes import readable_quote

CSS_PATH = "/assets/chronicle.css"
JS_PATH = "/assets/filter.js"
CALENDAR_PATH = "/calendar.ics"
_BLANK_LINES = re.compile(r"\n\s*\n")
Card = Callable[[MilestoneView, int], Markup]  # a milestone's entry in a list, at a heading level


@dataclass(frozen=True, slots=True)
class Alternate:
    """A `<link rel=alternate>`: feed autodiscovery."""

    href: str
    type: str
    title: str


def ordinal(number: int) -> str:
    """"1st", "2nd", "40th", "111th", as the posts write them."""
    return str(num2words(number, to="ordinal_num"))


def paragraphs(text: str | None) -> Markup:
    """Plain text as escaped paragraphs: blank lines split them, single newlines break lines."""
    parts = [p.strip() for p in _BLANK_LINES.split((text or "").replace("\r\n", "\n"))]
    return Markup("").join(Markup("<p>{}</p>").format(escape(p)).replace("\n", Markup("<br>"))
                           for p in parts if p)


def is_web_url(url: str | None) -> bool:
    """Only http(s) addresses become links: never javascript:, data: or relative ones."""
    return bool(url) and re.match(r"(?i)https?://\S+\Z", url or "") is not None


def day_words(day: dt.date) -> str:
    return HistoricalDate.from_date(day).words()


def utc_words(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def relative_day(day: dt.date, today: dt.date) -> str:
    days = (day - today).days
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


class PageRenderer:
    """Renders the site's HTML pages for one configuration."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        feed = settings.feed
        self.root = urlsplit(feed.base_url).path.rstrip("/")
        self.env = Environment(loader=PackageLoader("chronicle.pages", "templates"),
                               autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                               auto_reload=False)
        self.env.filters.update(paragraphs=paragraphs, utc_words=utc_words, ordinal=ordinal,
                                day_words=day_words, readable_quote=readable_quote,
                                marked=lambda text: Markup(marked_html(text)))
        self.env.globals.update(url=self.url, is_web_url=is_web_url, era_of=era_of,
                                source_slug=source_slug, passage_anchor=passage_anchor,
                                site=self._site())

    # -- links -------------------------------------------------------------------------

    def url(self, kind: str, value: object = None) -> str:
        """A root-relative URL: url("milestone", id), url("tag", tag), url("year", 1987)."""
        paths = {"home": "/", "milestone": "/milestones/{}/", "tag": "/tags/{}/",
                 "year": "/years/{}/", "source": "/sources/{}/", "sources": "/sources/",
                 "search": "/search", "card": "/cards/{}.png",
                 "css": CSS_PATH, "js": JS_PATH,
                 "calendar": CALENDAR_PATH, "tag-feed": "/feeds/tags/{}"}
        path = paths[kind]
        if value is not None:
            path = path.format(quote(str(value), safe=""))
        return f"{self.root}{path}"

    def _site(self) -> dict[str, Any]:
        feed = self.settings.feed
        return {"title": feed.title, "subtitle": feed.subtitle, "language": feed.language,
                "base_url": feed.base_url, "rights": feed.rights,
                "feeds": self.main_alternates()}

    def main_alternates(self) -> list[Alternate]:
        stem = f"{self.root}/feeds/milestones"
        return [Alternate(f"{stem}.atom", "application/atom+xml", "Milestones (Atom)"),
                Alternate(f"{stem}.rss", "application/rss+xml", "Milestones (RSS)"),
                Alternate(f"{stem}.json", "application/feed+json", "Milestones (JSON Feed)"),
                Alternate(self.url("calendar"), "text/calendar",
                          "Anniversaries (iCalendar)")]

    def tag_alternates(self, tag: str) -> list[Alternate]:
        stem = self.url("tag-feed", tag)
        return [Alternate(f"{stem}.atom", "application/atom+xml", f"Tagged “{tag}” (Atom)"),
                Alternate(f"{stem}.rss", "application/rss+xml", f"Tagged “{tag}” (RSS)"),
                Alternate(f"{stem}.json", "application/feed+json", f"Tagged “{tag}” (JSON Feed)")]

    def _render(self, template: str, canonical: str, **context: Any) -> bytes:
        context.setdefault("alternates", self.main_alternates())
        context.setdefault("scripts", False)
        text = self.env.get_template(template).render(
            canonical=f"{self.settings.feed.base_url}{canonical}", **context)
        return text.encode("utf-8")

    # -- pages -------------------------------------------------------------------------

    def card(self, view: MilestoneView, level: int) -> Markup:
        """A milestone's entry in the timeline and the listings (the `card` macro)."""
        macros: Any = self.env.get_template("_macros.html").module  # macros are attributes
        return cast(Markup, macros.card(view, level))

    def index(self, data: PageData, today: dt.date, card: Card | None = None) -> bytes:
        upcoming = next_anniversaries(data.day_precision, today, self.settings.posting.feb29_rule)
        years = [v.milestone.date.first_day().year for v in data.milestones]
        return self._render(
            "index.html", "/", groups=timeline(data.milestones), tags=data.tags,
            years=data.years, count=len(data.milestones), upcoming=upcoming,
            upcoming_when=relative_day(upcoming[0].on, today) if upcoming else "",
            first_year=min(years, default=None), last_year=max(years, default=None),
            picture=picture(data.milestones), scripts=True, card=card or self.card)

    def milestone(self, view: MilestoneView, trail: Sequence[AuditEntry]) -> bytes:
        """Independent of today's date, so the bytes change only when the milestone does."""
        return self._render("milestone.html", f"/milestones/{quote(view.id, safe='')}/",
                            view=view, m=view.milestone, trail=trail,
                            marked=self.marked_on(view.milestone))

    def marked_on(self, milestone: Milestone) -> str | None:
        """When the anniversary is marked: "27 January", with the 29 February rule said."""
        month_day = milestone.date.month_day()
        if month_day is None:
            return None
        words = DatePoint(2000, *month_day).words(with_year=False)
        if month_day != FEB29:
            return words
        common = {"feb28": "on 28 February in other years", "mar1": "on 1 March in other years",
                  "skip": "only in leap years"}[self.settings.posting.feb29_rule]
        return f"{words} ({common})"

    def retracted(self, gone: RetractedView, last_known: Milestone | None,
                  trail: Sequence[AuditEntry]) -> bytes:
        return self._render("retracted.html", f"/milestones/{quote(gone.id, safe='')}/",
                            gone=gone, m=last_known, trail=trail)

    def tag(self, tag: str, views: Sequence[MilestoneView], card: Card | None = None) -> bytes:
        return self._render("listing.html", f"/tags/{quote(tag, safe='')}/",
                            heading=f"Milestones tagged “{tag}”", views=views, tag=tag,
                            year=None, alternates=self.main_alternates()
                            + self.tag_alternates(tag), card=card or self.card)

    def year(self, year: int, views: Sequence[MilestoneView], years: Sequence[int],
             card: Card | None = None) -> bytes:
        before = [y for y in years if y < year]
        after = [y for y in years if y > year]
        return self._render("listing.html", f"/years/{year}/", heading=f"Milestones of {year}",
                            views=views, tag=None, year=year, card=card or self.card,
                            previous_year=before[-1] if before else None,
                            next_year=after[0] if after else None)

    def source(self, page: SourcePage, ordered: bool) -> bytes:
        """A source's page: `ordered` when the passages are in the document's order."""
        return self._render("source.html", f"/sources/{page.slug}/", page=page, ordered=ordered)

    def sources(self, pages: Sequence[SourcePage]) -> bytes:
        return self._render("sources.html", "/sources/", pages=pages)

    def search(self, query: str, hits: Sequence[SearchHit]) -> bytes:
        """The search page: the query, and each match with its highlights."""
        return self._render("search.html", "/search", query=query, hits=hits)

    def not_found(self, data: PageData | None = None) -> bytes:
        return self._render("not_found.html", "/", tags=data.tags if data else ())
