"""The server's frozen heap: refreshes freeze what they keep, and nothing frozen leaks.

The counts asserted are objects, never times: the speed is the bench's `pages` rows.
"""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from collections.abc import Iterator
from functools import partial

import pytest

from chronicle import pages
from chronicle.config import Settings
from chronicle.feeds.documents import FollowedSource
from chronicle.feeds.model import Document
from chronicle.pages.live import LivePages
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from chronicle.web.heap import FrozenHeap
from chronicle.web.state import ServerState
from tests.test_feeds_support import milestone, record_all, retract_one, revise_one

SETTINGS = Settings(feed={"base_url": "https://chronicle.test/site",
                          "tag_authority": "chronicle.test,2026", "languages": ["en", "mn"]})


class Node:
    """An object that can be put in a reference cycle and watched through a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    node = Node()
    node.other = node
    return node, weakref.ref(node)


def pages_without_cards(settings: Settings, read_models: ReadModels) -> list[Document]:
    return pages.documents(settings, read_models, cards=False)


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """Each test starts and ends with nothing frozen (the collector is process-wide)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def chronicle_garbage() -> Counter[str]:
    """Thaw and collect everything: the unreachable objects of our own types, by type (what
    the frozen heap would have kept)."""
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return Counter(type(o).__qualname__ for o in gc.garbage
                       if type(o).__module__.startswith("chronicle"))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_refresh_runs_with_the_collector_paused_then_freezes_what_it_kept() -> None:
    heap = FrozenHeap()
    with heap.refreshing():
        assert not gc.isenabled()
        kept, kept_ref = cycle()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert kept_ref() is kept


def test_a_failed_refresh_freezes_nothing() -> None:
    heap = FrozenHeap()
    with pytest.raises(RuntimeError), heap.refreshing():
        raise RuntimeError("the database went away")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert heap.settled == 0


def test_a_frozen_cycle_dropped_later_is_collected_at_the_next_thaw() -> None:
    heap = FrozenHeap(thaw_every=3)
    heap.settle()                       # the first settle thaws and collects everything
    node, alive = cycle()
    heap.settle()                       # frozen with the rest
    del node
    heap.settle()
    assert alive() is not None          # frozen garbage: no collection traverses it
    heap.settle()                       # the third since the thaw: thawed, collected
    assert alive() is None


class Thaws:
    """The objects each full collection found unreachable (gc.callbacks): with the collector
    paused during refreshes, only the thaws collect."""

    def __init__(self) -> None:
        self.collected: list[int] = []

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            self.collected.append(info["collected"])


def test_refreshes_keep_the_heap_bounded_and_leave_no_cycle_of_ours_behind(
        store: SqlEventStore) -> None:
    """Recorded, revised and retracted milestones (a retraction takes a full pass, which
    replaces every frozen page), thawed every 4 refreshes: each thaw finds about the same
    garbage (what 4 refreshes leave in cycles: the JSON encoder's and SQLAlchemy's, none of
    ours), not more and more, and at the end none of it is of our types."""
    record_all(store, [milestone(n) for n in range(6)])
    source = FollowedSource(pages_without_cards, partial(LivePages, cards=False))
    state = ServerState.build(SETTINGS, store, sources=(source,))
    state.heap.thaw_every = 4
    assert state.follower.step()
    first = gc.get_freeze_count()
    thaws = Thaws()
    gc.callbacks.append(thaws)
    try:
        for n in range(6, 18):
            record_all(store, [milestone(n)])
            assert state.follower.step()
        revise_one(store, milestone(3, title="Revised while frozen", tags=("trade",)))
        assert state.follower.step()
        retract_one(store, "feed-milestone-4")
        assert state.follower.step()
    finally:
        gc.callbacks.remove(thaws)
    assert len(thaws.collected) == 3 and thaws.collected[1] > 0
    assert max(thaws.collected[1:]) <= 2 * min(thaws.collected[1:])
    assert 0 < gc.get_freeze_count() - first < first / 2
    assert chronicle_garbage() == Counter()
