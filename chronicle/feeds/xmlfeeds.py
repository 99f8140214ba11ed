"""Atom 1.0 and RSS 2.0 through feedgen, behind one small class.

Two feedgen defaults are overridden so documents are deterministic and thread-safe:
feedgen stamps the time of rendering into `updated`/`lastBuildDate` (we always set the
newest entry's time), and it formats RSS dates by switching the process-wide locale
(`locale.setlocale`), which is not thread-safe. Entry dates are therefore never given to
feedgen for RSS: an extension writes them with `email.utils` (fixed English names, no
locale); the channel's date is rewritten the same way, and the one call that still reaches
feedgen's locale switch runs under a process-wide lock.
"""

from __future__ import annotations

import datetime as dt
import threading
from email.utils import format_datetime

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from chronicle.config import FeedSettings
from chronicle.feeds.model import Feed, Format, Item
from chronicle.feeds.text import xml_safe

FH_NS = "http://purl.org/syndication/history/1.0"
AT_NS = "http://purl.org/atompub/tombstones/1.0"   # RFC 6721
LOG_NS = "urn:x-chronicle:log"  # <chronicle:head>POSITION:HASH</chronicle:head>: `verify --expect`
ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "Chronicle"
EXTENSION = "chronicle"

# feedgen.util.formatRFC2822 calls locale.setlocale(LC_ALL, …) twice per call: concurrent
# renders would race on that process-wide state, so every feedgen serialisation holds this.
FEEDGEN_LOCK = threading.Lock()


def rfc822(moment: dt.datetime) -> str:
    """RSS dates without strftime: "Tue, 27 Jan 1987 00:00:00 GMT" in any locale."""
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


class _FeedExtension(BaseExtension):
    """RFC 5005 markers and the channel date; configured after feedgen instantiates it."""

    def __init__(self) -> None:
        self.archive = False
        self.updated: dt.datetime | None = None
        self.rss_links: list[tuple[str, str]] = []
        self.deleted: list[Item] = []
        self.log_head: str | None = None

    def extend_ns(self) -> dict[str, str]:
        spaces = {"fh": FH_NS} if self.archive else {}
        spaces |= {"chronicle": LOG_NS} if self.log_head else {}
        return spaces | ({"at": AT_NS} if self.deleted else {})

    def _head(self, parent: etree._Element) -> None:
        if self.log_head:
            etree.SubElement(parent, f"{{{LOG_NS}}}head").text = self.log_head

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        self._head(feed)
        if self.archive:
            etree.SubElement(feed, f"{{{FH_NS}}}archive")
        for item in self.deleted:
            assert item.retraction is not None
            tombstone = etree.SubElement(feed, f"{{{AT_NS}}}deleted-entry", ref=item.id,
                                         when=item.retraction.at.isoformat())
            etree.SubElement(tombstone, f"{{{ATOM_NS}}}link", href=item.url, rel="alternate",
                             type="text/html")
            etree.SubElement(tombstone, f"{{{AT_NS}}}comment").text = item.retraction.reason
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        assert channel is not None, "feedgen always writes a channel"
        built = channel.find("lastBuildDate")
        if built is not None and self.updated is not None:
            built.text = rfc822(self.updated)
        for rel, href in self.rss_links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        self._head(channel)
        return feed


class _EntryExtension(BaseEntryExtension):
    """The item's pubDate, formatted here rather than by feedgen's locale switch."""

    def __init__(self) -> None:
        self.published: dt.datetime | None = None

    def extend_rss(self, entry: etree._Element) -> etree._Element:
        if self.published is not None:
            etree.SubElement(entry, "pubDate").text = rfc822(self.published)
        return entry


class FeedgenWriter:
    """Renders our Feed model as Atom or RSS bytes with the configured metadata."""

    def __init__(self, settings: FeedSettings) -> None:
        self.settings = settings

    def render(self, feed: Feed, fmt: Format) -> bytes:
        generator = self._generator(feed, fmt)
        with FEEDGEN_LOCK:
            if fmt is Format.ATOM:
                return bytes(generator.atom_str(pretty=True))
            return bytes(generator.rss_str(pretty=True))

    def _generator(self, feed: Feed, fmt: Format) -> FeedGenerator:
        s = self.settings
        fg = FeedGenerator()
        fg.register_extension(EXTENSION, _FeedExtension, _EntryExtension)
        ext: _FeedExtension = getattr(fg, EXTENSION)
        ext.archive, ext.updated, ext.log_head = feed.archive, feed.updated, feed.log_head
        fg.id(feed.id)
        fg.title(xml_safe(feed.title))
        fg.subtitle(xml_safe(feed.subtitle) or xml_safe(feed.title))
        fg.author({"name": xml_safe(s.author_name), **({"email": xml_safe(s.author_email)}
                                                        if s.author_email else {})})
        fg.language(s.language)
        fg.generator(GENERATOR)
        fg.updated(feed.updated)
        for value, setter in ((s.icon, fg.icon), (s.logo, fg.logo), (s.rights, fg.rights)):
            if value:
                setter(xml_safe(value))
        # feedgen uses the last link as the RSS channel's <link>: the HTML page goes last.
        fg.link(href=f"{s.base_url}{feed.path(fmt)}", rel="self", type=fmt.media_type.split(";")[0])
        for link in feed.links:
            fg.link(href=link.href, rel=link.rel, **({"type": link.media_type}
                                                     if link.media_type else {}))
            if fmt is Format.RSS:
                ext.rss_links.append((link.rel, link.href))
        fg.link(href=feed.home_url, rel="alternate", type="text/html")
        for item in feed.items:
            if feed.archive and item.retraction is not None:
                ext.deleted.append(item)   # RFC 6721: the archive says the entry was deleted
            else:
                self._add_entry(fg, item, fmt)
        return fg

    def _add_entry(self, fg: FeedGenerator, item: Item, fmt: Format) -> None:
        entry = fg.add_entry(order="append")
        entry.id(item.id)
        entry.guid(item.id, permalink=False)
        entry.title(item.title)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.updated(item.updated)
        if fmt is Format.ATOM:
            entry.published(item.published)  # feedgen would also use it for RSS, via setlocale
        else:
            getattr(entry, EXTENSION).published = item.published
        entry.summary(item.summary or item.title)
        entry.content(item.content_html, type="html")
        for tag in item.tags:
            entry.category(term=tag, scheme=f"{self.settings.base_url}/tags/", label=tag)

