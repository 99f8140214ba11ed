"""The feeds' view of the read models, kept in memory and changed one milestone at a time.

Every feed is built from this index: the milestones' Items in recorded order, which of them
carry each tag, the titles the anniversaries feed links to, the published posts and the last
removal. A retracted milestone keeps its slot in recorded order as a tombstone Item (its
`retraction` set), so archive pages never shift and can say the entry was deleted.
Loading it from a snapshot and then applying changes gives the same index as loading the later
snapshot, so an incremental refresh renders what a full one would.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chronicle.config import FeedSettings
from chronicle.feeds.entries import milestone_item, retracted_item
from chronicle.feeds.model import Item
from chronicle.localized import localize
from chronicle.projections import MilestoneView, PublishedPostView, RetractedView
from chronicle.uitext import SOURCE_LANGUAGE


@dataclass(frozen=True, slots=True)
class _Entry:
    recorded_position: int
    updated_position: int
    item: Item


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a put or a removal happened: the index in recorded order and the tags it touched."""

    index: int
    tags: frozenset[str]


class FeedIndex:
    """Items in recorded order with per-tag positions; O(log n) to find, O(1) to append."""

    def __init__(self, settings: FeedSettings, language: str = SOURCE_LANGUAGE) -> None:
        self.settings = settings
        self.language = language                # the language of its Items (see entries)
        self.positions: list[int] = []          # recorded positions, ascending
        self.items: list[Item] = []             # parallel to `positions`; tombstones included
        self.titles: dict[str, str] = {}        # milestone id → title (anniversary posts)
        self.posts: tuple[PublishedPostView, ...] = ()
        self.removals_at: dt.datetime | None = None
        self.position = 0
        self.log_head: str | None = None  # POSITION:HASH at `position`, for the main feed
        self._entries: dict[str, _Entry] = {}
        self._by_position: dict[int, Item] = {}
        self._tagged: dict[str, list[int]] = {}  # tag → recorded positions, ascending
        self._tombstones: dict[str, Item] = {}   # retracted milestone id → its tombstone
        # Live items by the main feeds' order, ascending: the newest are the last ones.
        self._by_change: list[tuple[tuple[dt.datetime, str, int], str]] = []
        self._newest: dt.datetime | None = None  # the latest `updated` of any item

    @classmethod
    def load(cls, settings: FeedSettings, views: Iterable[MilestoneView],
             posts: Sequence[PublishedPostView], removals_at: dt.datetime | None,
             position: int, retracted: Iterable[RetractedView] = (),
             language: str = SOURCE_LANGUAGE, log_head: str | None = None) -> FeedIndex:
        index = cls(settings, language)
        for view in views:
            index.put(view)
        for gone in retracted:
            index.retract(gone)
        index.posts, index.removals_at, index.position = tuple(posts), removals_at, position
        index.log_head = log_head
        return index

    def __len__(self) -> int:
        return len(self.items)

    @property
    def full_pages(self) -> int:
        return len(self.items) // self.settings.archive_size

    def tags(self) -> list[str]:
        return sorted(self._tagged)

    def has_tag(self, tag: str) -> bool:
        return tag in self._tagged

    def tagged(self, tag: str, limit: int) -> tuple[Item, ...]:
        """The newest `limit` items carrying `tag`, newest first."""
        positions = self._tagged.get(tag, [])
        return tuple(self._by_position[p] for p in reversed(positions[-limit:]))

    def latest(self, limit: int) -> list[Item]:
        """The `limit` live items changed last (ties: the later historical date first)."""
        return [self._entries[mid].item for _, mid in reversed(self._by_change[-limit:])]

    def newest_change(self) -> dt.datetime | None:
        """The latest recording, revision or retraction any entry shows."""
        return self._newest

    def tombstones(self) -> list[Item]:
        return list(self._tombstones.values())

    def put(self, view: MilestoneView) -> Placed:
        """Add or replace a milestone; an unchanged revision keeps its Item."""
        old = self._entries.get(view.id)
        if old is not None and old.updated_position == view.updated_position:
            return Placed(self._find(old.recorded_position), frozenset())
        touched = self._forget(view.id) if old is not None else frozenset()
        item = milestone_item(view, self.settings, self.language)
        at = self._insert(view.id, _Entry(view.recorded_position, view.updated_position, item))
        self.titles[view.id] = (view.milestone.title if self.language == SOURCE_LANGUAGE
                                else localize(view.milestone, self.language).title)
        for tag in item.tags:
            bisect.insort(self._tagged.setdefault(tag, []), view.recorded_position)
        return Placed(at, touched | frozenset(item.tags))

    def retract(self, view: RetractedView) -> Placed | None:
        """Replace a milestone by its tombstone, in the same slot; None if it has no slot."""
        touched = self._forget(view.id) if view.id in self._entries else frozenset()
        if view.recorded_position is None:
            return None
        item = retracted_item(view, self.settings, self.language)
        at = self._insert(view.id, _Entry(view.recorded_position, view.position, item))
        self._tombstones[view.id] = item
        return Placed(at, touched)

    def _insert(self, milestone_id: str, entry: _Entry) -> int:
        item = entry.item
        if item.retraction is None:
            bisect.insort(self._by_change, (item.change_key(), milestone_id))
        self._newest = max(self._newest or item.updated, item.updated)
        at = bisect.bisect_left(self.positions, entry.recorded_position)
        self.positions.insert(at, entry.recorded_position)
        self.items.insert(at, entry.item)
        self._entries[milestone_id] = entry
        self._by_position[entry.recorded_position] = entry.item
        return at

    def remove(self, milestone_id: str) -> Placed | None:
        """Drop a retracted milestone; None if the index never held it."""
        entry = self._entries.get(milestone_id)
        if entry is None:
            return None
        at = self._find(entry.recorded_position)
        placed = Placed(at, self._forget(milestone_id))
        self._newest = max((item.updated for item in self.items), default=None)
        return placed

    def _find(self, recorded_position: int) -> int:
        return bisect.bisect_left(self.positions, recorded_position)

    def _forget(self, milestone_id: str) -> frozenset[str]:
        entry = self._entries.pop(milestone_id)
        at = self._find(entry.recorded_position)
        del self.positions[at], self.items[at]
        del self._by_position[entry.recorded_position]
        self.titles.pop(milestone_id, None)
        if self._tombstones.pop(milestone_id, None) is not None:
            return frozenset()
        key = (entry.item.change_key(), milestone_id)
        del self._by_change[bisect.bisect_left(self._by_change, key)]
        for tag in entry.item.tags:
            positions = self._tagged[tag]
            del positions[bisect.bisect_left(positions, entry.recorded_position)]
            if not positions:
                del self._tagged[tag]
        return frozenset(entry.item.tags)
