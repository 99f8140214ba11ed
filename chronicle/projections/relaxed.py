"""Relaxed per-commit settings for the connections of a rebuild (SQLite; others need none).

A rebuild writes only derived data, each batch with its checkpoint in one transaction. On the
rebuild's own connections (those checked out in the thread and context that runs it, never an
append's) SQLite gets:
  synchronous = NORMAL   in WAL mode a commit is then not synced; the WAL still is before every
                         checkpoint and the database file after it, so a power cut can only
                         lose the last batches, each whole with its checkpoint (SQLite's
                         transactions stay atomic), and the next catch-up replays them. Every
                         later FULL commit (an append, the rebuild's own index creation, which
                         ends the rebuild) syncs the WAL and so every frame before it: nothing
                         of the log is ever less durable, and the rebuild reports its count
                         only after that final synced commit;
  secure_delete = FAST   Debian's SQLite overwrites every freed page with zeros, so dropping
                         the previous read models wrote them all once more; the content is
                         derived from the log, which keeps every byte of it anyway.
The connection's own values are put back when it returns to the pool.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

RELAXED = (("synchronous", "NORMAL"), ("secure_delete", "FAST"))
_SAVED = "chronicle_relaxed_pragmas"   # pool-record key: the values to put back on checkin
_relaxing: contextvars.ContextVar[bool] = contextvars.ContextVar("relaxing", default=False)


@contextlib.contextmanager
def relaxed_writes(engine: Engine) -> Iterator[None]:
    """Connections this context checks out from `engine` get RELAXED until checked in."""
    if engine.dialect.name != "sqlite":
        yield
        return
    token = _relaxing.set(True)
    sa.event.listen(engine, "checkout", _relax)
    sa.event.listen(engine, "checkin", _restore)
    try:
        yield
    finally:
        sa.event.remove(engine, "checkout", _relax)
        sa.event.remove(engine, "checkin", _restore)
        _relaxing.reset(token)


def _relax(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Checkout hook: outside any transaction (synchronous cannot change inside one)."""
    if not _relaxing.get() or _SAVED in record.info:
        return
    cursor = dbapi_conn.cursor()
    try:
        record.info[_SAVED] = [(name, cursor.execute(f"PRAGMA {name}").fetchone()[0])
                               for name, _ in RELAXED]
        for name, value in RELAXED:
            cursor.execute(f"PRAGMA {name} = {value}")
    finally:
        cursor.close()


def _restore(dbapi_conn: Any, record: Any) -> None:
    saved = record.info.pop(_SAVED, None)
    if saved is None or dbapi_conn is None:   # not relaxed, or invalidated: nothing to restore
        return
    cursor = dbapi_conn.cursor()
    try:
        for name, value in saved:
            cursor.execute(f"PRAGMA {name} = {int(value)}")
    finally:
        cursor.close()
