"""Keeps Python's cyclic garbage collector off the server's rendered documents.

After a full render the server holds millions of long-lived objects (at 100,000 milestones
about three million: the read models' views, the page snapshot, every document). CPython's
collector traverses all of them in each full collection (1.5 s at 100,000 milestones), and
the refreshes' survivors set one off every few refreshes; between those, each refresh's young
collections traverse its new copies of the 100,000-entry lists and dicts again and again.
Neither is work on the change. So a refresh runs with the collector paused, and what it kept
is then moved into the permanent generation (`gc.freeze`), which collections never traverse.

Pausing and freezing collect nothing: a frozen object is still freed by reference counting
when the last reference goes (the documents a refresh replaces hold no cycles), but garbage
in a cycle made during a refresh (the json module's encoder and SQLAlchemy's statements make
a few hundred objects' worth each time; none of ours), or frozen and dropped later (a
request's objects caught in flight, say), would be kept. Hence every `thaw_every`
refreshes, and on the first, everything is thawed and collected once (an ordinary full
collection): the heap stays bounded (tests/test_web_heap.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from chronicle.projections.projector import collector_paused

THAW_EVERY = 64     # refreshes between two full collections of the whole heap


class FrozenHeap:
    """Runs the refreshes of one server (`ServerState.heap`) outside the collector's way."""

    def __init__(self, thaw_every: int = THAW_EVERY) -> None:
        self.thaw_every = thaw_every
        self.settled = 0     # refreshes since the whole heap was last collected

    @contextmanager
    def refreshing(self) -> Iterator[None]:
        """Pause the collector for a refresh; once it succeeded, `settle`."""
        with collector_paused():
            yield
            self.settle()

    def settle(self) -> None:
        """Freeze what is alive; thaw and collect the whole heap first on the first call and
        every `thaw_every` calls."""
        if self.settled % self.thaw_every == 0:
            gc.unfreeze()
            gc.collect()
            self.settled = 0
        gc.freeze()
        self.settled += 1
