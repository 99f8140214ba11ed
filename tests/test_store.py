"""The store contract, run on SQLite and PostgreSQL through the one `store` fixture."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chronicle.store import (
    ANY_VERSION,
    ConcurrencyError,
    EventIdConflict,
    NewEvent,
    SqlEventStore,
    open_store,
)
from chronicle.store.dialects import WRITE_OPTION


def ev(n: int = 0, **extra: object) -> NewEvent:
    return NewEvent(type="Thing", payload={"n": n, "text": "Улаанбаатар ᠮᠣᠩᠭᠣᠯ & <b>", **extra},
                    metadata={"source": "test"})


def test_append_assigns_positions_and_versions(store: SqlEventStore) -> None:
    assert store.head() == 0
    assert store.append("a", [ev(1)], expected_version=0) == [1]
    assert store.append("b", [ev(2), ev(3)], expected_version=0) == [2, 3]
    assert store.append("a", [ev(4)], expected_version=1) == [4]
    assert store.head() == 4
    assert store.stream_version("a") == 2
    assert store.stream_version("missing") == 0
    assert [e.payload["n"] for e in store.read_stream("a")] == [1, 4]
    assert [e.stream_version for e in store.read_stream("b")] == [1, 2]
    events = store.read_all()
    assert [e.position for e in events] == [1, 2, 3, 4]
    assert events[0].payload["text"] == "Улаанбаатар ᠮᠣᠩᠭᠣᠯ & <b>"
    assert events[0].metadata == {"source": "test"}
    assert events[0].recorded_at.tzinfo is not None
    assert [e.position for e in store.read_all(after=2, limit=1)] == [3]
    assert [e.position for e in store.iter_all(after=1, page_size=2)] == [2, 3, 4]


@pytest.mark.parametrize("stream", ["o'brien", "back\\slash", "{braces}", "comma,\"quote\"",
                                    "Улаанбаатар ᠮᠣᠩᠭᠣᠯ"])
def test_any_stream_name_keeps_its_version(store: SqlEventStore, stream: str) -> None:
    """Stream ids reach PostgreSQL's state query as quoted literals: quoting must hold."""
    assert store.append(stream, [ev(1)], expected_version=0) == [1]
    assert store.append(stream, [ev(2)], expected_version=1) == [2]
    with pytest.raises(ConcurrencyError):
        store.append(stream, [ev(3)], expected_version=1)
    assert [e.stream_id for e in store.read_stream(stream)] == [stream, stream]


def test_stale_expected_version_raises_and_writes_nothing(store: SqlEventStore) -> None:
    store.append("a", [ev(1), ev(2)], expected_version=0)
    with pytest.raises(ConcurrencyError) as info:
        store.append("a", [ev(3), ev(4)], expected_version=1)
    assert info.value.stream_id == "a"
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert "stream 'a': expected version 1, but it is at version 2" in str(info.value)
    assert store.head() == 2
    assert store.append("a", [ev(5)], expected_version=ANY_VERSION) == [3]


def test_two_writers_same_expected_version_one_wins(store: SqlEventStore) -> None:
    results: list[object] = []

    def write(n: int) -> None:
        try:
            results.append(store.append("race", [ev(n)], expected_version=0))
        except ConcurrencyError as exc:
            results.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results) == ["ConcurrencyError", "list"]
    assert store.head() == 1


def test_retry_with_same_event_ids_is_a_noop(store: SqlEventStore) -> None:
    batch = [ev(1), ev(2)]
    first = store.append("a", batch, expected_version=0)
    store.append("b", [ev(3)], expected_version=0)
    # The retry's expected version is stale by now: idempotency is checked first.
    assert store.append("a", batch, expected_version=0) == first
    assert store.head() == 3


@pytest.mark.parametrize("size", [1, 2, 25])   # 25 rows go by COPY on PostgreSQL
def test_a_retry_at_any_version_is_found_by_the_unique_event_id(store: SqlEventStore,
                                                                size: int) -> None:
    """The fast path skips the id lookup; the insert's unique violation must send it back."""
    batch = [ev(n) for n in range(size)]
    first = store.append("a", batch, expected_version=0)
    assert store.append("a", batch, expected_version=ANY_VERSION) == first
    assert store.head() == size and store.verify().ok


@pytest.mark.parametrize("first", [False, True])
def test_an_append_carrying_one_event_id_twice_is_refused(store: SqlEventStore,
                                                          first: bool) -> None:
    """As a store's first append and as a later one (on SQLite, the held connection's)."""
    if not first:
        store.append("before", [ev(0)], expected_version=0)
    twice = ev(1)
    with pytest.raises(ValueError, match="same event id twice"):
        store.append("a", [twice, ev(2), twice], expected_version=0)
    assert store.head() == (0 if first else 1) and store.stream_version("a") == 0


def test_same_event_id_with_other_content_is_an_error(store: SqlEventStore) -> None:
    original = ev(1)
    store.append("a", [original], expected_version=0)
    changed = NewEvent(type="Thing", payload={"n": 99}, event_id=original.event_id)
    with pytest.raises(EventIdConflict, match=f"{original.event_id} is already at position 1"):
        store.append("a", [changed], expected_version=ANY_VERSION)
    with pytest.raises(EventIdConflict):
        store.append("a", [original, ev(2)], expected_version=ANY_VERSION)
    assert store.head() == 1


def test_log_rows_cannot_be_updated_or_deleted(store: SqlEventStore) -> None:
    store.append("a", [ev(1)], expected_version=0)
    for statement in ("UPDATE chronicle_events SET type = 'Edited'",
                      "DELETE FROM chronicle_events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
            c.exec_driver_sql(statement)
    assert store.read_all()[0].type == "Thing"


def tamper(store: SqlEventStore, position: int) -> None:
    """What an intruder with database access does: drop the triggers, edit a row."""
    with store.engine.begin() as conn:
        for statement in store.dialect.drop_immutability_ddl():
            conn.exec_driver_sql(statement)
        conn.execute(sa.text("UPDATE chronicle_events SET payload = :p WHERE position = :pos"),
                     {"p": '{"n":1000}', "pos": position})


def test_verify_names_the_first_edited_position(store: SqlEventStore) -> None:
    for n in range(5):
        store.append(f"s{n}", [ev(n)], expected_version=0)
    assert store.verify().ok
    tamper(store, 3)
    report = store.verify()
    assert report.first_bad_position == 3
    assert "does not match its hash" in (report.reason or "")


def test_verify_detects_a_removed_row(store: SqlEventStore) -> None:
    store.append("a", [ev(1), ev(2), ev(3)], expected_version=0)
    with store.engine.begin() as conn:
        for statement in store.dialect.drop_immutability_ddl():
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("DELETE FROM chronicle_events WHERE position = 2")
    report = store.verify()
    assert report.first_bad_position == 3
    assert "position 2 is missing" in (report.reason or "")


def test_position_at_a_recorded_time(store: SqlEventStore) -> None:
    store.append("a", [ev(1)], expected_version=0)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    store.append("a", [ev(2)], expected_version=1)
    assert store.position_at(between) == 1
    assert store.position_at(between - dt.timedelta(days=1)) == 0
    assert store.position_at(dt.datetime.now(dt.UTC)) == 2


def test_recorded_times_never_go_back_along_the_log(store: SqlEventStore) -> None:
    """A clock stepped back (NTP, a restored VM) must not make the log's times disorderly."""
    store.append("a", [ev(1)], expected_version=0)
    first = store.read_all()[0].recorded_at
    with time_machine.travel(first - dt.timedelta(hours=1), tick=False):
        store.append("a", [ev(2)], expected_version=1)
    second = store.read_all()[1].recorded_at
    assert second == first
    assert store.verify().ok
    assert store.position_at(first) == 2
    assert store.position_at(first - dt.timedelta(microseconds=1)) == 0


def test_position_at_searches_a_longer_log(store: SqlEventStore) -> None:
    moments = []
    for version in range(1, 38):
        with time_machine.travel(dt.datetime(2027, 1, 27, 1, tzinfo=dt.UTC)
                                 + dt.timedelta(minutes=version), tick=False):
            store.append("a", [ev(version)], expected_version=version - 1)
        moments.append(store.read_all(after=version - 1, limit=1)[0].recorded_at)
    for position, moment in enumerate(moments, start=1):
        assert store.position_at(moment) == position
        assert store.position_at(moment + dt.timedelta(seconds=30)) == position
        assert store.position_at(moment - dt.timedelta(seconds=30)) == position - 1


def test_find_event_by_id(store: SqlEventStore) -> None:
    event = ev(1)
    store.append("a", [event], expected_version=0)
    found = store.find_event(event.event_id)
    assert found is not None and found.position == 1
    assert store.find_event(uuid.uuid4()) is None


def test_wait_for_events_wakes_on_another_writers_append(db_url: str) -> None:
    writer, reader = open_store(db_url), open_store(db_url)
    try:
        assert reader.wait_for_events(after=0, timeout=0.2) is False
        timer = threading.Timer(0.3, lambda: writer.append("a", [ev(1)], expected_version=0))
        timer.start()
        started = time.monotonic()
        assert reader.wait_for_events(after=0, timeout=20) is True
        assert time.monotonic() - started < 10
        timer.join()
        # The waiting connection went back to the pool: appends through every pooled
        # connection (the pool hands them out in turn) still work.
        for n in range(8):
            assert reader.append("b", [ev(n)], expected_version=n) == [n + 2]
    finally:
        writer.close()
        reader.close()


def test_a_reader_never_passes_a_position_that_commits_late(store: SqlEventStore) -> None:
    """A takes position 1 and sleeps; B appends meanwhile; the reader must see 1 before 2."""
    other = open_store(store.engine.url.render_as_string(hide_password=False))
    seen: list[int] = []
    b_done = threading.Event()

    def writer_b() -> None:
        other.append("b", [ev(2)], expected_version=0)
        b_done.set()

    try:
        with store.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                store.dialect.lock_for_append(conn)
                assert store._append(conn, "a", [(ev(1), '{"n":1}', "{}")], 0) == [1]
                thread = threading.Thread(target=writer_b)
                thread.start()
                time.sleep(0.5)
                assert not b_done.is_set(), "B committed while A held its position"
                seen += [e.position for e in other.read_all()]
                assert seen == [], "the reader saw an uncommitted or later position"
            thread.join(timeout=30)
        assert b_done.is_set()
        assert [e.position for e in other.read_all()] == [1, 2]
        assert [e.stream_id for e in other.read_all()] == ["a", "b"]
        assert other.verify().ok
    finally:
        other.close()


def test_multi_stream_append_is_all_or_nothing(store: SqlEventStore) -> None:
    from chronicle.store import StreamAppend

    store.append("b", [ev(0)], expected_version=0)
    ok = store.append_streams([StreamAppend("a", [ev(1)], 0),
                               StreamAppend("c", [ev(2), ev(3)], 0)])
    assert ok == [[2], [3, 4]]
    with pytest.raises(ConcurrencyError):
        store.append_streams([StreamAppend("d", [ev(4)], 0), StreamAppend("b", [ev(5)], 0)])
    assert store.head() == 4
    assert store.stream_version("d") == 0


@pytest.mark.parametrize("streams", [3, 700, 2300])   # one state query, several, many chunks
def test_many_streams_in_one_append_see_every_stream_version(store: SqlEventStore,
                                                             streams: int) -> None:
    from chronicle.store import StreamAppend

    names = [f"s{n:05d}" for n in range(streams)]
    store.append_streams([StreamAppend(name, [ev(n)], 0) for n, name in enumerate(names)])
    store.append(names[-1], [ev(-1)], expected_version=1)
    with pytest.raises(ConcurrencyError):   # the last stream's version was read too
        store.append_streams([StreamAppend(name, [ev(0)], 1) for name in names])
    positions = store.append_streams([StreamAppend(name, [ev(0)], 1) for name in names[:-1]])
    assert positions[0] == [streams + 2] and positions[-1] == [2 * streams]
    assert store.verify().ok


HOSTILE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1,
                  max_size=30)
CONTROLS = "".join(map(chr, range(32))) + '"\\/\x7f\u2028\u2029\ufeff😀\u05d0'


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=HOSTILE, kind=HOSTILE, text=st.text(max_size=40), schema=st.integers(1, 9))
def test_hostile_text_is_chained_exactly_as_verify_recomputes_it(
        store: SqlEventStore, stream: str, kind: str, text: str, schema: int) -> None:
    """On PostgreSQL the server computes the chain (chronicle/store/pgappend.py); `verify`
    recomputes it in Python. Any escaping difference would show as a broken chain."""
    payload = {"text": text, "controls": CONTROLS, CONTROLS: [text, 1.5, None]}
    version = store.stream_version(stream)
    [position] = store.append(stream, [NewEvent(type=kind, payload=payload, schema_version=schema,
                                                metadata={"k": text})], version)
    stored = store.read_all(after=position - 1, limit=1)[0]
    assert (stored.stream_id, stored.type, stored.payload) == (stream, kind, payload)
    report = store.verify()
    assert report.ok, report.reason
