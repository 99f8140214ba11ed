"""The append fast paths write the very bytes the documented chain and canonical JSON define.

SQLite appends run on a driver connection the store holds (chronicle/store/appendconn.py) once
the log has a row; the first append, a retry and a conflict take the SQLAlchemy paths. Every
path must write rows that `verify` accepts and that match the definitions spelt out here with
json.dumps, on real SQLite files and the real PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from chronicle.store import (
    ConcurrencyError,
    NewEvent,
    SqlEventStore,
    StoreUnavailable,
    StreamAppend,
    open_store,
)
from chronicle.store.appendconn import AppendConnection
from chronicle.store.hashing import (
    canonical_json_text,
    event_texts,
    format_recorded_at,
    stream_hashes,
    utc_text,
)
from chronicle.store.schema import events_table as T
from chronicle.store.statements import InsertPlan, SecondTexts


def dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def documented(fields: list[object], key: bytes | None = None) -> str:
    """The chain hash as chronicle/store/hashing.py's docstring defines it."""
    data = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if key is not None:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


class Text(str):
    """A str subclass: JSON encodes its text, like a str's."""


TRICKY_METADATA: list[dict[str, Any]] = [
    {"by": "loader", "run": "r1"}, {"by": "loader", "run": "r1"}, {"by": "loader", "run": "r1"},
    {"n": 1}, {"n": True}, {"n": 1.0}, {"n": 1},
    {"by": None}, {"by": None}, {"by": "None"},
    {"nested": {"a": 1}}, {"nested": {"a": True}},
    {"by": Text("x")}, {"by": "x"}, {}, {}, {"é": "ü\n\"\\"}, {"é": "ü\n\"\\"},
]


def tricky_events() -> list[NewEvent]:
    shared = {"by": "shared", "file": "a.yaml"}
    events = [NewEvent(type="Thing", payload={"i": i, "t": "Улаанбаатар \"q\"\n\\"},
                       metadata=meta) for i, meta in enumerate(TRICKY_METADATA)]
    return events + [NewEvent(type="Other", payload={"i": i}, metadata=shared, schema_version=2)
                     for i in range(3)]


def test_event_texts_are_each_events_canonical_json() -> None:
    """A reused metadata text only where the encoding is the same: 1, True and 1.0 differ."""
    events = tricky_events()
    assert [(p, m) for _, p, m in event_texts(events)] == [
        (dumps(e.payload), dumps(e.metadata)) for e in events]


SCALAR = st.none() | st.booleans() | st.integers(-2, 2) | st.floats(-1, 1) | st.sampled_from(
    ["", "a", "1", "None", "true"])


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b"]), SCALAR, max_size=2), max_size=12))
def test_event_texts_match_json_dumps_for_any_run_of_metadata(metas: list[dict[str, Any]]
                                                               ) -> None:
    events = [NewEvent(type="T", payload={}, metadata=m) for m in metas]
    assert [m for _, _, m in event_texts(events)] == [dumps(m) for m in metas]


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), timezones=st.timezones()))
def test_utc_text_is_the_strftime_text(moment: dt.datetime) -> None:
    utc = moment.astimezone(dt.UTC)
    assert format_recorded_at(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert utc_text(moment, "+00:00") == utc.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@given(start=st.datetimes(min_value=dt.datetime(1, 1, 1, 12), timezones=st.timezones()),
       steps=st.lists(st.integers(min_value=-2_000_000, max_value=2_000_000), max_size=8))
def test_second_texts_are_utc_texts(start: dt.datetime, steps: list[int]) -> None:
    """One SecondTexts over times in and around the second it last formatted (forward,
    back, across a boundary, in zones other than UTC) writes each as utc_text does."""
    texts, moment = SecondTexts(), start
    for step in [0, *steps]:
        moment = moment + dt.timedelta(microseconds=step)
        for value in (moment, moment.astimezone(dt.UTC)):
            assert texts.text(value) == utc_text(value, "")


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://"])
@given(moment=st.datetimes(min_value=dt.datetime(1, 1, 1, 12), timezones=st.timezones()),
       ids=st.lists(st.uuids(), max_size=3))
def test_insert_plan_binds_as_sqlalchemy_and_hashes_as_documented(
        url: str, moment: dt.datetime, ids: list[uuid.UUID]) -> None:
    """The append's shortcuts (one time text cut two ways, event ids in one call) give the
    values SQLAlchemy's own types bind and the texts the chain's definition hashes (an event
    id is hashed as its text: see tests/test_jsontext.py)."""
    dialect = sa.create_engine(url).dialect
    plan = InsertPlan(dialect)
    bind_time = T.c.recorded_at.type.dialect_impl(dialect).bind_processor(dialect)
    bind_id = T.c.event_id.type.dialect_impl(dialect).bind_processor(dialect)
    assert plan.recorded_at_texts(moment) == (
        bind_time(moment) if bind_time else moment, format_recorded_at(moment))
    assert plan.bound_ids(ids) == [bind_id(i) if bind_id else i for i in ids]


@pytest.mark.parametrize("key", [None, b"secret key"])
def test_stream_hashes_chain_the_documented_arrays(key: bytes | None) -> None:
    events = [(str(uuid.uuid4()), kind, schema, dumps({"i": i, "q": "\"\\\n"}), meta)
              for i, (kind, schema, meta) in enumerate(
                  [("A", 1, "{}"), ("B\"", 2, '{"k":"v"}'), ("A", 1, '{"k":"v"}')])]
    prev, expected = "\"tampered\\", []
    for offset, (event_id, kind, schema, payload, meta) in enumerate(events, start=1):
        prev = documented([prev, 40 + offset, "s\"1", 6 + offset, event_id, kind, schema,
                           "2026-12-06T05:00:00.000001Z", payload, meta], key)
        expected.append(prev)
    assert stream_hashes("\"tampered\\", 40, "s\"1", 6, "2026-12-06T05:00:00.000001Z", events,
                         key) == expected


def append_every_way(store: SqlEventStore) -> list[tuple[NewEvent, str]]:
    """Appends through each path an application takes; returns every event with its stream."""
    written: list[tuple[NewEvent, str]] = []

    def add(stream: str, events: list[NewEvent], expected: int) -> None:
        store.append(stream, events, expected)
        written.extend((e, stream) for e in events)

    events = tricky_events()
    add("first", events[:1], 0)                      # the first append: the portable path
    add("first", events[1:3], 1)                     # then the held connection
    add("batch", events[3:], 0)
    store.append("batch", events[3:], 0)             # a retry: the careful path, no new rows
    many = [StreamAppend(f"many-{i}", [NewEvent(type="M", payload={"i": i},
                                                metadata={"by": "many"})], 0)
            for i in range(3)]
    store.append_streams(many)
    written.extend((e, a.stream_id) for a in many for e in a.events)
    return written


def test_every_append_path_writes_the_documented_rows(store: SqlEventStore) -> None:
    written = append_every_way(store)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(T).order_by(T.c.position)).all()
    assert [r.position for r in rows] == list(range(1, len(written) + 1))
    prev = "0" * 64
    for row, (event, stream) in zip(rows, written, strict=True):
        assert (row.stream_id, row.event_id, row.type, row.schema_version) == (
            stream, event.event_id, event.type, event.schema_version)
        assert (row.payload, row.metadata) == (dumps(event.payload), dumps(event.metadata))
        assert row.prev_hash == prev
        prev = documented([row.prev_hash, row.position, row.stream_id, row.stream_version,
                           str(row.event_id), row.type, row.schema_version,
                           format_recorded_at(row.recorded_at), row.payload, row.metadata])
        assert row.hash == prev
    assert store.verify().ok


def test_held_and_portable_appends_interleave_into_one_chain(sqlite_url: str) -> None:
    """The pre-existing path (a pooled connection under SQLAlchemy) and the held connection
    continue each other's chains, in one store and across two stores on one file."""
    first, second = open_store(sqlite_url), open_store(sqlite_url)
    try:
        for n in range(12):
            store = (first, second)[n % 2]
            if n % 3 == 0:
                store._held = None      # this append on the pre-existing path
            store.append("s", [NewEvent(type="T", payload={"n": n})], n)
        assert first.head() == 12
        report = second.verify()
        assert report.ok and report.checked == 12, report.reason
    finally:
        first.close()
        second.close()


def test_a_held_connection_s_remembered_state_yields_to_another_connection_s_commit(
        sqlite_url: str) -> None:
    """What a held connection remembers of the log (head, stream versions) is dropped when
    another connection commits: the next append reads the state afresh and stays on the
    held connection (a stale memory would send it to the careful path, which forgets it), and
    a stream moved elsewhere is a conflict, not an overwrite."""
    first, second = open_store(sqlite_url), open_store(sqlite_url)
    try:
        first.append("s", [NewEvent(type="T", payload={"n": 0})], 0)
        first.append("s", [NewEvent(type="T", payload={"n": 1})], 1)   # held: remembers s=2
        second.append("s", [NewEvent(type="T", payload={"n": 2})], 2)
        second.append("s", [NewEvent(type="T", payload={"n": 3})], 3)
        assert first.append("s", [NewEvent(type="T", payload={"n": 4})], 4) == [5]
        known = first._held._known if first._held is not None else None
        assert known is not None and (known.head, known.versions) == (5, {"s": 5})
        second.append("s", [NewEvent(type="T", payload={"n": 5})], 5)
        with pytest.raises(ConcurrencyError) as raised:
            first.append("s", [NewEvent(type="T", payload={"n": 6})], 5)
        assert raised.value.actual == 6
        assert first.append("other", [NewEvent(type="T", payload={})], 0) == [7]
        assert first.head() == 7 and first.stream_version("s") == 6
        report = second.verify()
        assert report.ok and report.checked == 7, report.reason
    finally:
        first.close()
        second.close()


def test_threads_share_one_store_s_held_connection(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    store.append("start", [NewEvent(type="T", payload={})], 0)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for n in range(15):
                store.append(f"thread-{t}", [NewEvent(type="T", payload={"n": n})], n)
        except BaseException as exc:   # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        assert store.head() == 61 and store.verify().ok
    finally:
        store.close()


def _two_held_appends(sqlite_url: str) -> tuple[SqlEventStore, AppendConnection]:
    """A store on `sqlite_url` after two appends on its held connection."""
    store = open_store(sqlite_url)
    store.append("s", [NewEvent(type="T", payload={})], 0)
    store.append("s", [NewEvent(type="T", payload={})], 1)
    held = store._held
    assert held is not None and held._driver is not None
    return store, held


def test_a_failed_held_connection_hands_the_append_over_and_is_replaced(sqlite_url: str
                                                                        ) -> None:
    store, held = _two_held_appends(sqlite_url)
    try:
        assert held._driver is not None
        held._driver.close()                # under it: the next statement fails
        store.append("s", [NewEvent(type="T", payload={})], 2)
        assert held._driver is None         # closed, and the append went the portable way
        store.append("s", [NewEvent(type="T", payload={})], 3)
        assert held._driver is not None     # a new one
        assert store.head() == 4 and store.verify().ok
    finally:
        store.close()


def test_a_forked_child_appends_on_a_connection_of_its_own(sqlite_url: str) -> None:
    """The parent's held connection is not the child's to use (its locks are the parent's)."""
    store, held = _two_held_appends(sqlite_url)
    try:
        parents = held._driver
        child = os.fork()
        if child == 0:      # the child reports by its exit status alone
            code = 1
            try:
                store.append("s", [NewEvent(type="T", payload={})], 2)
                code = 0 if held._driver is not None and held._driver is not parents else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert held._driver is parents
        store.append("s", [NewEvent(type="T", payload={})], 3)
        assert store.head() == 4 and store.verify().ok
    finally:
        store.close()


def test_a_deleted_database_file_refuses_held_appends(sqlite_url: str, tmp_path: Any) -> None:
    store = open_store(sqlite_url)
    try:
        store.append("s", [NewEvent(type="T", payload={})], 0)
        for path in tmp_path.glob("chronicle.db*"):
            path.unlink()
        with pytest.raises(StoreUnavailable):
            store.append("s", [NewEvent(type="T", payload={})], 1)
    finally:
        store.close()


def test_a_database_file_replaced_by_a_directory_refuses_held_appends(sqlite_url: str,
                                                                      tmp_path: Any) -> None:
    """Present means a regular file, as `os.path.isfile` said: the held connection would
    otherwise write on into the unlinked file."""
    store = open_store(sqlite_url)
    try:
        store.append("s", [NewEvent(type="T", payload={})], 0)
        for path in tmp_path.glob("chronicle.db*"):
            path.unlink()
        (tmp_path / "chronicle.db").mkdir()
        with pytest.raises(StoreUnavailable, match="does not exist"):
            store.append("s", [NewEvent(type="T", payload={})], 1)
    finally:
        store.close()


def test_canonical_json_of_tricky_payloads_is_unchanged() -> None:
    for event in tricky_events():
        assert canonical_json_text(event.metadata) == dumps(event.metadata)
