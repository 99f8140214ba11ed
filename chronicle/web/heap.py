"""Keeps Python's cyclic garbage collector off the server's rendered documents.

After a full render the server holds millions of long-lived objects (at 100,000 milestones
about three million: the read models' views, the page snapshot, every document). CPython's
collector traverses all of them in each full collection, and a refresh allocates enough
to set one off: up to half of a 100,000-milestone refresh was the collector scanning objects
that stay alive (tens of milliseconds at 1,000). So after each refresh, what survived is
moved into the permanent generation (`gc.freeze`), which collections never traverse.

Freezing collects nothing itself: a frozen object is still freed by reference counting when
the last reference goes (the documents a refresh replaces hold no cycles), but frozen garbage
in a reference cycle would never be. Hence each refresh first collects the objects made since
the last freeze (a full collection, which leaves the frozen ones out: it scans the refresh's
survivors, not the chronicle), and every `thaw_every` refreshes everything is thawed and
collected once (an ordinary full collection), so cycles that became garbage after being
frozen (a request's objects caught in flight, say) are reclaimed: the heap stays bounded
(tests/test_web_heap.py).
"""

from __future__ import annotations

import gc

THAW_EVERY = 64     # refreshes between two full collections of the whole heap


class FrozenHeap:
    """Settles the heap after each refresh (one per server: `ServerState.heap`)."""

    def __init__(self, thaw_every: int = THAW_EVERY) -> None:
        self.thaw_every = thaw_every
        self.settled = 0     # refreshes since the whole heap was last collected

    def settle(self) -> None:
        """Collect the refresh's garbage, then freeze what survives; thaw and collect the
        whole heap first on the first call and every `thaw_every` calls."""
        if self.settled % self.thaw_every == 0:
            gc.unfreeze()
            self.settled = 0
        gc.collect()
        gc.freeze()
        self.settled += 1
