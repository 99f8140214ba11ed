"""PostgreSQL's append statements on a psycopg connection, for the pooled path (through a
SQLAlchemy Connection's driver, see dialects.PostgresDialect) and the held one (pgconn.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chronicle.store.records import TABLE_NAME

NOTIFY_CHANNEL = "chronicle_events"
COPY_MIN_ROWS = 20
PG_LOCKED_STATE = (
    f"LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE; "
    f"SELECT stream_id, max(stream_version), NULL::varchar, NULL::timestamptz "
    f"FROM {TABLE_NAME} WHERE stream_id = ANY({{streams}}::text[]) GROUP BY stream_id "
    f"UNION ALL (SELECT NULL, position, hash, recorded_at FROM {TABLE_NAME} "
    f"ORDER BY position DESC LIMIT 1); "
    f"SELECT pg_notify('{NOTIFY_CHANNEL}', (coalesce((SELECT max(position) FROM {TABLE_NAME}), "
    "0) + {adding})::text)"
)
"""LOCK, the append state and the announcement of the new head, sent as one simple query.

`{streams}` takes an array literal (`text_array`), `{adding}` an int; the rest is constant."""
PG_COPY_TYPES = {
    "position": "int8", "stream_id": "varchar", "stream_version": "int4", "event_id": "uuid",
    "type": "varchar", "schema_version": "int4", "recorded_at": "timestamptz", "payload": "text",
    "metadata": "text", "prev_hash": "varchar", "hash": "varchar",
}
"""The log's column types as binary COPY needs them (migration 0001)."""


def text_array(driver: Any, items: Sequence[str]) -> str:
    """`ARRAY['a', 'b']`, each item quoted by libpq for this psycopg connection (psycopg's
    own `sql.Literal` of a one-stream list took ~16 µs against ~3)."""
    from psycopg import pq

    encoding = driver.info.encoding
    quote = pq.Escaping(driver.pgconn).escape_literal
    return f"ARRAY[{', '.join([quote(item.encode(encoding)).decode(encoding) for item in items])}]"


def pg_locked_state(driver: Any, streams: Sequence[str], adding: int) -> list[tuple[Any, ...]]:
    """PG_LOCKED_STATE on a psycopg connection (see `PostgresDialect.locked_state`)."""
    statement = PG_LOCKED_STATE.format(streams=text_array(driver, streams), adding=int(adding))
    with driver.cursor() as cursor:
        cursor.execute(statement.encode())
        cursor.nextset()               # past LOCK's empty result to the state's rows
        return [tuple(row) for row in cursor.fetchall()]


def pg_insert(driver: Any, insert_sql: str, columns: Sequence[str],
              rows: Sequence[Sequence[Any]]) -> None:
    """An append's rows on a psycopg connection: by COPY if many, else on a cursor."""
    if len(rows) >= COPY_MIN_ROWS:
        pg_copy(driver, TABLE_NAME, columns, rows)
        return
    with driver.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(insert_sql, rows[0])
        else:
            cursor.executemany(insert_sql, rows)


def pg_copy_statement(table: str, columns: Sequence[str]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"


def pg_copy(driver: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
            ) -> None:
    """Binary COPY: faster than executemany for batches, and than text COPY (the client
    formats less and the server parses nothing)."""
    with driver.cursor() as cursor, cursor.copy(pg_copy_statement(table, columns)) as copy:
        write_rows(copy, columns, rows)


def write_rows(copy: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """`rows` through a psycopg binary Copy, whose C formatter packs a row in ~1 µs (packing
    by hand in Python took twice that)."""
    copy.set_types([PG_COPY_TYPES[name] for name in columns])
    for row in rows:
        copy.write_row(row)
