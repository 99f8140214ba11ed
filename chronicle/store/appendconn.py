"""The SQLite connection a store keeps for its appends, outside SQLAlchemy's pool.

A one-event append's own statements (BEGIN IMMEDIATE, the state query, the INSERT, COMMIT)
cost less than checking a connection out of the pool and wrapping it in a SQLAlchemy
Connection: that bookkeeping was about a quarter of an append's CPU. So a store on a SQLite
file takes one driver connection out of the pool (`detach`), configured by the engine's own
connect hooks (WAL, synchronous, busy timeout), and appends on it under a lock. Any driver
error closes it (the next append opens another) and sends the append to the portable path,
which retries a busy database and names an unreachable one.

The held connection also remembers what its own appends left (`KnownState`: the head, and
the versions of the streams it read or wrote), so the next append reads only the versions
of streams it has not seen, instead of the head and every stream's version. `PRAGMA
data_version`, read under the write lock, says whether another connection committed since:
then the memory is dropped and the state is read in full.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy.engine import Engine

from chronicle.store.dialects import (
    SQLITE_DATA_VERSION,
    parse_append_state,
    sqlite_append_state,
    sqlite_stream_versions,
)
from chronicle.store.process import process_id

MEMORY_MARKERS = (":memory:", "mode=memory")
R = TypeVar("R")
Ts = TypeVarTuple("Ts")
KNOWN_STREAMS = 50_000    # stream versions remembered at most (then forgotten, and read again)


def holds_connections(engine: Engine) -> bool:
    """Only a database file can be shared by a held connection and the pool's: an in-memory
    database exists once per connection."""
    database = engine.url.database or ""
    query = "&".join(f"{k}={v}" for k, v in engine.url.query.items())
    return (engine.dialect.name == "sqlite" and bool(database)
            and not any(marker in database or marker in query for marker in MEMORY_MARKERS))


class KnownState:
    """The log as this connection's last commit left it: valid while `data_version` holds.

    `versions` maps each stream the connection read or wrote to its version (0: no events);
    an append updates it in place, and one that fails makes the connection forget it all.
    """

    __slots__ = ("data_version", "head", "head_at", "prev_hash", "versions")

    def __init__(self, data_version: int, versions: dict[str, int], head: int, prev_hash: str,
                 head_at: dt.datetime | None) -> None:
        self.data_version = data_version
        self.versions = versions
        self.head, self.prev_hash, self.head_at = head, prev_hash, head_at

    def moved(self, head: int, prev_hash: str, head_at: dt.datetime) -> None:
        """The head after an append on this connection (its commit leaves data_version as is)."""
        self.head, self.prev_hash, self.head_at = head, prev_hash, head_at


class AppendConnection:
    """One driver connection per store and process, used by one thread at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._held: Any = None           # the detached pool proxy, which closes the driver's
        self._driver: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None   # reused: a cursor per statement costs
        self._pid = 0
        self._known: KnownState | None = None

    def _connection(self) -> tuple[sqlite3.Connection, sqlite3.Cursor]:
        """A new driver connection and cursor (`run` asks when it has none, or was forked:
        a fork does not inherit the connection)."""
        held = self._engine.raw_connection()
        held.detach()
        driver = held.dbapi_connection     # the driver's own (a detached proxy has no record)
        assert isinstance(driver, sqlite3.Connection)
        self._held, self._driver, self._pid = held, driver, process_id()
        self._cursor = cursor = driver.cursor()
        self._known = None
        return driver, cursor

    def state(self, cursor: sqlite3.Cursor, streams: Sequence[str]) -> KnownState:
        """The append state for `streams`, inside `run` (whose lock makes it current):
        remembered if no other connection committed since, read otherwise."""
        version = cursor.execute(SQLITE_DATA_VERSION).fetchone()[0]
        known = self._known
        if known is None or known.data_version != version:
            versions, head, prev_hash, head_at = parse_append_state(
                sqlite_append_state(cursor, streams))
            known = self._known = KnownState(version, dict.fromkeys(streams, 0) | versions,
                                             head, prev_hash, head_at)
            return known
        versions = known.versions
        for stream in streams:      # a loop, not a list: mostly one stream, already known
            if stream not in versions:
                missing = [name for name in streams if name not in versions]
                if len(versions) + len(missing) > KNOWN_STREAMS:
                    versions.clear()
                versions.update(sqlite_stream_versions(cursor, missing))
                break
        return known

    def run(self, work: Callable[[sqlite3.Cursor, *Ts], R], *args: *Ts) -> R:
        """`work(cursor, *args)` on the held connection's cursor, in BEGIN
        IMMEDIATE ... COMMIT; rolled back if it raises, and the connection closed if the
        driver failed (it may be left in any state).

        A plain call, not a context manager: a generator's setup was a tenth of the
        bookkeeping of a one-event append. The arguments are passed on rather than bound in
        a closure, which the caller would build on every append."""
        with self._lock:
            driver, cursor = self._driver, self._cursor
            if driver is None or cursor is None or self._pid != process_id():
                driver, cursor = self._connection()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                result = work(cursor, *args)
                cursor.execute("COMMIT")
            except BaseException as exc:
                self._known = None      # the append may have updated it before failing
                failed = (isinstance(exc, sqlite3.Error)
                          and not isinstance(exc, sqlite3.IntegrityError))
                if not failed and driver.in_transaction:
                    try:
                        driver.execute("ROLLBACK")
                    except sqlite3.Error:
                        failed = True
                if failed:
                    self._close()
                raise
            return result

    def _close(self) -> None:
        held, self._held, self._driver, self._cursor = self._held, None, None, None
        if held is not None and self._pid == process_id():
            with contextlib.suppress(sqlite3.Error):
                held.close()          # a detached connection is closed, not pooled

    def close(self) -> None:
        with self._lock:
            self._close()
