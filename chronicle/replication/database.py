"""Raw rows in and out of a store's log table, in pages; the one storage-specific part is
`bulk_insert` (the store dialect's binary COPY on PostgreSQL, executemany elsewhere).

Rows are inserted as they are — never re-appended — so positions, ids, recorded times and
hashes survive the move. Each batch is its own transaction under the store's append lock and
first checks that the target still ends where the batch begins: a copy stopped half-way leaves
a valid prefix that the next run resumes after.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.replication.rows import COLUMNS, NotAPrefix, Row
from chronicle.store import SqlEventStore, StoreUnavailable
from chronicle.store.dialects import StoreDialect
from chronicle.store.hashing import GENESIS_HASH
from chronicle.store.schema import TABLE_NAME
from chronicle.store.schema import events_table as T
from chronicle.store.sql import run_write

HASH_PAGE = 50_000


@contextmanager
def reading(store: SqlEventStore) -> Iterator[Connection]:
    """A read transaction; a database that went away becomes StoreUnavailable, as in the store."""
    try:
        with store.engine.connect() as conn, conn.begin():
            yield conn
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise StoreUnavailable(store.url, reason[0] if reason else type(exc).__name__) from exc


def head_link(store: SqlEventStore) -> tuple[int, str]:
    """The last position and its hash: where the next row must link to."""
    with reading(store) as conn:
        return _head_link(conn)


def _head_link(conn: Connection) -> tuple[int, str]:
    query = sa.select(T.c.position, T.c.hash).order_by(T.c.position.desc()).limit(1)
    row = conn.execute(query).first()
    return (row.position, row.hash) if row else (0, GENESIS_HASH)


def read_rows(store: SqlEventStore, after: int, limit: int) -> list[Row]:
    """Stored rows with position > `after`, oldest first, exactly as the table holds them."""
    query = sa.select(T).where(T.c.position > after).order_by(T.c.position).limit(limit)
    with reading(store) as conn:
        result = conn.execute(query)
        keys = list(result.keys())  # once: a mapping per row costs more than the row
        return [dict(zip(keys, row, strict=True)) for row in result.all()]


def iter_rows(store: SqlEventStore, after: int, upto: int, page: int = 5_000) -> Iterator[Row]:
    """Every stored row in (after, upto], a page at a time."""
    while after < upto and (rows := read_rows(store, after, min(page, upto - after))):
        yield from rows
        after = rows[-1]["position"]


def read_hashes(store: SqlEventStore, after: int, upto: int) -> Iterator[tuple[int, str]]:
    """(position, hash) pairs in (after, upto]: enough to compare two logs cheaply."""
    while after < upto:
        query = (sa.select(T.c.position, T.c.hash)
                 .where(T.c.position > after, T.c.position <= upto)
                 .order_by(T.c.position).limit(HASH_PAGE))
        with reading(store) as conn:
            page = [(row.position, row.hash) for row in conn.execute(query)]
        if not page:
            return
        yield from page
        after = page[-1][0]


def append_rows(store: SqlEventStore, rows: Sequence[Row]) -> None:
    """Insert a checked, contiguous batch in one transaction, if the target still ends where
    the batch begins (another writer may have appended since we looked)."""
    if not rows:
        return
    first = rows[0]

    def work(conn: Connection) -> None:
        store.dialect.lock_for_append(conn)
        position, last_hash = _head_link(conn)
        if position == 0:     # an empty target: row 1 links to its log's genesis, plain or keyed
            last_hash = first["prev_hash"]
        if (position, last_hash) != (first["position"] - 1, first["prev_hash"]):
            raise NotAPrefix(
                f"the target changed while copying: it now ends at position {position}, but "
                f"the next row to write is position {first['position']}; run the command "
                "again to resume")
        bulk_insert(conn, store.dialect, rows)
        store.dialect.after_append(conn, rows[-1]["position"])

    run_write(store.engine, work, store.url)


def bulk_insert(conn: Connection, dialect: StoreDialect, rows: Sequence[Row]) -> None:
    """The store's own bulk insert (binary COPY on PostgreSQL), else one executemany."""
    values = [tuple(row[name] for name in COLUMNS) for row in rows]
    if not dialect.bulk_insert(conn, TABLE_NAME, COLUMNS, values):
        conn.execute(T.insert(), list(rows))
