"""Every feed document the chronicle publishes, built from one snapshot of the read models.

Paths (from the site root; `chronicle serve` answers them, `chronicle export` writes them):
  /feeds/milestones.{atom,rss,json}           newest additions first
  /feeds/archive/milestones-{k}.atom          RFC 5005 archive page k (full pages only)
  /feeds/tags/{tag}.{atom,rss,json}           one feed per tag
  /feeds/anniversaries.{atom,rss,json}        published "on this day" posts

Archive page k holds entries k*size+1 … (k+1)*size in recorded order, so new milestones
never move an entry between full pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from chronicle.config import FeedSettings
from chronicle.feeds.entries import milestone_item, post_item, tag_uri, tag_url
from chronicle.feeds.model import Feed, Format, Item, Link
from chronicle.feeds.queries import Snapshot
from chronicle.feeds.text import xml_safe

MAIN_STEM = "/feeds/milestones"
ANNIVERSARIES_STEM = "/feeds/anniversaries"
ATOM_TYPE = "application/atom+xml"


def safe_settings(settings: FeedSettings) -> FeedSettings:
    """Configured texts without characters a document cannot hold."""
    cleaned = {name: xml_safe(value) for name, value in settings.model_dump().items()
               if isinstance(value, str)}
    return settings.model_copy(update=cleaned)


def archive_stem(k: int) -> str:
    return f"/feeds/archive/milestones-{k}"


class FeedCatalog:
    """Turns a snapshot into the list of Feed models; rendering them is the writers' job."""

    def __init__(self, settings: FeedSettings) -> None:
        self.settings = safe_settings(settings)

    def feeds(self, snapshot: Snapshot) -> list[Feed]:
        items = [milestone_item(view, self.settings) for view in snapshot.milestones]
        feeds = self.archive_feeds(items, snapshot.removals_at)
        feeds.insert(0, self.main_feed(items, snapshot.removals_at))
        feeds.extend(self.tag_feeds(items, snapshot.removals_at))
        feeds.append(self.anniversaries_feed(snapshot))
        return feeds

    def _link(self, rel: str, stem: str) -> Link:
        return Link(rel, f"{self.settings.base_url}{stem}.atom", ATOM_TYPE)

    def _hub(self) -> tuple[Link, ...]:
        return (Link("hub", self.settings.hub_url),) if self.settings.hub_url else ()

    def main_feed(self, items: Sequence[Item], removals_at: dt.datetime | None) -> Feed:
        """The newest `main_size`, and at least every entry no full archive page holds yet."""
        size = self.settings.archive_size
        full_pages = len(items) // size
        unarchived = len(items) - full_pages * size
        newest = tuple(reversed(items))[: max(self.settings.main_size, unarchived)]
        links = (self._link("prev-archive", archive_stem(full_pages - 1)),) if full_pages else ()
        return Feed(id=tag_uri(self.settings, "feed/milestones"), title=self.settings.title,
                    subtitle=self.settings.subtitle, stem=MAIN_STEM, route=MAIN_STEM,
                    home_url=f"{self.settings.base_url}/", items=newest,
                    links=links + self._hub(), also_changed_at=removals_at)

    def archive_feeds(self, items: Sequence[Item], removals_at: dt.datetime | None) -> list[Feed]:
        size = self.settings.archive_size
        full_pages = len(items) // size
        return [self._archive_page(items, k, full_pages, removals_at) for k in range(full_pages)]

    def _archive_page(self, items: Sequence[Item], k: int, full_pages: int,
                      removals_at: dt.datetime | None) -> Feed:
        size = self.settings.archive_size
        page = tuple(reversed(items[k * size:(k + 1) * size]))  # newest first, like every feed
        links = [self._link("current", MAIN_STEM)]
        if k > 0:
            links.append(self._link("prev-archive", archive_stem(k - 1)))
        changed = [removals_at] if removals_at else []
        if k + 1 < full_pages:
            links.append(self._link("next-archive", archive_stem(k + 1)))
            changed.append(items[(k + 2) * size - 1].published)  # the link appeared then
        return Feed(id=tag_uri(self.settings, "feed/milestones"),
                    title=f"{self.settings.title} (archive: entries {k * size + 1}–"
                          f"{(k + 1) * size})",
                    subtitle=self.settings.subtitle, stem=archive_stem(k),
                    route="/feeds/archive/milestones-{k}", home_url=f"{self.settings.base_url}/",
                    items=page, formats=(Format.ATOM,), links=tuple(links), archive=True,
                    also_changed_at=max(changed, default=None))

    def tag_feeds(self, items: Sequence[Item], removals_at: dt.datetime | None) -> list[Feed]:
        by_tag: dict[str, list[Item]] = {}
        for item in reversed(items):
            for tag in item.tags:
                by_tag.setdefault(tag, []).append(item)
        return [self._tag_feed(tag, tagged, removals_at) for tag, tagged in sorted(by_tag.items())]

    def _tag_feed(self, tag: str, tagged: Iterable[Item], removals_at: dt.datetime | None
                  ) -> Feed:
        return Feed(id=tag_uri(self.settings, f"feed/tags/{tag}"),
                    title=f"{self.settings.title}: {tag}",
                    subtitle=f"Milestones tagged “{tag}”. {self.settings.subtitle}",
                    stem=f"/feeds/tags/{quote(tag, safe='')}", route="/feeds/tags/{tag}",
                    home_url=tag_url(self.settings, tag),
                    items=tuple(tagged)[: self.settings.main_size],
                    links=self._hub(), also_changed_at=removals_at)

    def anniversaries_feed(self, snapshot: Snapshot) -> Feed:
        titles = {view.id: view.milestone.title for view in snapshot.milestones}
        items = tuple(post_item(post, self.settings, titles)
                      for post in snapshot.posts[: self.settings.main_size])
        return Feed(id=tag_uri(self.settings, "feed/anniversaries"),
                    title=f"{self.settings.title}: on this day",
                    subtitle="Anniversary posts of the chronicle's milestones, as they went out.",
                    stem=ANNIVERSARIES_STEM, route=ANNIVERSARIES_STEM,
                    home_url=f"{self.settings.base_url}/", items=items, links=self._hub())
