"""The projection contract: a named, versioned read model fed by log events in batches."""

from __future__ import annotations

import abc
from collections.abc import Sequence
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

    def restore_index(self, conn: Connection) -> None:  # noqa: B027
        """Build what `suspend_index` dropped, if it is missing: after a rebuild, and on
        `Projector.prepare` after a rebuild that stopped half-way."""


_TUPLE_SQL: dict[tuple[str, str], str] = {}


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
