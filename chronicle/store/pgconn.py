"""The PostgreSQL connection a store keeps for its appends, outside SQLAlchemy's pool.

A one-event append is one call of the append function (chronicle/store/pgappend.py), about
0.6 ms; checking a connection out of the pool, wrapping it in a SQLAlchemy Connection and
opening SQLAlchemy's transaction around the autocommit call cost ~30 µs of it. So the
PostgreSQL dialect takes one driver connection out of the engine's pool (`detach`: made by
the engine's own connect hooks, search_path and application name included), puts it in
autocommit and appends on it, one thread at a time. Larger appends run on it too, as one
message and its COPY data (chronicle/store/pgbatch.py).

Any driver error but a duplicate event id closes it (the next append opens another) and hands
the append to the pooled path, which retries a connection lost to a server restart once and
names an unreachable database: the held connection adds no failure of its own. A thread that
finds it busy takes the pooled path too, so concurrent appends wait on the table lock only,
as they did.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chronicle.store.process import process_id

IDLE = 0        # psycopg.pq.TransactionStatus.IDLE: no transaction open
_INHERITED: list[Any] = []
"""Connections a forked child found: never closed nor collected there, as closing (or
collecting) one would end the parent's session on the shared socket."""


class Unheld(Exception):
    """The held connection is busy or failed: take the pooled path."""


class HeldPgConnection:
    """One psycopg connection in autocommit per engine and process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._driver: Any = None
        self._pid = 0

    def _connection(self) -> Any:
        if self._driver is not None and self._pid != process_id():   # a fork does not own it
            _INHERITED.append(self._driver)
            self._driver = None
        if self._driver is None:
            held = self._engine.raw_connection()
            held.detach()          # out of the pool's accounting: closing it closes the socket
            driver: Any = held.dbapi_connection
            driver.autocommit = True
            self._driver, self._pid = driver, process_id()
        return self._driver

    @contextlib.contextmanager
    def driver(self, statement: str) -> Iterator[Any]:
        """The held psycopg connection, for statements that are each their own transaction.

        Raises Unheld if another thread holds it or it cannot serve (closed, with the driver's
        error as the cause); a duplicate event id as SQLAlchemy's IntegrityError, as the
        pooled path raises it.
        """
        if not self._lock.acquire(blocking=False):
            raise Unheld("busy")
        try:
            try:
                driver = self._connection()
                yield driver
            except sa.exc.DBAPIError as exc:        # opening it failed: the pool will say why
                raise Unheld(str(exc)) from exc
            except self._engine.dialect.loaded_dbapi.IntegrityError as exc:
                dbapi_error = self._engine.dialect.loaded_dbapi.Error
                raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi_error) from exc
            except self._engine.dialect.loaded_dbapi.Error as exc:
                self._close()
                raise Unheld(str(exc)) from exc
            except BaseException:
                if self._driver is not None and self._driver.info.transaction_status != IDLE:
                    self._close()      # interrupted mid-statement: its state is unknown
                raise
        finally:
            self._lock.release()

    def _close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None and self._pid == process_id():
            with contextlib.suppress(Exception):
                driver.close()

    def close(self) -> None:
        with self._lock:
            self._close()
