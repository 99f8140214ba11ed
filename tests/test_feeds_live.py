"""The server's incremental feeds: after every kind of change, the bytes of a full render.

Each step changes the log through the real domain commands, catches the real projector up,
refreshes the same LiveFeeds and compares with a from-scratch render of the same read models
(paths, order, bytes and Last-Modified), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

from chronicle.config import FeedSettings, Settings
from chronicle.feeds import Document, Feed, Format, feed_documents
from chronicle.feeds.live import LiveFeeds
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from chronicle.web.state import ServerState
from tests.test_feeds_support import caught_up, milestone, record_all, retract_one, revise_one

SETTINGS = FeedSettings(main_size=4, archive_size=3)


class Counting:
    """An on_render hook that remembers which documents were really rendered."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, feed: Feed, fmt: Format, _seconds: float) -> None:
        self.paths.append(feed.path(fmt))


def refreshed(live: LiveFeeds, models: ReadModels) -> list[Document]:
    """The live documents at the read models' position, checked against a full render."""
    documents = live.documents(models.position())
    full = feed_documents(SETTINGS, models)
    assert [d.path for d in documents] == [d.path for d in full]
    for mine, fresh in zip(documents, full, strict=True):
        assert mine == fresh, mine.path
    return documents


def step(store: SqlEventStore, live: LiveFeeds, change: Callable[[], object]) -> list[Document]:
    change()
    return refreshed(live, caught_up(store))


def test_every_kind_of_change_gives_the_full_render(store: SqlEventStore) -> None:
    record_all(store, [milestone(n, tags=("diplomacy", "visits")) for n in range(7)])
    models = caught_up(store)
    rendered = Counting()
    live = LiveFeeds(SETTINGS, models, on_render=rendered)
    first = refreshed(live, models)
    assert len(rendered.paths) == len(first)   # the first refresh renders everything

    rendered.paths.clear()
    docs = step(store, live, lambda: record_all(store, [milestone(7, tags=("trade",))]))
    # Only what the new milestone appears in: not the full archive pages or untouched tags.
    assert "/feeds/archive/milestones-0.atom" not in rendered.paths
    assert not any(path.startswith("/feeds/tags/diplomacy") for path in rendered.paths)
    assert "/feeds/tags/trade.atom" in rendered.paths
    assert b"feed-milestone-7" in {d.path: d for d in docs}["/feeds/milestones.atom"].body

    # A page fills up (archive page 2 appears, page 1 gains its next-archive link); both
    # tags' feeds show the new entry.
    step(store, live, lambda: record_all(store, [milestone(8, tags=("visits", "diplomacy"))]))
    # A revision that takes a tag away, on an archived entry.
    step(store, live, lambda: revise_one(store, milestone(1, title="Corrected",
                                                           tags=("visits",))))
    # The last milestone with a tag loses it: the tag's feed goes away.
    step(store, live, lambda: revise_one(store, milestone(7, tags=("visits",))))
    # A retraction: a tombstone takes its slot, the main feed shows it retracted.
    docs = step(store, live, lambda: retract_one(store, "feed-milestone-2"))
    assert not any(b"feed-milestone-2" in d.body for d in docs if "/tags/" in d.path)
    assert b"Retracted: " in {d.path: d for d in docs}["/feeds/milestones.atom"].body
    # Several changes in one window, one of them recorded and retracted within it.
    step(store, live, lambda: (record_all(store, [milestone(n) for n in range(9, 14)]),
                               retract_one(store, "feed-milestone-10"),
                               revise_one(store, milestone(11, title="Revised at once"))))


def test_a_window_too_large_to_follow_reloads_to_the_same_documents(
        store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(5)])
    models = caught_up(store)
    live = LiveFeeds(SETTINGS, models)
    refreshed(live, models)
    live.log.limit = 2
    step(store, live, lambda: record_all(store, [milestone(n) for n in range(5, 10)]))
    step(store, live, lambda: retract_one(store, "feed-milestone-6"))


def test_the_follower_refresh_serves_the_full_render(store: SqlEventStore) -> None:
    """The server's path: follower step → SiteDocuments → cache, after changes."""
    record_all(store, [milestone(n) for n in range(4)])
    settings = Settings(feed=SETTINGS)
    state = ServerState.build(settings, store, sources=())
    state.follower.step()
    record_all(store, [milestone(4)])
    revise_one(store, milestone(3, title="Revised while serving", tags=("trade",)))
    assert state.follower.step()
    served = {path: s.document for path, s in state.cache.documents.items()}
    full = {d.path: d for language in settings.feed.languages
            for d in feed_documents(SETTINGS, ReadModels(store.engine), language)}
    assert served == full
    assert b"Revised while serving" in served["/feeds/milestones.atom"].body
