"""Runs projections over the log: checkpoint and rows in one transaction, batch by batch.

Stop it anywhere (even SIGKILL) and start again: a batch is either committed with its
checkpoint or not at all, so nothing is skipped and nothing applied twice. Several processes
may run it at once: the checkpoint rows are locked for the batch (SELECT … FOR UPDATE on
PostgreSQL, the database write lock on SQLite), and a process that finds them advanced skips.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from chronicle.projections import tables as t
from chronicle.projections.base import Projection, batch_notes, bulk_load
from chronicle.projections.readahead import ReadAhead, reading_ahead
from chronicle.projections.relaxed import relaxed_writes
from chronicle.store import EventUnreadable, SqlEventStore, StoredEvent
from chronicle.store.dialects import StoreDialect, dialect_for
from chronicle.store.sql import run_write

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]   # (position reached, head)
Read = Callable[[int, int], Sequence[StoredEvent]]   # (after, limit): read_for_replay's events
REBUILD_BATCH = 50_000   # events a rebuild commits at once: revisions dirty pages all over
#   the trees, which each commit writes again (200k events: 1034 MiB written at 20,000,
#   819 MiB at 50,000, 607 at 100,000); two batches are held (see readahead): ~520 MB peak


UNREADABLE = (EventUnreadable, ValueError, LookupError, TypeError, AttributeError)
"""What a projection raises on an event this version cannot read (DomainError is a ValueError)."""


@dataclass(frozen=True, slots=True)
class Stopped:
    """The read models stopped before `position`: this version cannot read that event."""

    position: int
    reason: str

    def __str__(self) -> str:
        return (f"the event at position {self.position} cannot be read by this version "
                f"({self.reason}); the read models stop at position {self.position - 1}")


def default_projections() -> list[Projection]:
    """Every read model of the chronicle, in the order they are applied."""
    from chronicle.projections.milestones import MilestonesProjection
    from chronicle.projections.posts import PostsProjection
    from chronicle.projections.search import SearchProjection

    # Search reads rm_milestones as the milestones projection left it: it comes after.
    return [MilestonesProjection(), PostsProjection(), SearchProjection()]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (process-wide) for bulk work such as a rebuild.

    A rebuild allocates millions of short-lived objects without cycles, which reference
    counting frees; the collector would only traverse each batch's live events again and
    again (a third of a rebuild's time). Any cycle made meanwhile is collected once it resumes.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Projector:
    """Keeps the read models in `engine` up to date with the log in `store`."""

    def __init__(self, store: SqlEventStore, projections: Sequence[Projection] | None = None, *,
                 engine: Engine | None = None, dialect: StoreDialect | None = None,
                 batch_size: int = 5000, rebuild_batch_size: int = REBUILD_BATCH) -> None:
        self.store = store
        self.projections = list(projections if projections is not None
                                else default_projections())
        self.engine = engine or store.engine
        self.dialect = dialect or (store.dialect if engine is None else dialect_for(engine))
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size
        self.stopped: Stopped | None = None

    def _tables(self, projection: Projection | None = None) -> list[sa.Table]:
        chosen = [projection] if projection else self.projections
        return [table for p in chosen for table in p.tables()]

    def prepare(self) -> None:
        """Create missing tables; rebuild any projection whose code version changed."""
        with self.dialect.migration_lock(self.engine):
            t.CheckpointRow.metadata.create_all(
                self.engine, tables=[t.checkpoints, *self._tables()])
            self._restore_deferred()  # a rebuild stopped half-way left them out
            with self.engine.begin() as conn:
                stored = {row.name: row.version for row in conn.execute(sa.select(t.checkpoints))}
            for projection in self.projections:
                built = stored.get(projection.name)
                if built is None:
                    self._reset(projection)
                elif built != projection.version:
                    log.warning("projection %s: tables built by version %s, code is version %s: "
                                "rebuilding from the log", projection.name, built,
                                projection.version)
                    self._reset(projection, drop=True)

    def _reset(self, projection: Projection, *, drop: bool = False) -> None:
        tables = self._tables(projection)
        if drop:
            t.CheckpointRow.metadata.drop_all(self.engine, tables=tables)
            t.CheckpointRow.metadata.create_all(self.engine, tables=tables)
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(table.delete())
            conn.execute(t.checkpoints.delete().where(t.checkpoints.c.name == projection.name))
            conn.execute(t.checkpoints.insert(), {"name": projection.name,
                                                  "version": projection.version, "position": 0})

    def _deferred_indexes(self) -> list[sa.Index]:
        """The indexes a rebuild creates after its bulk load: those that enforce nothing."""
        return [index for table in self._tables() for index in table.indexes
                if not index.unique]

    def _restore_deferred(self, *, bulk: bool = False) -> None:
        """One transaction: a batch (another process's catch-up) sees the rows a rebuild left
        out still missing, and leaves them too, or sees them written and indexed. `bulk`:
        inside `bulk_writes`, with a batch's settings (SQLite: the page cache that holds the
        indexes and rows it writes, instead of spilling them to the WAL as it goes).
        A write transaction from its start (SQLite: BEGIN IMMEDIATE, waiting for another
        process's batch): its first statements only read, and a read transaction that then
        writes after another connection committed fails at once with "database is locked"."""

        def restore(conn: Connection) -> None:
            with self.dialect.bulk_batch(conn) if bulk else contextlib.nullcontext():
                for projection in self.projections:
                    projection.restore_rows(conn)
                for index in self._deferred_indexes():
                    index.create(conn, checkfirst=True)
                for projection in self.projections:
                    projection.restore_index(conn)

        run_write(self.engine, restore)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every read model and replay the whole log; returns the events replayed.

        The secondary indexes (and the full-text index, see Projection.suspend_index) are built
        once at the end instead of row by row, and the rows derived from others written once
        from them (Projection.restore_rows; queries during a rebuild are slower or find
        nothing, results after it the same); `prepare` restores any a crash left out.
        """
        with relaxed_writes(self.engine):
            with self.dialect.migration_lock(self.engine):
                t.CheckpointRow.metadata.drop_all(self.engine, tables=self._tables())
                t.CheckpointRow.metadata.drop_all(self.engine, tables=[t.checkpoints])
            self.prepare()
            with self.dialect.migration_lock(self.engine):
                for index in self._deferred_indexes():
                    index.drop(self.engine, checkfirst=True)
                with self.engine.begin() as conn:
                    for projection in self.projections:
                        projection.suspend_index(conn)
        with self.dialect.bulk_writes(self.engine):   # SQLite: chronicle/store/bulkwrite.py
            with (relaxed_writes(self.engine), collector_paused(),
                  reading_ahead(self.store) as ahead):
                applied = self._catch_up(progress, None, rebuilding=True, ahead=ahead)
            with self.dialect.migration_lock(self.engine):
                self._restore_deferred(bulk=True)   # committed with full durability: relaxed
        return applied

    def position(self) -> int:
        """The position every read model has reached (the lowest checkpoint)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.min(t.checkpoints.c.position))).scalar() or 0

    def catch_up(self, progress: Progress | None = None, upto: int | None = None) -> int:
        """Apply the events not yet applied (up to `upto`); returns how many were applied.

        An event this version cannot read stops the read models just before it (see
        `stopped`); the events before it are applied, and later calls do not try it again.
        """
        return self._catch_up(progress, upto, rebuilding=False)

    def _catch_up(self, progress: Progress | None, upto: int | None, *, rebuilding: bool,
                  ahead: ReadAhead | None = None) -> int:
        applied = 0
        head = upto if upto is not None else self.store.head()
        size = max(self.batch_size, self.rebuild_batch_size) if rebuilding else self.batch_size
        step = (functools.partial(self._big_step, ahead=ahead) if rebuilding
                else functools.partial(self._step, read=self.store.read_for_replay))
        if self.stopped is not None:
            if self.position() == self.stopped.position - 1:
                return 0
            self.stopped = None   # rebuilt or reset since: try again
        while True:
            try:
                work = functools.partial(step, upto=upto, size=size)
                count, reached = run_write(self.engine, work)
            except UNREADABLE as exc:
                if size > 1:   # narrow down to the event: apply the ones before it
                    size //= 2
                    continue
                self._stop(exc)
                return applied
            applied += count
            if progress:
                progress(reached, max(head, reached))
            if count == 0:
                return applied

    def _stop(self, exc: Exception) -> None:
        """A one-event batch failed: that event is the one after the checkpoint."""
        position = exc.position if isinstance(exc, EventUnreadable) else self.position() + 1
        reason = (exc.reason if isinstance(exc, EventUnreadable)
                  else (str(exc).strip().splitlines() or [type(exc).__name__])[0])
        if isinstance(exc, KeyError):
            reason = f"missing {reason}"
        self.stopped = Stopped(position, reason)
        log.error("%s", self.stopped)

    def _big_step(self, conn: Connection, upto: int | None, size: int,
                  ahead: ReadAhead | None) -> tuple[int, int]:
        """A rebuild's step, with the database's bulk-write settings; a full batch starts
        reading the next one, which its commit then overlaps (see readahead)."""
        with self.dialect.bulk_batch(conn), bulk_load(conn):
            read = ahead.read if ahead else self.store.read_for_replay
            count, last = self._step(conn, upto, size, read)
        if ahead and count == size:
            ahead.start(last, size)
        return count, last

    def _step(self, conn: Connection, upto: int | None, size: int, read: Read
              ) -> tuple[int, int]:
        names = [p.name for p in self.projections]
        query = (sa.select(t.checkpoints.c.name, t.checkpoints.c.position)
                 .where(t.checkpoints.c.name.in_(names)).with_for_update())
        checkpoints = {name: position for name, position in conn.execute(query)}
        low = min(checkpoints.values(), default=0)
        if upto is not None and low >= upto:
            return 0, low
        events = read(low, size)
        if upto is not None:
            events = [e for e in events if e.position <= upto]
        if not events:
            return 0, low
        last = events[-1].position
        with batch_notes(conn):
            for projection in self.projections:
                mine = (events if checkpoints[projection.name] == low
                        else [e for e in events if e.position > checkpoints[projection.name]])
                if mine:
                    projection.apply(conn, mine)
                    conn.execute(t.checkpoints.update()
                                 .where(t.checkpoints.c.name == projection.name)
                                 .values(position=last))
        return len(events), last
