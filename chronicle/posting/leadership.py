"""Which replica runs the scheduler: the storage-specific lock, in one place.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a connection kept open
for as long as this replica leads. The key is derived from the schema the log lives in, so
chronicles sharing one database do not block each other. When the leader dies its
connection closes and the server releases the lock; a standby retrying every few seconds
takes over. SQLite: an ``fcntl`` lock on a file beside the database (``<db>.scheduler-lock``),
released by the kernel when the process dies. Other databases: always leader.

Leadership only avoids wasted work; the claim in the log is what makes a post go out once.
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
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:cls, hashtext('chronicle-scheduler:' || "
                    "current_database() || '.' || current_schema()))")
_HELD = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :cls AND objsubid = 2 AND database = (SELECT oid FROM "
                "pg_database WHERE datname = current_database()) AND objid::bigint = "
                "(hashtext('chronicle-scheduler:' || current_database() || '.' || "
                "current_schema())::bigint & 4294967295)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:cls, hashtext('chronicle-scheduler:' || "
                  "current_database() || '.' || current_schema()))")


class Leadership(Protocol):
    def try_acquire(self) -> bool:
        """Become the leader if nobody is; True when this replica leads."""

    def still_held(self) -> bool:
        """Whether the lock is still ours (a lost database connection loses it)."""

    def release(self) -> None: ...


class PostgresLeadership:
    """A session advisory lock on a connection held open while leading."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
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
            won = bool(conn.execute(_TRY_LOCK, {"cls": LOCK_CLASS}).scalar())
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
            self._conn.execute(_UNLOCK, {"cls": LOCK_CLASS})
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # never hand a connection that held the lock back to the pool
                conn.close()


class FileLeadership:
    """An exclusive, non-blocking flock on a lock file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path)

    def try_acquire(self) -> bool:
        return self._lock.acquire(blocking=False)

    def still_held(self) -> bool:
        return self._lock.held

    def release(self) -> None:
        self._lock.release()


class AlwaysLeader:
    """For databases without a shared lock (in-memory SQLite): the claim fence suffices."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def leadership_for(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine)
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        return FileLeadership(Path(f"{database}.scheduler-lock"))
    return AlwaysLeader()


def leader_present(engine: Engine) -> bool | None:
    """Whether some process leads the scheduler now; None when this database cannot tell.

    Asked by a process that does not run the scheduler itself (`serve` with
    `server.scheduler = false`), so an operator learns when no replica posts.
    """
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect() as conn:
                return bool(conn.execute(_HELD, {"cls": LOCK_CLASS}).scalar())
        except sa.exc.SQLAlchemyError:
            return None
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    probe = FileLeadership(Path(f"{database}.scheduler-lock"))
    if probe.try_acquire():
        probe.release()
        return False
    return True
