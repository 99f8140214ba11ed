"""The SQLite connection a store keeps for its appends, outside SQLAlchemy's pool.

A one-event append's own statements (BEGIN IMMEDIATE, the state query, the INSERT, COMMIT)
cost less than checking a connection out of the pool and wrapping it in a SQLAlchemy
Connection: that bookkeeping was about a quarter of an append's CPU. So a store on a SQLite
file takes one driver connection out of the pool (`detach`), configured by the engine's own
connect hooks (WAL, synchronous, busy timeout), and appends on it under a lock. Any driver
error closes it (the next append opens another) and sends the append to the portable path,
which retries a busy database and names an unreachable one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine

MEMORY_MARKERS = (":memory:", "mode=memory")


def holds_connections(engine: Engine) -> bool:
    """Only a database file can be shared by a held connection and the pool's: an in-memory
    database exists once per connection."""
    database = engine.url.database or ""
    query = "&".join(f"{k}={v}" for k, v in engine.url.query.items())
    return (engine.dialect.name == "sqlite" and bool(database)
            and not any(marker in database or marker in query for marker in MEMORY_MARKERS))


class AppendConnection:
    """One driver connection per store and process, used by one thread at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._held: Any = None           # the detached pool proxy, which closes the driver's
        self._driver: sqlite3.Connection | None = None
        self._pid = 0

    def _connection(self) -> sqlite3.Connection:
        if self._driver is None or self._pid != os.getpid():   # a fork does not inherit it
            held = self._engine.raw_connection()
            held.detach()
            driver = held.dbapi_connection     # the driver's own (a detached proxy has no record)
            assert isinstance(driver, sqlite3.Connection)
            self._held, self._driver, self._pid = held, driver, os.getpid()
        return self._driver

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the held connection; rolled back if the block raises,
        and closed if the driver failed (it may be left in any state)."""
        with self._lock:
            driver = self._connection()
            try:
                driver.execute("BEGIN IMMEDIATE")
                yield driver
                driver.execute("COMMIT")
            except BaseException as exc:
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

    def _close(self) -> None:
        held, self._held, self._driver = self._held, None, None
        if held is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                held.close()          # a detached connection is closed, not pooled

    def close(self) -> None:
        with self._lock:
            self._close()
