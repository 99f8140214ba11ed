"""PostgreSQL appends on the connection a store holds outside the pool (chronicle/store/pgconn.py):
the rows are those the pooled path writes, a lost or busy held connection hands the append to
the pool, and an unreachable database is still named as such."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from chronicle.store import (
    ConcurrencyError,
    NewEvent,
    SqlEventStore,
    StoreUnavailable,
    StreamAppend,
    open_store,
    pgappend,
    pgwire,
)
from chronicle.store.dialects import PostgresDialect
from chronicle.store.hashing import canonical_json_text
from chronicle.store.pgconn import Unheld
from chronicle.store.schema import events_table as T
from tests.conftest import fresh_schema

pytestmark = pytest.mark.postgres
COMPARED = ("position", "stream_id", "stream_version", "event_id", "type", "schema_version",
            "payload", "metadata")


def _held(store: SqlEventStore) -> Any:
    assert isinstance(store.dialect, PostgresDialect) and store.dialect.held is not None
    return store.dialect.held


def _rows(store: SqlEventStore) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(getattr(row, name) for name in COMPARED)
                for row in conn.execute(sa.select(T).order_by(T.c.position))]


def _append_all(store: SqlEventStore) -> None:
    """Singles, a retry of one, two events in one call, then batches (COPY): one, its retry,
    a stale one refused, one across two streams."""
    ids = [uuid.UUID(int=n + 1) for n in range(200)]
    store.append("a", [NewEvent(type="T", payload={"n": 0}, event_id=ids[0])], 0)
    store.append("a", [NewEvent(type="T", payload={"n": 1}, event_id=ids[1])], 1)
    assert store.append("a", [NewEvent(type="T", payload={"n": 1}, event_id=ids[1])], 1) == [2]
    store.append("b", [NewEvent(type="U", payload={"n": 2}, event_id=ids[2],
                                metadata={"by": "test"})], -1)
    store.append("c", [NewEvent(type="T", payload={"n": n}, event_id=ids[3 + n])
                       for n in range(2)], 0)
    batch = [NewEvent(type="B", payload={"n": n, "t": "\t\n\"é"}, event_id=ids[10 + n])
             for n in range(25)]
    assert store.append("a", batch, 2) == list(range(6, 31))
    assert store.append("a", batch, 2) == list(range(6, 31))          # a retry
    with pytest.raises(ConcurrencyError):
        store.append("a", [NewEvent(type="B", payload={}) for _ in range(25)], 2)
    store.append_streams([StreamAppend(stream, [NewEvent(type="S", payload={"n": n},
                                                         event_id=ids[50 + 20 * k + n])
                                                for n in range(20)], -1)
                          for k, stream in enumerate(["d", "a"])])


def test_held_appends_write_the_rows_of_the_pooled_path(postgres_server: str) -> None:
    with fresh_schema(postgres_server) as first, fresh_schema(postgres_server) as second:
        held, pooled = open_store(first), open_store(second)
        try:
            pooled.dialect.held = None       # type: ignore[attr-defined]  # the pool only
            _append_all(held)
            _append_all(pooled)
            assert _held(held)._driver is not None
            assert _rows(held) == _rows(pooled) and len(_rows(held)) == 70
            assert held.verify().ok and pooled.verify().ok
        finally:
            pooled.close()
            held.close()


def test_a_terminated_held_connection_hands_over_and_is_replaced(postgres_url: str) -> None:
    store = open_store(postgres_url)
    admin = sa.create_engine(store.engine.url)
    try:
        store.append("s", [NewEvent(type="T", payload={})], 0)
        store.append("s", [NewEvent(type="T", payload={})], 1)
        pid = _held(store)._driver.info.backend_pid
        with admin.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,)).scalar()
        assert store.append("s", [NewEvent(type="T", payload={})], 2) == [3]
        assert _held(store)._driver is None          # closed; the pool took that append
        assert store.append("s", [NewEvent(type="T", payload={})], 3) == [4]
        pid, was = _held(store)._driver.info.backend_pid, pid
        assert pid != was
        with admin.connect() as conn:                # and under a batch (COPY)
            assert conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,)).scalar()
        batch = [NewEvent(type="T", payload={"n": n}) for n in range(30)]
        assert store.append("s", batch, 4) == list(range(5, 35))
        assert _held(store)._driver is None
        assert store.append("s", [NewEvent(type="T", payload={})], 34) == [35]
        assert store.verify().ok
    finally:
        admin.dispose()
        store.close()


def test_threads_append_through_the_held_connection_or_the_pool(postgres_url: str) -> None:
    store = open_store(postgres_url)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for n in range(10):
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
        assert store.head() == 40 and store.verify().ok
    finally:
        store.close()


def test_closing_the_store_closes_the_held_connection(postgres_url: str) -> None:
    store = open_store(postgres_url)
    store.append("s", [NewEvent(type="T", payload={})], 0)
    driver = _held(store)._driver
    store.close()
    assert driver.closed and _held(store)._driver is None


@pytest.fixture
def own_role(postgres_server: str, postgres_url: str) -> Iterator[tuple[str, sa.Engine]]:
    """A login role of its own, so that cutting it off touches no one else."""
    role = f"chronicle_held_{uuid.uuid4().hex[:8]}"
    schema = parse_qs(urlsplit(postgres_url).query)["options"][0].split("=", 1)[1]
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD 'held'")
        conn.exec_driver_sql(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
    parts = urlsplit(postgres_server)
    try:
        yield (f"{parts.scheme}://{role}:held@{parts.hostname}:{parts.port or 5432}{parts.path}"
               f"?options=-csearch_path%3D{schema}"), admin
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER ROLE {role} LOGIN")
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE usename = '{role}'")
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def test_a_database_gone_down_is_named_and_appends_resume_after(
        own_role: tuple[str, sa.Engine]) -> None:
    url, admin = own_role
    role = urlsplit(url).username
    store = open_store(url)
    try:
        store.append("s", [NewEvent(type="T", payload={})], 0)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER ROLE {role} NOLOGIN")
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE usename = '{role}'")
        with pytest.raises(StoreUnavailable) as refused:
            store.append("s", [NewEvent(type="T", payload={})], 1)
        assert ":held@" not in str(refused.value) and "***" in str(refused.value)
        assert "not permitted to log in" in str(refused.value)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER ROLE {role} LOGIN")
        assert store.append("s", [NewEvent(type="T", payload={})], 1) == [2]
        assert _held(store)._driver is not None and store.verify().ok
    finally:
        store.close()


def _calls_through(url: str, call: Any) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """test_pg_append_function's hostile calls through `call`, and the rows they wrote."""
    from tests.test_pg_append_function import CALLS

    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.autocommit = True
            when = dt.datetime(2026, 12, 6, 5, 0, 0, 123456, tzinfo=dt.UTC)
            results = [call(driver, when - dt.timedelta(seconds=n % 2), [stream], [expected],
                            [1], [(uuid.UUID(int=n + 1), type_, 1 + n % 3,
                                   canonical_json_text(payload), '{"by":"test"}')])
                       for n, (stream, expected, type_, payload) in enumerate(CALLS)]
            results.append(call(driver, when, ["many", "more"], [0, -1], [1, 2, 2], [
                (uuid.UUID(int=100 + k), "M", k, canonical_json_text({"k": k}), "{}")
                for k in range(3)]))
            driver.autocommit = False
            rows = conn.execute(sa.text("SELECT * FROM chronicle_events ORDER BY position"))
            return results, [tuple(row) for row in rows]
    finally:
        store.close()


def test_the_hand_packed_call_writes_what_psycopg_s_call_writes(postgres_server: str) -> None:
    with fresh_schema(postgres_server) as first, fresh_schema(postgres_server) as second:
        packed, adapted = _calls_through(first, pgwire.call), _calls_through(second, pgappend.call)
    assert packed == adapted
    assert packed[0] == [1, 2, 3, None, 4, 5] and len(packed[1]) == 7


@pytest.mark.parametrize("event", [
    (uuid.UUID(int=1), "T", 2**31, "{}", "{}"),           # beyond int4
    (uuid.UUID(int=1), "T\ud800", 1, "{}", "{}"),          # not encodable
    ("not a uuid", "T", 1, "{}", "{}"),
])
def test_what_cannot_be_packed_goes_to_psycopg(event: tuple[Any, ...]) -> None:
    with pytest.raises(Unheld):
        pgwire.parameters("utf-8", dt.datetime.now(dt.UTC), ["s"], [0], [1], [event])


def _append_in_child(store: SqlEventStore) -> None:
    store.append("child", [NewEvent(type="T", payload={})], 0)


def test_a_forked_child_appends_on_its_own_connection_and_leaves_the_parent_s(
        postgres_url: str) -> None:
    import multiprocessing

    store = open_store(postgres_url)
    try:
        store.append("parent", [NewEvent(type="T", payload={})], 0)
        pid = _held(store)._driver.info.backend_pid
        child = multiprocessing.get_context("fork").Process(target=_append_in_child,
                                                            args=(store,))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        assert store.append("parent", [NewEvent(type="T", payload={})], 1) == [3]
        assert _held(store)._driver.info.backend_pid == pid      # not ended by the child
        assert store.stream_version("child") == 1 and store.verify().ok
    finally:
        store.close()
