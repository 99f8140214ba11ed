"""Every feed document the chronicle publishes, built from the feed index (see index.py).

Paths (from the site root; `chronicle serve` answers them, `chronicle export` writes them):
  /feeds/milestones.{atom,rss,json}           last changed first (recorded, revised, retracted)
  /feeds/archive/milestones-{k}.atom          RFC 5005 archive page k (full pages only)
  /feeds/tags/{tag}.{atom,rss,json}           one feed per tag
  /feeds/anniversaries.{atom,rss,json}        published "on this day" posts

Archive page k holds entries k*size+1 … (k+1)*size in recorded order, so new milestones
never move an entry between full pages; a retracted entry keeps its slot there as an RFC 6721
`at:deleted-entry`.

The main feeds list what changed last, so a correction of an old milestone comes back to the
top and readers update it in place; a retraction stays there as a "Retracted: …" update for
`retraction_days`, counted back from the chronicle's newest change (never from the time of
rendering: the same log always gives the same bytes).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from chronicle.config import FeedSettings
from chronicle.feeds.entries import post_item, post_language, tag_uri, tag_url
from chronicle.feeds.index import FeedIndex
from chronicle.feeds.model import Feed, Format, Item, Link
from chronicle.feeds.snapshot import Snapshot
from chronicle.feeds.text import xml_safe
from chronicle.uitext import SOURCE_LANGUAGE, language_prefix, ui_text

MAIN_STEM = "/feeds/milestones"
ANNIVERSARIES_STEM = "/feeds/anniversaries"
ATOM_TYPE = "application/atom+xml"


def safe_settings(settings: FeedSettings) -> FeedSettings:
    """Configured texts without characters a document cannot hold."""
    cleaned = {name: xml_safe(value) for name, value in settings.model_dump().items()
               if isinstance(value, str)}
    return settings.model_copy(update=cleaned)


def language_settings(settings: FeedSettings, language: str) -> FeedSettings:
    """The feed settings as `language`'s feeds see them: their language, their title and
    subtitle from the catalogue, and their site under /<code>, so every absolute link (self,
    archive, entries, pages) points into that language's part of the site."""
    if language == SOURCE_LANGUAGE:
        return settings
    _ = ui_text(language).gettext
    return settings.model_copy(update={
        "language": language, "title": _(settings.title), "subtitle": _(settings.subtitle),
        "base_url": f"{settings.base_url}{language_prefix(language)}"})


def archive_stem(k: int) -> str:
    return f"/feeds/archive/milestones-{k}"


FeedKey = tuple[str, object]   # ("main", None), ("archive", k), ("tag", tag), ("posts", None)
MAIN: FeedKey = ("main", None)
POSTS: FeedKey = ("posts", None)


class FeedCatalog:
    """Turns a FeedIndex (or a snapshot) into Feed models; rendering them is the writers' job.

    One catalogue per language: English at the root; another language's feeds are published
    under `prefix` (/mn/feeds/milestones.atom), with their own ids, words and entries.
    """

    def __init__(self, settings: FeedSettings, language: str = SOURCE_LANGUAGE) -> None:
        self.language = language
        self.prefix = language_prefix(language)
        self.ui = ui_text(language)
        self.settings = safe_settings(language_settings(settings, language))

    def index(self, snapshot: Snapshot) -> FeedIndex:
        return FeedIndex.load(self.settings, snapshot.milestones, snapshot.posts,
                              snapshot.removals_at, snapshot.position, snapshot.retracted,
                              self.language, snapshot.log_head)

    def _id(self, specific: str) -> str:
        return tag_uri(self.settings, specific, self.language)

    def feeds(self, source: Snapshot | FeedIndex) -> list[Feed]:
        index = source if isinstance(source, FeedIndex) else self.index(source)
        return [self.feed(index, key) for key in self.keys(index)]

    def keys(self, index: FeedIndex) -> list[FeedKey]:
        """Every feed of the index, in the order documents are listed."""
        return [MAIN, *(("archive", k) for k in range(index.full_pages)),
                *(("tag", tag) for tag in index.tags()), POSTS]

    def publishes(self, index: FeedIndex, key: FeedKey) -> bool:
        """Whether `key` is among `keys(index)`, without listing them."""
        kind, arg = key
        if kind == "archive":
            return isinstance(arg, int) and 0 <= arg < index.full_pages
        if kind == "tag":
            return index.has_tag(str(arg))
        return key in (MAIN, POSTS)

    def feed(self, index: FeedIndex, key: FeedKey) -> Feed:
        kind, arg = key
        if kind == "main":
            return self.main_feed(index)
        if kind == "archive":
            assert isinstance(arg, int)
            return self.archive_page(index, arg)
        if kind == "tag":
            return self.tag_feed(index, str(arg))
        return self.anniversaries_feed(index)

    def _link(self, rel: str, stem: str) -> Link:
        return Link(rel, f"{self.settings.base_url}{stem}.atom", ATOM_TYPE)

    def _hub(self) -> tuple[Link, ...]:
        return (Link("hub", self.settings.hub_url),) if self.settings.hub_url else ()

    def main_items(self, index: FeedIndex) -> tuple[Item, ...]:
        """The `main_size` changed last, every live entry no full archive page holds yet, and
        the retractions of the last `retraction_days`; last changed first."""
        chosen = {item.id: item for item in index.latest(self.settings.main_size)}
        archived = index.full_pages * self.settings.archive_size
        chosen.update((item.id, item) for item in index.items[archived:]
                      if item.retraction is None)
        newest = index.newest_change()
        if newest is not None:
            horizon = newest - dt.timedelta(days=self.settings.retraction_days)
            chosen.update((item.id, item) for item in index.tombstones()
                          if item.updated >= horizon)
        return tuple(sorted(chosen.values(), key=Item.change_key, reverse=True))

    def main_feed(self, index: FeedIndex) -> Feed:
        """What changed last (see `main_items`), with a link to the newest archive page."""
        full_pages = index.full_pages
        newest = self.main_items(index)
        links = (self._link("prev-archive", archive_stem(full_pages - 1)),) if full_pages else ()
        return Feed(id=self._id("feed/milestones"), title=self.settings.title,
                    subtitle=self.settings.subtitle, stem=MAIN_STEM, route=MAIN_STEM,
                    home_url=f"{self.settings.base_url}/", items=newest,
                    links=links + self._hub(), also_changed_at=index.removals_at,
                    log_head=index.log_head)

    def archive_page(self, index: FeedIndex, k: int) -> Feed:
        items, size, full_pages = index.items, self.settings.archive_size, index.full_pages
        page = tuple(reversed(items[k * size:(k + 1) * size]))  # newest first, like every feed
        links = [self._link("current", MAIN_STEM)]
        if k > 0:
            links.append(self._link("prev-archive", archive_stem(k - 1)))
        changed = [index.removals_at] if index.removals_at else []
        if k + 1 < full_pages:
            links.append(self._link("next-archive", archive_stem(k + 1)))
            changed.append(items[(k + 2) * size - 1].published)  # the link appeared then
        return Feed(id=self._id("feed/milestones"),
                    title=self.ui.gettext("%(title)s (archive: entries %(first)s–%(last)s)",
                                          title=self.settings.title, first=k * size + 1,
                                          last=(k + 1) * size),
                    subtitle=self.settings.subtitle, stem=archive_stem(k),
                    route="/feeds/archive/milestones-{k}", home_url=f"{self.settings.base_url}/",
                    items=page, formats=(Format.ATOM,), links=tuple(links), archive=True,
                    also_changed_at=max(changed, default=None))

    def tag_feed(self, index: FeedIndex, tag: str) -> Feed:
        return Feed(id=self._id(f"feed/tags/{tag}"),
                    title=f"{self.settings.title}: {tag}",
                    subtitle=self.ui.gettext("Milestones tagged “%(tag)s”. %(subtitle)s",
                                             tag=tag, subtitle=self.settings.subtitle),
                    stem=f"/feeds/tags/{quote(tag, safe='')}", route="/feeds/tags/{tag}",
                    home_url=tag_url(self.settings, tag),
                    items=index.tagged(tag, self.settings.main_size),
                    links=self._hub(), also_changed_at=index.removals_at)

    def anniversaries_feed(self, index: FeedIndex) -> Feed:
        """The posts that went out in this feed's language."""
        posts = tuple(post for post in index.posts
                      if post_language(post) == self.language)[: self.settings.main_size]
        items = tuple(post_item(post, self.settings, index.titles, self.ui) for post in posts)
        _ = self.ui.gettext
        return Feed(id=self._id("feed/anniversaries"),
                    title=_("%(title)s: on this day", title=self.settings.title),
                    subtitle=_("Anniversary posts of the chronicle's milestones, "
                               "as they went out."),
                    stem=ANNIVERSARIES_STEM, route=ANNIVERSARIES_STEM,
                    home_url=f"{self.settings.base_url}/", items=items, links=self._hub())
