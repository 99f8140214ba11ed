"""Batch appends on the held PostgreSQL connection as one message and its COPY data
(chronicle/store/pgbatch.py): what a refused batch leaves behind, an empty log handed to the
pool, and the process's other threads running while a batch waits for the append lock."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from chronicle.store import (
    ConcurrencyError,
    EventIdConflict,
    NewEvent,
    SqlEventStore,
    open_store,
    pgbatch,
)
from chronicle.store.dialects import NOTIFY_CHANNEL, PostgresDialect
from chronicle.store.pgconn import IDLE, Unheld
from chronicle.store.schema import TABLE_NAME
from chronicle.store.schema import events_table as T

pytestmark = pytest.mark.postgres
HOSTILE = "it's \\ a \"stream\"\t\n, {with} [all] 😀"
WAIT_SECONDS = 20     # at most, for the batch to be seen waiting (it is at once)


def _batch(size: int, **payload: Any) -> list[NewEvent]:
    return [NewEvent(type="B", payload={"n": n, **payload}) for n in range(size)]


def _held_driver(store: SqlEventStore) -> Any:
    assert isinstance(store.dialect, PostgresDialect) and store.dialect.held is not None
    return store.dialect.held._driver


def _listener(store: SqlEventStore) -> psycopg.Connection[Any]:
    url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener = psycopg.connect(url, autocommit=True)
    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
    return listener


def test_refused_batches_leave_the_held_connection_idle_and_announce_nothing(
        postgres_database_url: str) -> None:
    """A stale batch (the client fails the COPY) and one whose ids are stored in another
    stream (the unique index fails it) keep the held connection, idle; only the committed
    batches are heard, each with its new head. In a database of its own: NOTIFY's channel
    is database-wide."""
    store = open_store(postgres_database_url)
    listener = _listener(store)
    try:
        store.append(HOSTILE, [NewEvent(type="T", payload={})], 0)
        batch = _batch(25)
        assert store.append(HOSTILE, batch, 1) == list(range(2, 27))
        driver = _held_driver(store)
        with pytest.raises(ConcurrencyError):
            store.append(HOSTILE, _batch(25), 1)
        with pytest.raises(EventIdConflict):
            store.append("other", batch, -1)
        assert _held_driver(store) is driver and driver.info.transaction_status == IDLE
        assert store.append(HOSTILE, _batch(30, text=HOSTILE), 26) == list(range(27, 57))
        assert _held_driver(store) is driver
        heard = [n.payload for n in listener.notifies(timeout=0.5)]
        assert heard == ["1", "26", "56"]
        assert store.stream_version(HOSTILE) == 56 and store.verify().ok
    finally:
        listener.close()
        store.close()


def test_a_batch_on_an_empty_log_goes_to_the_pool_with_nothing_written(
        postgres_url: str) -> None:
    """No head row to announce the batch with: the pooled path takes it (the store sends it
    there before its first row anyway)."""
    store = open_store(postgres_url)
    try:
        with store.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.autocommit = True
            asked: list[Any] = []

            def rows_after(state: Any) -> Any:
                asked.append(state)
                return [], None

            with pytest.raises(Unheld):
                pgbatch.append_rows(raw, TABLE_NAME, [c.name for c in T.columns], ["s"], 25,
                                    rows_after)
            assert asked == [] and raw.info.transaction_status == IDLE
            assert raw.execute(f"SELECT count(*) FROM {TABLE_NAME}").fetchone() == (0,)
            raw.autocommit = False
    finally:
        store.close()


def test_a_batch_waiting_for_the_lock_lets_the_process_s_other_threads_run(
        postgres_url: str) -> None:
    """libpq's own wait for a result would hold the GIL: this thread could then not even
    look. A held connection that waited longer than the lock timeout set here hands the
    append to the pool, which psycopg waits on without the GIL: then the held backend is
    never seen waiting, and the test fails rather than hangs."""
    store = open_store(postgres_url)
    admin = sa.create_engine(store.engine.url)
    try:
        store.append("s", [NewEvent(type="T", payload={})], 0)
        store.append("s", _batch(25), 1)
        driver = _held_driver(store)
        driver.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")
        pid = driver.info.backend_pid
        appended: list[Any] = []
        with admin.connect() as locker, admin.connect() as looker:
            locker.exec_driver_sql(f"LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE")
            appender = threading.Thread(
                target=lambda: appended.append(store.append("s", _batch(25), 26)))
            appender.start()
            deadline, seen = time.monotonic() + WAIT_SECONDS, False
            while not seen and appender.is_alive() and time.monotonic() < deadline:
                seen = bool(looker.exec_driver_sql(
                    "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                    (pid,)).scalar())
                looker.rollback()
            locker.rollback()
            appender.join()
        assert seen and appended == [list(range(27, 52))]
        assert _held_driver(store) is driver and store.verify().ok
    finally:
        admin.dispose()
        store.close()
