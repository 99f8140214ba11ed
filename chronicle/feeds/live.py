"""The server's feeds between refreshes: only what a change touches is rebuilt and re-rendered.

After the log advances, the index takes the changed milestones (read by primary key), and
only the feeds they can appear in are rebuilt: the main feed, the archive pages holding
them (and the one that gains a next-archive link), their tags' feeds, the anniversaries
feed. A retraction puts a tombstone in its entry's slot, and a revision or retraction
moves every feed's Last-Modified, so those rebuild every Feed model, still
re-rendering only the ones whose content changed. The documents equal a full render's.
The built feeds are kept in place: `changes` reports only the documents a refresh rebuilt and
the paths it dropped, so a refresh's bookkeeping follows the change, not the ~2,000 feeds a
language publishes at 100,000 milestones (listing them all is `documents`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from chronicle.config import FeedSettings
from chronicle.feeds.catalog import MAIN, POSTS, FeedKey
from chronicle.feeds.changes import Changes, LogChanges
from chronicle.feeds.index import FeedIndex, Placed
from chronicle.feeds.model import Document, Feed
from chronicle.feeds.render import FeedRenderer, RenderHook
from chronicle.feeds.snapshot import last_removal_at, published_posts, read_snapshot
from chronicle.projections import ReadModels
from chronicle.uitext import SOURCE_LANGUAGE


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """One refresh of a language's feeds: the documents rebuilt (new objects, equal bytes
    or not) and the paths no longer published."""

    changed: list[Document]
    removed: frozenset[str] = frozenset()


def same_content(old: Feed, new: Feed) -> bool:
    """Equal bytes: every writer renders from everything but `also_changed_at`."""
    return old == new or (dataclasses.replace(old, also_changed_at=None)
                          == dataclasses.replace(new, also_changed_at=None))


class LiveFeeds:
    """Feed documents of one database, refreshed incrementally as its position moves."""

    def __init__(self, settings: FeedSettings, read_models: ReadModels, *,
                 on_render: RenderHook | None = None, language: str = SOURCE_LANGUAGE) -> None:
        self.renderer = FeedRenderer(settings, on_render=on_render, language=language)
        self.catalog = self.renderer.catalog
        self.read_models = read_models
        self.log = LogChanges(read_models.engine)
        self.index: FeedIndex | None = None
        self._built: dict[FeedKey, tuple[Feed, list[Document]]] = {}
        self._lock = threading.Lock()

    def documents(self, position: int) -> list[Document]:
        """Every feed document at `position` (the read models' checkpoint), in catalogue order."""
        with self._lock:
            self._update(position)
            return self._listed()

    def changes(self, position: int) -> FeedChanges:
        """What moving to `position` rebuilt and dropped: the server's refresh hands on only
        these (a few documents), not the ~2,000 a language publishes at 100,000 milestones."""
        with self._lock:
            return self._update(position)

    def _update(self, position: int) -> FeedChanges:
        try:
            return self._refresh(position)
        except BaseException:
            self.index = None  # half-applied (the database went away): reload next time
            raise

    def listed(self) -> list[Document]:
        """Every feed document at the last refresh's position, in catalogue order."""
        with self._lock:
            return self._listed()

    def _listed(self) -> list[Document]:
        assert self.index is not None
        return [document for key in self.catalog.keys(self.index)
                for document in self._built[key][1]]

    def _refresh(self, position: int) -> FeedChanges:
        changes = None
        if self.index is not None and position >= self.index.position:
            changes = self.log.between(self.index.position, position)
        if self.index is None or changes is None:
            self._reload()
            keys: Iterable[FeedKey] | None = None
        else:
            keys = self._apply(self.index, changes)
        index = self.index
        assert index is not None
        index.position = position
        index.log_head = self.log.link(position)
        return self._rebuild(index, keys)

    def _reload(self) -> None:
        snapshot = read_snapshot(self.read_models, posts_limit=self.catalog.settings.main_size)
        self.index = self.catalog.index(snapshot)

    def _apply(self, index: FeedIndex, changes: Changes) -> set[FeedKey] | None:
        """Apply one window; the feeds that may have changed, or None for all of them."""
        views = self.read_models.by_ids(changes.milestone_ids)
        present = {view.id for view in views}
        removed = [gone for mid in sorted(changes.milestone_ids - present)
                   if (gone := self._withdraw(index, mid)) is not None]
        full_before = index.full_pages
        placed = [index.put(view) for view in views]
        if changes.other:
            index.posts = tuple(published_posts(self.read_models, self.catalog.settings.main_size))
        before = index.removals_at
        if changes.retracted:  # a retraction drops history rows: ask the read models
            index.removals_at = last_removal_at(self.read_models)
        elif changes.revised_at:
            index.removals_at = max(filter(None, (before, *changes.revised_at)))
        if removed or index.removals_at != before:
            return None
        size, full = self.catalog.settings.archive_size, index.full_pages
        pages = {p.index // size for p in placed}
        if full > full_before:  # new full pages, and the one before them (a next-archive link)
            pages.update(range(full_before - 1, full))
        keys: set[FeedKey] = {MAIN, POSTS}
        keys.update(("archive", k) for k in pages if 0 <= k < full)
        keys.update(("tag", tag) for p in placed for tag in p.tags)
        return keys

    def _withdraw(self, index: FeedIndex, milestone_id: str) -> Placed | None:
        """A milestone no longer live: its tombstone takes its slot (or it leaves, unknown)."""
        view = self.read_models.retracted(milestone_id)
        if view is not None:
            return index.retract(view)
        return index.remove(milestone_id)

    def _rebuild(self, index: FeedIndex, keys: Iterable[FeedKey] | None) -> FeedChanges:
        """Rebuild `keys` (None: every feed) and drop the feeds no longer published; the
        others keep their documents (the very objects)."""
        if keys is None:
            targets = self.catalog.keys(index)
            gone = set(self._built).difference(targets)
        else:
            gone = {key for key in keys if not self.catalog.publishes(index, key)}
            targets = [key for key in keys if key not in gone]
        fresh = {key: self._build(index, key) for key in targets}
        removed: set[str] = set()
        for key in gone:   # only once every build succeeded
            dropped = self._built.pop(key, None)
            if dropped is not None:
                removed.update(document.path for document in dropped[1])
        self._built.update(fresh)
        return FeedChanges([document for _, documents in fresh.values()
                            for document in documents], frozenset(removed))

    def _build(self, index: FeedIndex, key: FeedKey) -> tuple[Feed, list[Document]]:
        feed = self.catalog.feed(index, key)
        previous = self._built.get(key)
        if previous is not None and same_content(previous[0], feed):
            bodies = [document.body for document in previous[1]]
        else:
            bodies = [self.renderer.render(feed, fmt) for fmt in feed.formats]
        return feed, [self.renderer.document(feed, fmt, body)
                      for fmt, body in zip(feed.formats, bodies, strict=True)]
