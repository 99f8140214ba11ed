"""The server's feeds between refreshes: only what a change touches is rebuilt and re-rendered.

After the log advances, the index takes the changed milestones (read by primary key), and
only the feeds they can appear in are rebuilt: the main feed, the archive pages holding
them (and the one that gains a next-archive link), their tags' feeds, the anniversaries
feed. A retraction puts a tombstone in its entry's slot, and a revision or retraction
moves every feed's Last-Modified, so those rebuild every Feed model, still
re-rendering only the ones whose content changed. The documents equal a full render's.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

from chronicle.config import FeedSettings
from chronicle.feeds.catalog import MAIN, POSTS, FeedKey
from chronicle.feeds.changes import Changes, LogChanges
from chronicle.feeds.index import FeedIndex, Placed
from chronicle.feeds.model import Document, Feed
from chronicle.feeds.render import FeedRenderer, RenderHook
from chronicle.feeds.snapshot import last_removal_at, published_posts, read_snapshot
from chronicle.projections import ReadModels
from chronicle.uitext import SOURCE_LANGUAGE


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
        """Every feed document at `position` (the read models' checkpoint)."""
        with self._lock:
            try:
                return self._refresh(position)
            except BaseException:
                self.index = None  # half-applied (the database went away): reload next time
                raise

    def _refresh(self, position: int) -> list[Document]:
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
        pages.update(range(full_before - 1, full))  # new full pages, and the one before them
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

    def _rebuild(self, index: FeedIndex, keys: Iterable[FeedKey] | None) -> list[Document]:
        """Rebuild `keys` (None: every feed) and new feeds, keep the rest, list them in order."""
        order = self.catalog.keys(index)
        targets = set(order) if keys is None else set(keys)
        built = {}
        for key in order:
            kept = self._built.get(key)
            built[key] = (kept if kept is not None and key not in targets
                          else self._build(index, key))
        self._built = built
        return [document for key in order for document in built[key][1]]

    def _build(self, index: FeedIndex, key: FeedKey) -> tuple[Feed, list[Document]]:
        feed = self.catalog.feed(index, key)
        previous = self._built.get(key)
        if previous is not None and same_content(previous[0], feed):
            bodies = [document.body for document in previous[1]]
        else:
            bodies = [self.renderer.render(feed, fmt) for fmt in feed.formats]
        return feed, [self.renderer.document(feed, fmt, body)
                      for fmt, body in zip(feed.formats, bodies, strict=True)]
