"""The server's refresh hands the cache only the feed documents a change rebuilt.

`SiteDocuments.feed_changes` lists what each language's LiveFeeds rebuilt and dropped, not
every feed; the cache keeps the rest. After every kind of change (a new milestone, a full
archive page, revisions moving tags, a tag's last milestone leaving it, a retraction, a
window too large to follow, a refresh that failed half-way) the served feeds must equal a
from-scratch render in both languages, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chronicle.config import FeedSettings, Settings
from chronicle.feeds import Document, Feed, Format, feed_documents
from chronicle.feeds.catalog import FeedCatalog
from chronicle.feeds.documents import SiteDocuments
from chronicle.feeds.snapshot import read_snapshot
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from chronicle.web.cache import DocumentCache
from chronicle.web.state import refresh_documents
from tests.test_feeds_support import caught_up, milestone, record_all, retract_one, revise_one

SETTINGS = Settings(feed=FeedSettings(main_size=4, archive_size=3))


def full_render(models: ReadModels) -> dict[str, Document]:
    return {d.path: d for language in SETTINGS.feed.languages
            for d in feed_documents(SETTINGS.feed, models, language)}


def served(cache: DocumentCache) -> dict[str, Document]:
    return {path: entry.document for path, entry in cache.documents.items()}


class FailOnce:
    """An on_render hook that fails the first tag feed rendered in `language` once armed."""

    def __init__(self) -> None:
        self.language: str | None = None

    def __call__(self, feed: Feed, _fmt: Format, _seconds: float) -> None:
        if self.language is None or not feed.stem.startswith("/feeds/tags/"):
            return
        if ("/mn/" in feed.home_url) == (self.language == "mn"):
            self.language = None
            raise RuntimeError("rendering failed")


class Server:
    """A SiteDocuments and a DocumentCache refreshed as the server does."""

    def __init__(self, store: SqlEventStore) -> None:
        self.store = store
        self.hook = FailOnce()
        self.site = SiteDocuments(SETTINGS, caught_up(store), on_render=self.hook, sources=())
        self.cache = DocumentCache()

    def refresh(self) -> dict[str, Document]:
        """Refresh to the read models' position; the served feeds must be a full render's."""
        models = caught_up(self.store)
        refresh_documents(self.site, self.cache, models.position())
        documents = served(self.cache)
        assert documents == full_render(models)
        return documents

    def step(self, change: Callable[[], object]) -> dict[str, Document]:
        change()
        return self.refresh()


def test_the_served_feeds_equal_a_full_render_after_every_kind_of_change(
        store: SqlEventStore) -> None:
    record_all(store, [milestone(n, tags=("diplomacy", "visits")) for n in range(7)])
    server = Server(store)
    first = server.refresh()
    server.step(lambda: record_all(store, [milestone(7, tags=("trade",))]))
    # Archive page 2 appears, page 1 gains its next-archive link.
    server.step(lambda: record_all(store, [milestone(8, tags=("visits", "diplomacy"))]))
    server.step(lambda: revise_one(store, milestone(1, title="Corrected", tags=("visits",))))
    # The last milestone tagged "trade" loses it: its feeds leave the cache.
    gone = server.step(lambda: revise_one(store, milestone(7, tags=("visits",))))
    assert "/feeds/tags/trade.atom" not in gone and "/mn/feeds/tags/trade.json" not in gone
    server.step(lambda: retract_one(store, "feed-milestone-2"))
    server.step(lambda: record_all(store, [milestone(9, tags=("new",))]))
    for feeds in server.site.languages:   # a window too large to follow: reloads
        feeds.log.limit = 2
    server.step(lambda: (record_all(store, [milestone(n) for n in range(10, 14)]),
                         retract_one(store, "feed-milestone-10")))
    for feeds in server.site.languages:
        feeds.log.limit = 2_000
    server.step(lambda: record_all(store, [milestone(14, tags=("visits",))]))
    assert first   # the first refresh served every feed


def test_a_new_milestone_hands_on_only_the_feeds_it_appears_in(store: SqlEventStore) -> None:
    record_all(store, [milestone(n, tags=("diplomacy",)) for n in range(9)])
    server = Server(store)
    before = server.refresh()
    record_all(store, [milestone(9, tags=("trade",))])
    feeds = server.site.feed_changes(caught_up(store).position())
    assert feeds.changed is not None and not feeds.removed
    stems = {"/feeds/milestones", "/feeds/tags/trade", "/feeds/anniversaries"}
    assert {d.path for d in feeds.changed} == {
        f"{prefix}{stem}.{fmt}" for prefix in ("", "/mn") for stem in stems
        for fmt in ("atom", "rss", "json")}
    changes = server.site.changes(feeds)
    assert changes.changed == feeds.changed and not changes.removed
    server.cache.publish(feeds.changed, server.site.position)
    server.cache.update((), (), server.site.position)
    after = served(server.cache)
    assert after == full_render(caught_up(store))
    assert after["/feeds/archive/milestones-2.atom"] is before["/feeds/archive/milestones-2.atom"]
    assert len(server.site.documents(server.site.position)) == len(after)


@pytest.mark.parametrize("language", ["mn", "en"])
def test_a_refresh_that_failed_half_way_is_served_whole_by_the_next(
        store: SqlEventStore, language: str) -> None:
    """What the languages rendered before the failure never reached the cache: the next
    refresh (the follower retries the same position) hands on every feed document."""
    record_all(store, [milestone(n) for n in range(5)])
    server = Server(store)
    server.refresh()
    record_all(store, [milestone(5, tags=("trade",))])
    server.hook.language = language
    with pytest.raises(RuntimeError, match="rendering failed"):
        server.refresh()
    server.refresh()
    server.step(lambda: revise_one(store, milestone(5, tags=("visits",))))


def test_publishes_answers_as_the_catalogue_lists(store: SqlEventStore) -> None:
    """`FeedCatalog.publishes` is `keys` without the list (a refresh asks it of the few keys it
    rebuilds): the two must agree, for the keys listed and for those next to them."""
    record_all(store, [milestone(n, tags=("diplomacy",) if n % 2 else ("visits",))
                       for n in range(8)])
    catalog = FeedCatalog(SETTINGS.feed)
    index = catalog.index(read_snapshot(caught_up(store)))
    listed = catalog.keys(index)
    assert ("archive", 1) in listed and ("tag", "visits") in listed
    others = [("archive", -1), ("archive", index.full_pages), ("tag", "trade"),
              ("tag", "Visits"), ("main", "x"), ("posts", None)]
    for key in [*listed, *others]:
        assert catalog.publishes(index, key) == (key in listed), key
