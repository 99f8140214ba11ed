"""SQLite settings for bulk writes (a rebuild of the read models), used by the SQLite dialect's
`bulk_writes`/`bulk_batch` (chronicle/store/dialects.py); other databases need none.

Both are per-connection settings that durability does not depend on (every commit is still
synced as `synchronous` says), put back before a connection returns to the pool:
- a page cache that holds a batch's dirty pages: the default (2 MiB) spills a large batch's
  B-tree pages to the WAL again and again;
- the WAL's automatic checkpoint every CHECKPOINT_PAGES instead of at every commit: a batch's
  random inserts dirty pages all over the growing trees, and a checkpoint per batch writes (and
  syncs) each of them to the database file again each time.
At the end, one TRUNCATE checkpoint copies what is left and cuts the WAL file back (after a
rebuild of 1M events it had grown to 343 MB).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

CACHE_KIB = 262_144          # the page cache of a bulk write transaction (256 MiB)
CHECKPOINT_PAGES = 65_536    # checkpoint the WAL every 256 MiB of pages
_AUTOCHECKPOINT = "chronicle_bulk_autocheckpoint"   # pool-record key: the value to restore


@contextlib.contextmanager
def bulk_writes(engine: Engine) -> Iterator[None]:
    """Around all the batches: connections get their checkpoint interval back on checkin,
    and the WAL is checkpointed and truncated at the end."""
    sa.event.listen(engine, "checkin", _restore_autocheckpoint)
    try:
        yield
    finally:
        sa.event.remove(engine, "checkin", _restore_autocheckpoint)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@contextlib.contextmanager
def bulk_batch(conn: Connection) -> Iterator[None]:
    """Around one batch's transaction, inside `bulk_writes`."""
    record = conn.connection._connection_record
    if record is not None and _AUTOCHECKPOINT not in record.info:
        # Put back on checkin (after the commit, which runs the checkpoint hook).
        record.info[_AUTOCHECKPOINT] = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
    try:
        yield
    finally:
        # A failed batch's connection may be unusable: its error is the one to report.
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _restore_autocheckpoint(dbapi_conn: Any, record: Any) -> None:
    """Pool checkin hook during bulk writes: the connection's own WAL checkpoint interval."""
    before = record.info.pop(_AUTOCHECKPOINT, None)
    if before is not None:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")
        finally:
            cursor.close()
