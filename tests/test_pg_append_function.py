"""The append function's one-event branch (migration 0006) writes exactly the rows the general
loop of 0005 wrote for the same calls: same columns, same bytes, same hashes. The same calls
packed by hand (chronicle/store/pgwire.py) write what psycopg's adaptation writes."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from chronicle.store import open_store, pgappend
from chronicle.store.hashing import canonical_json_text, row_hash
from tests.conftest import fresh_schema

pytestmark = pytest.mark.postgres
PREVIOUS = importlib.import_module(
    "chronicle.migrations.versions.0006_append_function_one_event").PREVIOUS
HOSTILE = "".join(map(chr, range(1, 32))) + '"\\/\x7f\u2028\u2029\ufeff😀\u05d0 Улаанбаатар'
CALLS: list[tuple[str, int, str, dict[str, Any]]] = [
    ("a", 0, "Recorded", {"text": HOSTILE}),
    ("a", 1, HOSTILE, {"n": 1.5, HOSTILE: [None, True]}),
    (HOSTILE, -1, "Recorded", {}),
    ("a", 7, "Stale", {"n": 3}),            # a moved stream: NULL, nothing written
    ("b", 0, "Recorded", {"n": 4}),
]
Call = Callable[..., int | None]
"""pgappend.call's signature: a psycopg connection in autocommit, then the function's."""


def _rows(url: str, function: str | None, call: Call = pgappend.call
          ) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """Each call's result and the log's rows, with `function` (None: today's) installed and
    the calls made by `call`: CALLS, then one of three events in two streams."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            if function is not None:
                conn.exec_driver_sql(function)
                conn.commit()
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.autocommit = True
            when = dt.datetime(2026, 12, 6, 5, 0, 0, 123456, tzinfo=dt.UTC)
            results = [call(raw, when - dt.timedelta(seconds=n % 2), [stream], [expected], [1],
                            [(uuid.UUID(int=n + 1), type_, 1 + n % 3,
                              canonical_json_text(payload), '{"by":"test"}')])
                       for n, (stream, expected, type_, payload) in enumerate(CALLS)]
            results.append(call(raw, when, ["many", HOSTILE], [0, -1], [1, 2, 2], [
                (uuid.UUID(int=100 + k), "M", k, canonical_json_text({"k": k}), "{}")
                for k in range(3)]))
            raw.autocommit = False
            rows = conn.execute(sa.text("SELECT * FROM chronicle_events ORDER BY position"))
            return results, [tuple(row) for row in rows]
    finally:
        store.close()


def test_one_event_calls_write_the_rows_the_general_loop_wrote(postgres_server: str) -> None:
    with contextlib.ExitStack() as stack:
        today, before = (stack.enter_context(fresh_schema(postgres_server)) for _ in range(2))
        ours, theirs = _rows(today, None), _rows(before, PREVIOUS)
    assert ours == theirs
    results, rows = ours
    assert results == [1, 2, 3, None, 4, 5]
    assert [row[6] for row in rows] == [rows[0][6]] * 7   # never before the head's time
    names = ("position", "stream_id", "stream_version", "event_id", "type", "schema_version",
             "recorded_at", "payload", "metadata", "prev_hash", "hash")
    for row in rows:
        values = dict(zip(names, row, strict=True))
        assert values["hash"] == row_hash(values)
