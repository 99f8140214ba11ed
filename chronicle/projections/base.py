"""The projection contract: a named, versioned read model fed by log events in batches."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.store import StoredEvent
from chronicle.store.schema import UTCDateTime


class Projection(abc.ABC):
    """A read model. `apply` runs in the projector's transaction, with the checkpoint update.

    Bump `version` whenever the tables or the way events map onto them change: the projector
    then drops and rebuilds this projection on start.
    """

    name: str
    version: int

    @abc.abstractmethod
    def tables(self) -> Sequence[sa.Table]:
        """The tables this projection owns (created, dropped and dumped as a unit)."""

    @abc.abstractmethod
    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Apply a batch of events, oldest first, to the tables through `conn`."""

    def suspend_index(self, conn: Connection) -> None:  # noqa: B027 (most projections need none)
        """Before a rebuild's bulk load: drop an index the database keeps row by row that
        `restore_index` builds faster in one pass at the end."""

    def restore_rows(self, conn: Connection) -> None:  # noqa: B027
        """Before the deferred indexes are built (same moments as `restore_index`): write the
        rows a rebuild's bulk load left out because they derive from rows it wrote."""

    def restore_index(self, conn: Connection) -> None:  # noqa: B027
        """Build what `suspend_index` dropped, if it is missing: after a rebuild, and on
        `Projector.prepare` after a rebuild that stopped half-way."""


_NOTES = "chronicle_batch_notes"   # conn.info key: what the batch's projections leave
PAYLOADS_AFTER = "payloads after"   # note: milestone id -> its payload after the batch


@contextlib.contextmanager
def batch_notes(conn: Connection) -> Iterator[None]:
    """Around the projections' `apply` of one batch: what one of them `note`s for a later one
    lives until the batch's projections are done (the projector runs them in this block)."""
    conn.info[_NOTES] = {}
    try:
        yield
    finally:
        conn.info.pop(_NOTES, None)


def note(conn: Connection, events: Sequence[StoredEvent], key: str, value: Any) -> None:
    """Leave `value` for a later projection of the same batch that applies the same `events`
    (a projection behind the others gets another list: it finds nothing)."""
    notes = conn.info.get(_NOTES)
    if notes is not None:
        notes[key] = (events, value)


def noted(conn: Connection, events: Sequence[StoredEvent], key: str) -> Any:
    """What an earlier projection `note`d for these very `events`, or None."""
    found = (conn.info.get(_NOTES) or {}).get(key)
    return found[1] if found is not None and found[0] is events else None


_BULK_LOAD = "chronicle_bulk_load"   # conn.info key: set while a rebuild's batch runs


@contextlib.contextmanager
def bulk_load(conn: Connection) -> Iterator[None]:
    """Around a rebuild's batch: its projections may leave out rows they derive from others,
    which their `restore_rows` writes at the rebuild's end (or the next `prepare`)."""
    conn.info[_BULK_LOAD] = True
    try:
        yield
    finally:
        conn.info.pop(_BULK_LOAD, None)


def in_bulk_load(conn: Connection) -> bool:
    return bool(conn.info.get(_BULK_LOAD))


_TUPLE_SQL: dict[tuple[str, str], str] = {}
IN_CHUNK = 500     # values per IN (...) list: far below any driver's limit


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_tuples(conn: Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows given as tuples in the table's column order, values already bound.

    Only columns whose type binds nothing (or UTCDateTime, bound by the caller, see
    milestone_rows.TimeBinder) may be given this way; the plan checks it once per dialect.
    """
    if not rows:
        return
    dialect = conn.dialect
    key = (table.name, str(dialect.paramstyle))
    sql = _TUPLE_SQL.get(key)
    if sql is None:
        sql = _TUPLE_SQL[key] = _tuple_sql(table, dialect)
    conn.exec_driver_sql(sql, rows)


def _tuple_sql(table: sa.Table, dialect: sa.engine.Dialect) -> str:
    for column in table.columns:
        bound = column.type.dialect_impl(dialect).bind_processor(dialect) is not None
        assert not bound or isinstance(column.type, UTCDateTime), (
            f"{table.name}.{column.key} needs its bind processor: bind it before insert_tuples")
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in table.columns)
    return (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
            f"VALUES ({', '.join([mark] * len(table.columns))})")


def _in_sql(conn: Connection, head: str, column: sa.Column[Any], count: int) -> str:
    """`head` WHERE column IN (count markers), in the driver's own paramstyle."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    name = conn.dialect.identifier_preparer.quote(column.name)
    return f"{head} WHERE {name} IN ({', '.join([mark] * count)})"


def delete_in(conn: Connection, column: sa.Column[Any], values: Iterable[Any]) -> None:
    """Delete the rows whose `column` is one of `values` (plain values: nothing to bind).

    On the driver, as insert_tuples: a rebuild deletes in hundreds of IN lists per batch, and
    SQLAlchemy would build and compile an expanding parameter for each."""
    table = column.table
    assert isinstance(table, sa.Table)
    head = f"DELETE FROM {conn.dialect.identifier_preparer.format_table(table)}"
    for part in chunks(sorted(values)):
        conn.exec_driver_sql(_in_sql(conn, head, column, len(part)), tuple(part))


def select_in(conn: Connection, columns: Iterable[sa.Column[Any]], key: sa.Column[Any],
              values: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """The driver's tuples of `columns` for the rows whose `key` is one of `values`; columns
    whose type converts nothing only (their values are as the database returns them)."""
    table = key.table
    assert isinstance(table, sa.Table)
    prep = conn.dialect.identifier_preparer
    head = (f"SELECT {', '.join(prep.quote(c.name) for c in columns)} "
            f"FROM {prep.format_table(table)}")
    for part in chunks(sorted(values)):
        result = conn.exec_driver_sql(_in_sql(conn, head, key, len(part)), tuple(part))
        rows = result.cursor.fetchall()  # the driver's tuples: no Row per row
        result.close()
        yield from rows
