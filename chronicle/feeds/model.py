"""The feed model every format renders from: one Feed of Items, three serialisations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from enum import StrEnum

# No "now" ever goes into a document: an empty feed says it was updated at this fixed instant.
EMPTY_FEED_UPDATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class Format(StrEnum):
    ATOM = "atom"
    RSS = "rss"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self]


MEDIA_TYPES = {
    Format.ATOM: "application/atom+xml; charset=utf-8",
    Format.RSS: "application/rss+xml; charset=utf-8",
    Format.JSON: "application/feed+json; charset=utf-8",
}
ALL_FORMATS = (Format.ATOM, Format.RSS, Format.JSON)


@dataclass(frozen=True, slots=True)
class Link:
    """A feed-level link other than self/alternate (RFC 5005 archive links, WebSub hub)."""

    rel: str
    href: str
    media_type: str | None = None


@dataclass(frozen=True, slots=True)
class Retraction:
    """When and why an entry was withdrawn: it shows as an update, then as a tombstone."""

    at: dt.datetime
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Item:
    """One entry, whatever it came from (a milestone, a published post)."""

    id: str                      # permanent tag: URI
    title: str
    url: str                     # the entry's own page
    published: dt.datetime
    updated: dt.datetime
    summary: str                 # plain text
    content_html: str
    tags: tuple[str, ...] = ()
    external_url: str | None = None
    historical_key: str = ""     # sorts like the historical date (main feed's ties)
    recorded_order: int = 0      # the log position it was recorded at: the last tie-break
    retraction: Retraction | None = None  # a withdrawn milestone (RFC 6721 in archive pages)

    def change_key(self) -> tuple[dt.datetime, str, int]:
        """The main feeds' order, newest first: last change, the historical date, recording."""
        return self.updated, self.historical_key, self.recorded_order


@dataclass(frozen=True, kw_only=True, slots=True)
class Feed:
    """A logical feed document, published at `stem` + ".atom"/".rss"/".json"."""

    id: str
    title: str
    subtitle: str
    stem: str                    # URL path without extension, e.g. "/feeds/milestones"
    route: str                   # `stem` as a template, e.g. "/feeds/tags/{tag}"
    home_url: str                # the HTML page the feed mirrors (rel=alternate)
    items: tuple[Item, ...]
    formats: tuple[Format, ...] = ALL_FORMATS
    links: tuple[Link, ...] = ()
    archive: bool = False        # an RFC 5005 archive page (<fh:archive/>)
    also_changed_at: dt.datetime | None = None  # a change the entries do not show (a removal)
    log_head: str | None = None  # "POSITION:HASH" of the log row the feed was rendered at

    @property
    def updated(self) -> dt.datetime:
        """The newest entry's `updated`: what the document says, never the time of rendering."""
        return max((item.updated for item in self.items), default=EMPTY_FEED_UPDATED)

    @property
    def last_modified(self) -> dt.datetime:
        """For HTTP: also moves when an entry left (a retraction leaves no newer entry behind)."""
        return max(self.updated, self.also_changed_at or EMPTY_FEED_UPDATED)

    def path(self, fmt: Format) -> str:
        return f"{self.stem}.{fmt.value}"


@dataclass(frozen=True, slots=True)
class Document:
    """Bytes published at a URL path: served by `chronicle serve`, written by `chronicle export`."""

    path: str                    # URL path from the site root, e.g. "/feeds/milestones.atom"
    body: bytes
    media_type: str
    last_modified: dt.datetime
    route: str = field(default="", compare=False)  # the path template, for metrics labels
    status: int = 200            # what the server answers (410 for a retracted milestone's page)
    # The body's strong ETag when its maker has a cheaper one than hashing the body (the
    # calendar's, from its parts: chronicle.pages.calendarparts); None: the server hashes it.
    etag: bytes | None = field(default=None, compare=False, repr=False)

    def same_but_date(self, other: Document) -> bool:
        """Whether `other` holds all this document holds but its Last-Modified (route and ETag
        included, which equality leaves out): the same page, rendered again."""
        return all(getattr(self, name) == getattr(other, name) for name in _ALL_BUT_DATE)


_ALL_BUT_DATE = tuple(f.name for f in fields(Document) if f.name != "last_modified")
