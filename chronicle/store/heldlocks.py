"""Named locks a process holds across transactions, as each database offers them.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a connection kept open
for as long as it is held. The key is derived from the name and the schema the log lives in,
so chronicles sharing one database do not block each other. When the holder dies its
connection closes and the server releases the lock. SQLite: an ``fcntl`` lock on a file beside
the database (``<db>.<name>-lock``), released by the kernel when the process dies. A database
without either (in-memory SQLite): every process holds it.

The store dialect hands these out (`StoreDialect.held_lock`); what a lock is for is the
caller's business (the scheduler's leadership, in chronicle.posting.leadership).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from chronicle.files import FileLock

log = logging.getLogger(__name__)

LOCK_CLASS = 0x6368726E  # "chrn": first half of the two-int advisory lock key
_KEY = ("hashtext('chronicle-' || :name || ':' || current_database() || '.' || "
        "current_schema())")
_TRY_LOCK = sa.text(f"SELECT pg_try_advisory_lock(:cls, {_KEY})")
_HELD = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :cls AND objsubid = 2 AND database = (SELECT oid FROM "
                "pg_database WHERE datname = current_database()) AND objid::bigint = "
                f"({_KEY}::bigint & 4294967295)")
_UNLOCK = sa.text(f"SELECT pg_advisory_unlock(:cls, {_KEY})")


class HeldLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process holds it."""

    def still_held(self) -> bool:
        """Whether the lock is still ours (a lost database connection loses it)."""

    def release(self) -> None: ...

    def held_by_anyone(self) -> bool | None:
        """Whether some process holds the lock now; None when this database cannot tell."""


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection held open while held."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self._key = {"cls": LOCK_CLASS, "name": name}
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.SQLAlchemyError as exc:
            log.warning("leadership: cannot reach the database: %s", exc.__class__.__name__)
            return False
        try:
            won = bool(conn.execute(_TRY_LOCK, self._key).scalar())
        except sa.exc.SQLAlchemyError:
            conn.close()
            return False
        if won:
            self._conn = conn
        else:
            conn.close()
        return won

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            self._conn.execute(_UNLOCK, self._key)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # never hand a connection that held the lock back to the pool
                conn.close()

    def held_by_anyone(self) -> bool | None:
        """Whether some session holds the lock now; None when the database cannot be asked."""
        try:
            with self.engine.connect() as conn:
                return bool(conn.execute(_HELD, self._key).scalar())
        except sa.exc.SQLAlchemyError:
            return None


class FileHeldLock:
    """An exclusive, non-blocking flock on a lock file (beside a SQLite database)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path)

    def try_acquire(self) -> bool:
        return self._lock.acquire(blocking=False)

    def still_held(self) -> bool:
        return self._lock.held

    def release(self) -> None:
        self._lock.release()

    def held_by_anyone(self) -> bool | None:
        probe = FileHeldLock(self.path)
        if probe.try_acquire():
            probe.release()
            return False
        return True


class AlwaysHeld:
    """For databases other processes cannot share (in-memory SQLite): nobody to exclude."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def held_by_anyone(self) -> bool | None:
        return None
