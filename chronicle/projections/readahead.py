"""Reading a rebuild's next batch of events while the current one commits.

A rebuild alternates between decoding a batch of the log (Python, holding the GIL) and writing
read-model rows. The commit is one long call that releases the GIL (SQLite writes the batch's
pages to the WAL); reading the next batch on a second thread meanwhile overlaps the two. It is
started only then: run beside the batch's row inserts, which take and drop the GIL once per
row, the two threads would only slow each other down.
The log never changes below its head, so a batch read early is the batch read on time; a read
for anything other than the batch read ahead (a smaller batch after an unreadable event, or
another position) is made on the spot, as without read-ahead.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from chronicle.store import SqlEventStore, StoredEvent


class ReadAhead:
    """`read` as the store's `read_for_replay`, from a batch `start`ed in advance."""

    def __init__(self, store: SqlEventStore, pool: concurrent.futures.Executor) -> None:
        self.store = store
        self.pool = pool
        self.pending: tuple[int, int, concurrent.futures.Future[Sequence[StoredEvent]]] | None
        self.pending = None

    def read(self, after: int, limit: int) -> Sequence[StoredEvent]:
        """The events after `after` (at most `limit`); an error reading them is raised here."""
        pending, self.pending = self.pending, None
        if pending is not None and pending[:2] == (after, limit):
            return pending[2].result()
        return self.store.read_for_replay(after=after, limit=limit)

    def start(self, after: int, limit: int) -> None:
        """Begin reading the batch a later `read(after, limit)` will ask for."""
        self.pending = (after, limit, self.pool.submit(self.store.read_for_replay,
                                                       after=after, limit=limit))


@contextmanager
def reading_ahead(store: SqlEventStore) -> Iterator[ReadAhead]:
    """A ReadAhead whose thread ends (its last read finished and dropped) with the block."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                               thread_name_prefix="read-ahead") as pool:
        yield ReadAhead(store, pool)
