"""Rows of the milestone read models, built as the driver's tuples in the tables' column order.

A rebuild makes millions of rows; dicts by column name cost a dict per row to build and an
itemgetter call per row to turn into the tuple the driver wants, so rows are tuples from the
start. Times are bound (SQLite's ISO text) once per distinct value when the row is built.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from chronicle.dates import HistoricalDate, InvalidDate, date_from_json_cached
from chronicle.domain import MILESTONE_FIELDS, Milestone, MilestoneRecorded, Source
from chronicle.projections import tables as t
from chronicle.store import StoredEvent
from chronicle.store.hashing import canonical_json
from chronicle.store.statements import ReplayedEvent

LIST_FIELDS = ("tags", "people", "places", "sources")   # tuples in a Milestone, lists in JSON
# The keys every canonical payload has; a payload with translations takes the decoding path.
MILESTONE_KEYS = frozenset(MILESTONE_FIELDS) - {"translations"}
SOURCE_KEYS = frozenset(f.name for f in fields(Source))
DATE_CACHE = 65536          # distinct stored date values kept (a chronicle has a few thousand)

# rm_milestones' columns, in table order (checked below): a row is a tuple of these.
MILESTONE_COLUMNS = ("id", "title", "sort_key", "precision", "year_start", "year_end",
                     "month_day", "payload", "recorded_at", "updated_at", "recorded_position",
                     "updated_position", "revisions")
(ID, TITLE, SORT_KEY, PRECISION, YEAR_START, YEAR_END, MONTH_DAY, PAYLOAD, RECORDED_AT,
 UPDATED_AT, RECORDED_POSITION, UPDATED_POSITION, REVISIONS) = range(len(MILESTONE_COLUMNS))
assert tuple(c.key for c in t.milestones.columns) == MILESTONE_COLUMNS
assert tuple(c.key for c in t.history.columns) == (
    "milestone_id", "position", "type", "recorded_at", "reason", "changes", "previous")
assert tuple(c.key for c in t.retracted.columns) == (
    "id", "title", "reason", "retracted_at", "position", "recorded_at", "recorded_position")
assert tuple(c.key for c in t.milestone_tags.columns) == ("milestone_id", "tag",
                                                          "recorded_position")
assert tuple(c.key for c in t.on_this_day.columns) == ("month_day", "milestone_id")

Row = tuple[Any, ...]
DateColumns = tuple[str, str, int, int, str | None]  # sort_key … month_day, in table order


def sort_key(date: HistoricalDate) -> str:
    """A text that sorts like the historical dates do (4-digit years keep ISO text ordered)."""
    first, rank, last, end_rank, circa = date.sort_key()
    return f"{first.isoformat()}|{rank}|{last.isoformat()}|{end_rank + 1}|{int(circa)}"


def month_day_text(date: HistoricalDate) -> str | None:
    md = date.month_day()
    return f"{md[0]:02d}-{md[1]:02d}" if md else None


@functools.lru_cache(maxsize=DATE_CACHE)
def date_columns(date: HistoricalDate) -> DateColumns:
    """sort_key, precision, year_start, year_end, month_day: computed once per distinct date."""
    return (sort_key(date), date.precision.value, date.first_day().year,
            date.last_day().year, month_day_text(date))


_DATES: dict[tuple[Any, ...], tuple[HistoricalDate, DateColumns] | None] = {}
_MISSING = object()


def stored_date(value: Any) -> tuple[HistoricalDate, DateColumns] | None:
    """The date and its columns if `value` is a date's own `to_json()`, else None.

    One dict lookup per event for the few thousand distinct dates of a log. The key is the
    value's items: JSON strings and None equal only themselves, and `circa` (where False
    equals 0) is checked to be a bool first, so a cached answer is the one `value` would get.
    """
    try:
        key = tuple(value.items())
        if type(value.get("circa")) is not bool:
            return None
        found = _DATES.get(key, _MISSING)
    except (TypeError, AttributeError):   # not a dict, or an unhashable value inside
        return None
    if found is _MISSING:
        if len(_DATES) >= DATE_CACHE:
            _DATES.clear()
        found = _DATES[key] = _checked_date(value)
    return found  # type: ignore[return-value]


def _checked_date(value: dict[str, Any]) -> tuple[HistoricalDate, DateColumns] | None:
    try:
        date = date_from_json_cached(value)
    except InvalidDate:
        return None
    return (date, date_columns(date)) if date.to_json() == value else None


def canonical_date(payload: Mapping[str, Any]) -> HistoricalDate | None:
    """The date of a payload that is already its milestone's `to_payload()` (see below)."""
    found = canonical_columns(payload)
    return found[0] if found is not None else None


def canonical_columns(payload: Mapping[str, Any]
                      ) -> tuple[HistoricalDate, DateColumns] | None:
    """The date and its columns of a payload that is already its milestone's `to_payload()`.

    Such a payload (every one our store wrote) gives its row without building the Milestone:
    every key present and no other, lists where the milestone has tuples, sources with exactly
    a Source's keys, and the date as its own `to_json()`. Anything else returns None and takes
    the decoding path, with its checks.
    """
    if payload.keys() != MILESTONE_KEYS:
        return None
    for name in LIST_FIELDS:
        if type(payload[name]) is not list:
            return None
    for source in payload["sources"]:
        if type(source) is not dict or source.keys() != SOURCE_KEYS:
            return None
    return stored_date(payload["date"])


def payload_text(milestone: Milestone, stored: StoredEvent | None = None) -> str:
    """The milestone's canonical JSON, reusing the log's text when it holds the same payload.

    The store writes payloads as canonical JSON, so a MilestoneRecorded whose payload equals
    the milestone's own payload already carries the exact text this row needs.
    """
    payload = milestone.to_payload()
    if (isinstance(stored, ReplayedEvent) and stored.payload_json is not None
            and stored.type == MilestoneRecorded.type and stored.payload == payload):
        return stored.payload_json
    return canonical_json(payload)


class TimeBinder:
    """A UTCDateTime column's bind processor for `dialect`, run once per distinct time.

    A whole append shares one recorded time, so a batch of 50,000 events has a handful.
    """

    def __init__(self, dialect: sa.engine.Dialect) -> None:
        column = t.milestones.c.recorded_at
        self.process: Callable[[Any], Any] | None = (
            column.type.dialect_impl(dialect).bind_processor(dialect))
        self.memo: dict[dt.datetime, Any] = {}

    def __call__(self, value: dt.datetime) -> Any:
        found = self.memo.get(value)
        if found is None:
            found = self.memo[value] = self.process(value) if self.process else value
        return found


def milestone_tuple(milestone_id: str, title: str, columns: DateColumns, payload: str,
                    recorded_at: Any, recorded_position: int, updated_at: Any,
                    updated_position: int, revisions: int) -> Row:
    """A rm_milestones row; times already bound (see TimeBinder)."""
    key, precision, year_start, year_end, month_day = columns
    return (milestone_id, title, key, precision, year_start, year_end, month_day, payload,
            recorded_at, updated_at, recorded_position, updated_position, revisions)


class StoredRows:
    """rm_milestones rows as the driver fetches them, made what `milestone_tuple` makes: each
    column converted by its type's result processor, as SQLAlchemy would, and the times bound
    again (see TimeBinder), once per distinct stored time."""

    def __init__(self, dialect: sa.engine.Dialect, time: TimeBinder) -> None:
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in t.milestones.columns]
        self.convert = [(index, process) for index, process in enumerate(processors)
                        if process is not None and index not in (RECORDED_AT, UPDATED_AT)]
        self.read_time: Callable[[Any], Any] = processors[RECORDED_AT] or (lambda value: value)
        self.time = time
        self.times: dict[Any, Any] = {}   # stored value -> bound value

    def __call__(self, fetched: Row) -> Row:
        row = list(fetched)
        for index, process in self.convert:
            row[index] = process(row[index])
        for index in (RECORDED_AT, UPDATED_AT):
            stored = row[index]
            bound = self.times.get(stored)
            if bound is None:
                bound = self.times[stored] = self.time(self.read_time(stored))
            row[index] = bound
        return tuple(row)
