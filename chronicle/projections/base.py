"""The projection contract: a named, versioned read model fed by log events in batches."""

from __future__ import annotations

import abc
import operator
from collections.abc import Callable, Sequence
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


class _DriverInsert:
    """A table's INSERT compiled once per dialect and run on the driver's executemany.

    SQLAlchemy would build every row's parameters on each call; here the statement and the
    type conversions come from SQLAlchemy once, a conversion (recorded times, shared by whole
    appends) runs once per distinct value of a call, and rows become the driver's tuples in C.
    """

    def __init__(self, table: sa.Table, dialect: sa.engine.Dialect) -> None:
        compiled = table.insert().compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = compiled.positional
        keys = list(compiled.positiontup or []) if self.positional else []
        # Every table has several columns, so the itemgetter gives tuples.
        assert not self.positional or sorted(keys) == sorted(c.key for c in table.columns)
        self.tuples = operator.itemgetter(*keys) if self.positional else None
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for column in table.columns:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[column.key] = process

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`, which are converted in place to the driver's values (and spent)."""
        for key, process in self.processors.items():
            _convert(rows, key, process)
        if self.tuples is not None:
            conn.exec_driver_sql(self.sql, list(map(self.tuples, rows)))
        else:
            conn.exec_driver_sql(self.sql, rows)  # type: ignore[arg-type]


def _convert(rows: list[dict[str, Any]], key: str, process: Callable[[Any], Any]) -> None:
    memo: dict[Any, Any] = {}
    for row in rows:
        value = row[key]
        try:
            found = memo.get(value, memo)
        except TypeError:  # unhashable: convert it every time
            found = process(value)
        else:
            if found is memo:
                found = memo[value] = process(value)
        row[key] = found


_PLANS: dict[tuple[str, str, str, str], _DriverInsert] = {}


def insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert a batch of rows (dicts by column key) in one executemany; the dicts are spent."""
    if not rows:
        return
    dialect = conn.dialect
    key = (table.name, dialect.name, dialect.driver, str(dialect.paramstyle))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _DriverInsert(table, dialect)
    plan.run(conn, rows)


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
    conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]


def _tuple_sql(table: sa.Table, dialect: sa.engine.Dialect) -> str:
    for column in table.columns:
        bound = column.type.dialect_impl(dialect).bind_processor(dialect) is not None
        assert not bound or isinstance(column.type, UTCDateTime), (
            f"{table.name}.{column.key} needs its bind processor: use insert_rows")
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in table.columns)
    return (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
            f"VALUES ({', '.join([mark] * len(table.columns))})")
