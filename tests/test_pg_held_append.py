"""PostgreSQL appends on the connection a store holds outside the pool (chronicle/store/pgconn.py):
the rows are those the pooled path writes, a lost or busy held connection hands the append to
the pool, and an unreachable database is still named as such."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from chronicle.store import (
    ConcurrencyError,
    NewEvent,
    SqlEventStore,
    StoreUnavailable,
    StreamAppend,
    open_store,
    pgwire,
)
from chronicle.store.dialects import PostgresDialect
from chronicle.store.pgconn import Unheld
from chronicle.store.schema import events_table as T
from tests import test_store_fastpath as fastpath
from tests.conftest import fresh_schema
from tests.test_pg_append_function import _rows as calls_rows
from tests.test_serve_outage import cut_off, restore, server_role  # noqa: F401 - a fixture

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
    fastpath.test_threads_share_one_store_s_held_connection(postgres_url)


def test_closing_the_store_closes_the_held_connection(postgres_url: str) -> None:
    store = open_store(postgres_url)
    store.append("s", [NewEvent(type="T", payload={})], 0)
    driver = _held(store)._driver
    store.close()
    assert driver.closed and _held(store)._driver is None


def test_a_database_gone_down_is_named_and_appends_resume_after(
        server_role: tuple[str, sa.Engine]) -> None:  # noqa: F811 - the fixture
    url, admin = server_role
    store = open_store(url)
    try:
        store.append("s", [NewEvent(type="T", payload={})], 0)
        cut_off(admin, url)
        with pytest.raises(StoreUnavailable) as refused:
            store.append("s", [NewEvent(type="T", payload={})], 1)
        assert ":outage@" not in str(refused.value) and "***" in str(refused.value)
        assert "not permitted to log in" in str(refused.value)
        restore(admin, url)
        assert store.append("s", [NewEvent(type="T", payload={})], 1) == [2]
        assert _held(store)._driver is not None and store.verify().ok
    finally:
        store.close()


def test_the_hand_packed_call_writes_what_psycopg_s_call_writes(postgres_server: str) -> None:
    with fresh_schema(postgres_server) as first, fresh_schema(postgres_server) as second:
        packed, adapted = calls_rows(first, None, pgwire.call), calls_rows(second, None)
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
