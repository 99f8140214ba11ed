"""Concurrent appends from real processes: nothing lost, no gaps, no 'database is locked'."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest
import sqlalchemy as sa

from chronicle.store import ConcurrencyError, NewEvent, open_store
from chronicle.store.upcasting import NO_UPCASTERS

WRITERS, BATCHES, BATCH = 4, 25, 4


def _writer(url: str, writer: int, barrier: object) -> None:
    store = open_store(url)
    barrier.wait()  # type: ignore[attr-defined]
    for batch in range(BATCHES):
        stream = f"w{writer}"
        events = [NewEvent(type="T", payload={"w": writer, "b": batch, "i": i})
                  for i in range(BATCH)]
        store.append(stream, events, expected_version=batch * BATCH)
    store.close()


def _reader(url: str, total: int, queue: object) -> None:
    """Follows the global position as a projector would, recording every position it sees."""
    store = open_store(url, upcasters=NO_UPCASTERS)   # its events are no domain's
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while len(seen) < total and time.monotonic() < deadline:
        after = seen[-1] if seen else 0
        page = store.read_all(after=after, limit=50)
        seen += [e.position for e in page]
        if not page:
            store.wait_for_events(after, timeout=0.2)
    queue.put(seen)  # type: ignore[attr-defined]
    store.close()


def test_concurrent_writer_processes_and_a_following_reader(db_url: str) -> None:
    open_store(db_url).close()  # schema first, so the race is about appends
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    queue = ctx.Queue()
    total = WRITERS * BATCHES * BATCH
    reader = ctx.Process(target=_reader, args=(db_url, total, queue))
    reader.start()
    writers = [ctx.Process(target=_writer, args=(db_url, w, barrier)) for w in range(WRITERS)]
    for proc in writers:
        proc.start()
    for proc in writers:
        proc.join(timeout=180)
        assert proc.exitcode == 0, "a writer failed (see its stderr above)"
    seen = queue.get(timeout=180)
    reader.join(timeout=30)
    assert seen == list(range(1, total + 1)), "the reader skipped or reordered a position"
    store = open_store(db_url)
    try:
        assert store.head() == total
        for w in range(WRITERS):
            payloads = [(e.payload["b"], e.payload["i"]) for e in store.read_stream(f"w{w}")]
            assert payloads == [(b, i) for b in range(BATCHES) for i in range(BATCH)]
        assert store.verify().ok
    finally:
        store.close()


@pytest.mark.parametrize("contenders", [3])
def test_contended_stream_one_winner_per_version(db_url: str, contenders: int) -> None:
    """Processes racing on one stream with the same expected version: exactly one wins."""
    open_store(db_url).close()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(contenders)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(db_url, n, barrier, queue))
             for n in range(contenders)]
    for proc in procs:
        proc.start()
    wins = sum(queue.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
    store = open_store(db_url)
    try:
        assert wins == 1
        assert store.stream_version("contended") == 1
    finally:
        store.close()


def _racer(url: str, n: int, barrier: object, queue: object) -> None:
    store = open_store(url)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        store.append("contended", [NewEvent(type="Claim", payload={"by": n})], expected_version=0)
        queue.put(1)  # type: ignore[attr-defined]
    except ConcurrencyError:
        queue.put(0)  # type: ignore[attr-defined]
    store.close()


@pytest.mark.postgres
def test_a_pooled_connection_killed_by_the_server_is_replaced_unnoticed(postgres_url: str
                                                                        ) -> None:
    """The pool's check on checkout (one empty query) must catch a terminated backend."""
    store = open_store(postgres_url)
    admin = sa.create_engine(store.engine.url)
    try:
        store.append("a", [NewEvent(type="T", payload={"n": 1})], expected_version=0)
        with store.engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,)).scalar()
        assert store.append("a", [NewEvent(type="T", payload={"n": 2})], expected_version=1) == [2]
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        admin.dispose()
        store.close()


@pytest.mark.postgres
def test_an_append_on_a_connection_killed_moments_ago_is_retried_once_and_stored_once(
        postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Appends skip the pool's check of a connection used under a second ago, so they must
    retry on a new one when it turns out dead, and the retry must not store the event twice.

    A restart kills the store's held append connection too (chronicle/store/pgconn.py): the
    append then falls to the pool, which meets the dead pooled connection."""
    store = open_store(postgres_url)
    admin = sa.create_engine(store.engine.url)
    try:
        store.engine.dispose()        # from here on the pool holds one connection
        store.append("a", [NewEvent(type="T", payload={"n": 1})], expected_version=0)
        raw = store.engine.raw_connection()
        pid = raw.driver_connection.info.backend_pid  # type: ignore[union-attr]
        raw.close()
        held = store.dialect.held        # type: ignore[attr-defined]
        assert held is not None and held._driver is not None
        with admin.connect() as conn:
            for backend in (pid, held._driver.info.backend_pid):
                assert conn.exec_driver_sql("SELECT pg_terminate_backend(%s)",
                                            (backend,)).scalar()
        with caplog.at_level("INFO", logger="chronicle.store.sql"):
            assert store.append("a", [NewEvent(type="T", payload={"n": 2})], 1) == [2]
        assert "lost" in caplog.text and "retrying the write" in caplog.text
        assert [e.payload["n"] for e in store.read_stream("a")] == [1, 2]
        assert store.verify().ok
    finally:
        admin.dispose()
        store.close()


@pytest.mark.postgres
def test_the_append_state_query_is_never_a_cached_generic_plan(postgres_url: str) -> None:
    """A plan cached while the log was empty would scan the whole log on every later append:
    neither the pooled path's state query nor the append function's reads (smaller appends;
    PostgreSQL caches generic plans for them) may keep one, and the held connection's batch
    reads (chronicle/store/pgbatch.py, prepared) must be index scans as generic plans too."""
    from chronicle.store.pgappend import HEAD, VERSION
    from chronicle.store.pgbatch import HEAD_STATEMENT, PREPARED, VERSIONS_STATEMENT

    store = open_store(postgres_url)
    try:
        with store.engine.connect() as conn:   # on the empty log, as a new database starts
            conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            conn.exec_driver_sql(f"PREPARE head AS {HEAD}")
            conn.exec_driver_sql(f"PREPARE version(text) AS {VERSION.format(stream='$1')}")
            for name, statement in PREPARED.items():
                conn.exec_driver_sql(f"PREPARE {name} AS {statement}")
            calls = ("head", "version('a')", f"{HEAD_STATEMENT}(25)",
                     f"{VERSIONS_STATEMENT}(ARRAY['a', 'b'])")
            plans = [row[0] for query in calls
                     for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE {query}")]
            for name in ("head", "version", *PREPARED):
                conn.exec_driver_sql(f"DEALLOCATE {name}")
            conn.exec_driver_sql("RESET plan_cache_mode")
        assert len([p for p in plans if "Index" in p]) >= len(calls)
        assert not [p for p in plans if "Seq Scan" in p]
        for version in range(12):     # psycopg prepares a statement on its fifth run
            store.append("a", [NewEvent(type="T", payload={"n": version})], version)
            store.append(f"b{version}", [NewEvent(type="T", payload={"n": n}) for n in range(25)],
                         0)
        query = "SELECT statement FROM pg_prepared_statements"
        with store.engine.connect() as conn:   # the pool's one connection: the same session
            prepared = [row[0] for row in conn.exec_driver_sql(query)]
        held = store.dialect.held._driver      # type: ignore[attr-defined]  # one-call appends'
        prepared += [row[0] for row in held.execute(query)]
        assert prepared, "psycopg prepared nothing: this test no longer sees the session"
        assert not [text for text in prepared if "max(stream_version)" in text]
    finally:
        store.close()


@pytest.mark.postgres
def test_listeners_hear_each_committed_append_with_its_new_head_and_nothing_else(
        postgres_database_url: str) -> None:
    """The NOTIFY rides with the lock and state query, before the insert: it must still be
    delivered only for appends that commit, carrying the head after them. In a database of
    its own: the channel is database-wide, and another test's appends would be heard too."""
    import psycopg

    from chronicle.store.dialects import NOTIFY_CHANNEL

    store = open_store(postgres_database_url)
    listener = psycopg.connect(store.engine.url.set(drivername="postgresql")
                               .render_as_string(hide_password=False), autocommit=True)
    try:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        first = [NewEvent(type="T", payload={"n": n}) for n in range(3)]
        store.append("a", first, expected_version=0)
        with pytest.raises(ConcurrencyError):
            store.append("a", [NewEvent(type="T", payload={"n": 9})], expected_version=0)
        assert store.append("a", first, expected_version=0) == [1, 2, 3]   # a retry: no news
        store.append("b", [NewEvent(type="T", payload={"n": 3})], expected_version=0)
        heard = [n.payload for n in listener.notifies(timeout=0.5)]
        assert heard == ["3", "4"]
    finally:
        listener.close()
        store.close()
