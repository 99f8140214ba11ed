"""The log's statements, built once, and the plans that bind and read their values fast.

SQLAlchemy compiles each statement once per dialect here; the hot paths (appends, replays)
then hand plain tuples to the driver, with values converted by SQLAlchemy's own types.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from chronicle.store.hashing import format_recorded_at, utc_text
from chronicle.store.records import StoredEvent
from chronicle.store.schema import events_table as T

# Built once: constructing a statement costs more than running it through the compiled cache.
SELECT_BY_EVENT_IDS = sa.select(T).where(T.c.event_id.in_(sa.bindparam("ids", expanding=True)))
STREAM_VERSIONS = (
    sa.select(T.c.stream_id, sa.func.max(T.c.stream_version), sa.cast(sa.null(), sa.String(64)),
              sa.cast(sa.null(), T.c.recorded_at.type))
    .where(T.c.stream_id.in_(sa.bindparam("streams", expanding=True)))
    .group_by(T.c.stream_id)
)
_HEAD = (sa.select(T.c.position, T.c.hash, T.c.recorded_at).order_by(T.c.position.desc())
         .limit(1).subquery())
APPEND_STATE = sa.union_all(
    STREAM_VERSIONS,
    sa.select(sa.cast(sa.null(), sa.String(200)), _HEAD.c.position, _HEAD.c.hash,
              _HEAD.c.recorded_at),
)
"""Rows (stream_id, version, NULL, NULL) per existing stream, and (NULL, position, hash, time)
of the head."""
RECORDED_AT = sa.select(T.c.recorded_at).where(T.c.position == sa.bindparam("position"))
READ_ALL = (sa.select(T).where(T.c.position > sa.bindparam("after")).order_by(T.c.position)
            .limit(sa.bindparam("limit")))
READ_FOR_REPLAY = (
    sa.select(*(c for c in T.columns if c.name != "metadata"))
    .where(T.c.position > sa.bindparam("after")).order_by(T.c.position)
    .limit(sa.bindparam("limit"))
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayedEvent(StoredEvent):
    """A StoredEvent read for a projection's replay: metadata left empty (never decoded).

    `payload_json` is the stored payload text when no upcaster changed the payload, so a
    read model that keeps the payload as canonical JSON need not encode it again.
    """

    payload_json: str | None = None


class ReplayPlan:
    """READ_FOR_REPLAY compiled once for a dialect and fetched as the driver's plain tuples.

    SQLAlchemy would wrap and convert every row; here the two conversions (event id, recorded
    time) come from SQLAlchemy's types once, and the caller converts a recorded time, which a
    whole append shares, once per distinct value.
    """

    def __init__(self, dialect: sa.engine.Dialect) -> None:
        self.compiled = READ_FOR_REPLAY.compile(dialect=dialect)
        self.sql = str(self.compiled)
        self.uuid = _result_processor(T.c.event_id, dialect)
        self.time = _result_processor(T.c.recorded_at, dialect)

    def params(self, after: int, limit: int) -> Any:
        values = self.compiled.construct_params({"after": after, "limit": limit})
        if not self.compiled.positional:
            return values
        return tuple(values[key] for key in self.compiled.positiontup or ())


def _result_processor(column: sa.Column[Any], dialect: sa.engine.Dialect
                      ) -> Callable[[Any], Any]:
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


class InsertPlan:
    """The log's INSERT for a dialect, for the driver's executemany (or the dialect's COPY).

    Rows arrive as tuples in the table's column order with their values already bound: the
    event id and the recorded time go through SQLAlchemy's own bind processors (once per row
    and once per append), so the stored forms are exactly what the ORM would write.
    """

    def __init__(self, dialect: sa.engine.Dialect) -> None:
        self.names = [c.name for c in T.columns]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (f"INSERT INTO {T.name} ({', '.join(self.names)}) "
                    f"VALUES ({', '.join([mark] * len(self.names))})")
        self._uuid = T.c.event_id.type.dialect_impl(dialect).bind_processor(dialect)
        self._time = T.c.recorded_at.type.dialect_impl(dialect).bind_processor(dialect)
        probe = uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF)
        self._hex = self._uuid is not None and self._uuid(probe) == probe.hex
        moment = dt.datetime(2026, 12, 6, 5, 4, 3, 21, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        self._iso = self._time is not None and self._time(moment) == utc_text(moment, "+00:00")
        self._second = SecondTexts()

    def bound_ids(self, values: Iterable[uuid.UUID]) -> list[Any]:
        """Event ids as bound: for the hex SQLite stores, `value.hex` inlined (a property)."""
        if self._hex:
            return [f"{value.int:032x}" for value in values]
        if self._uuid is None:
            return list(values)
        return [self._uuid(value) for value in values]

    def recorded_at(self, value: dt.datetime) -> object:
        return self._time(value) if self._time else value

    def recorded_at_texts(self, value: dt.datetime) -> tuple[object, str]:
        """The recorded time as bound, and as the hash takes it (`format_recorded_at`): cut
        from the bound text where that is the same time with +00:00 (SQLite's)."""
        if self._iso:       # SQLite's text, without the type's bind processor's calls
            core = self._second.text(value)
            return core + "+00:00", core + "Z"
        return self.recorded_at(value), format_recorded_at(value)


class SecondTexts:
    """`utc_text(moment, "")` for times that mostly fall in the second of the one before.

    Appends come thousands a second, and `isoformat` was a tenth of a one-event append's
    instructions: within the second last formatted, only the microseconds are written.
    The cache is one tuple, replaced whole, so threads sharing it never mix two seconds.
    """

    __slots__ = ("_cached",)

    def __init__(self) -> None:
        self._cached: tuple[dt.datetime, dt.datetime, str] | None = None

    def text(self, moment: dt.datetime) -> str:
        cached = self._cached
        # Same tzinfo object: the comparisons are of the fields alone.
        if (cached is not None and moment.tzinfo is dt.UTC
                and cached[0] <= moment < cached[1]):
            return f"{cached[2]}{moment.microsecond:06d}"
        text = utc_text(moment, "")
        if moment.tzinfo is dt.UTC and moment.year >= 1000:   # %Y pads from 1000 on
            start = moment - dt.timedelta(microseconds=moment.microsecond)
            self._cached = (start, start + _SECOND, text[:-6])
        return text


_SECOND = dt.timedelta(seconds=1)
