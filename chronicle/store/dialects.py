"""Everything that differs between SQLite and PostgreSQL, in one place.

The store speaks SQLAlchemy Core; a dialect adds what SQL cannot say portably: how appends
are serialised, how readers are told of new events, and the triggers that keep the log
append-only.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from chronicle.files import locked
from chronicle.store import bulkwrite
from chronicle.store.hashing import GENESIS_HASH, utc_text
from chronicle.store.heldlocks import AdvisoryLock, AlwaysHeld, FileHeldLock, HeldLock
from chronicle.store.pgconn import HeldPgConnection, Unheld
from chronicle.store.pgdriver import (
    COPY_MIN_ROWS,
    NOTIFY_CHANNEL,
    PG_LOCKED_STATE,
    pg_copy,
    pg_copy_statement,
    pg_insert,
    pg_locked_state,
)
from chronicle.store.records import TABLE_NAME

WRITE_OPTION = "chronicle_write"
SQLITE_BUSY_TIMEOUT_MS = 60_000
NOTIFY = sa.text("SELECT pg_notify(:channel, :head)")
AppendState = list[tuple[Any, ...]]
"""(stream_id, version, NULL, NULL) per existing stream and (NULL, head, hash, recorded_at)."""
R = TypeVar("R")
RowsAfter = Callable[[AppendState], tuple[list[tuple[Any, ...]], R]]
"""The rows an append inserts after a state, and what the append returns."""
SQLITE_STATE_STREAMS = 500      # streams per driver-level state query; more take the portable one
SQLITE_APPEND_STATE = (
    f"SELECT stream_id, max(stream_version), NULL, NULL FROM {TABLE_NAME} "
    "WHERE stream_id IN ({marks}) GROUP BY stream_id "
    f"UNION ALL SELECT * FROM (SELECT NULL, position, hash, recorded_at FROM {TABLE_NAME} "
    "ORDER BY position DESC LIMIT 1)"
)
SQLITE_STREAM_VERSIONS = (
    f"SELECT stream_id, max(stream_version) FROM {TABLE_NAME} "
    "WHERE stream_id IN ({marks}) GROUP BY stream_id"
)
SQLITE_DATA_VERSION = "PRAGMA data_version"
"""Changes when another connection commits to the database, not when this one does."""
PING_IDLE_SECONDS = 1.0    # a pooled connection idle for longer is pinged before use
_RETRIED_IF_LOST = contextvars.ContextVar("chronicle_retried_if_lost", default=False)


@contextlib.contextmanager
def retried_if_lost() -> Iterator[None]:
    """Checkouts in this block are for work its caller retries if the connection is dead.

    The pool may then skip its check of a connection used moments ago (see `_ping`).
    """
    token = _RETRIED_IF_LOST.set(True)
    try:
        yield
    finally:
        _RETRIED_IF_LOST.reset(token)


class StoreDialect:
    """Hooks the store calls at fixed points of an append and of a wait."""

    name = "generic"
    appends_in_one_call = False
    """Whether `append_in_one_call` can do a whole append (see chronicle/store/pgappend.py)."""
    appends_on_driver = False
    """Whether `driver_transaction` can hold the fast path of an append."""

    def configure(self, engine: Engine) -> None:
        """Install connection-level settings once per engine."""

    def lock_for_append(self, conn: Connection) -> None:
        """Serialise appends so positions commit in order and a reader never skips one."""

    def after_append(self, conn: Connection, head: int) -> None:
        """Tell listeners (in this transaction, so only on commit) that the head moved."""

    def bulk_insert(self, conn: Connection, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> bool:
        """Insert `rows` faster than executemany can, if this database has a way; False if not."""
        return False

    def locked_state(self, conn: Connection, streams: Sequence[str],
                     portable: Callable[[Connection], AppendState], adding: int) -> AppendState:
        """Take the append lock, read the append's state (streams' versions, head) and
        announce the `adding` events about to be inserted (`after_append`'s job, done early).

        `portable` reads the state with SQLAlchemy; a dialect may do all three in fewer round
        trips. An announcement is delivered only if the transaction commits.
        """
        self.lock_for_append(conn)
        state = portable(conn)
        head = next((number for stream, number, _, _ in state if stream is None), 0)
        self.after_append(conn, head + adding)
        return state

    @contextlib.contextmanager
    def driver_transaction(self, conn: Connection) -> Iterator[None]:
        """A write transaction on the driver of `conn`, a Connection outside any SQLAlchemy
        transaction; committed at the end of the block, rolled back if it raises."""
        raise NotImplementedError(self.name)
        yield  # pragma: no cover

    def insert_appended(self, conn: Connection, insert_sql: str, columns: Sequence[str],
                        rows: Sequence[Sequence[Any]]) -> None:
        """Insert an append's rows (tuples in `columns` order)."""
        if not self.bulk_insert(conn, TABLE_NAME, columns, rows):
            conn.exec_driver_sql(insert_sql, rows)

    def append_in_one_call(self, conn: Connection, when: dt.datetime, streams: Sequence[str],
                           expected: Sequence[int], owner: Sequence[int],
                           events: Sequence[tuple[Any, ...]]) -> int | None:
        """Lock, check, chain, insert and announce in one statement, on a connection in
        autocommit; returns the first position, or None if a stream moved.

        `owner[k]` is the 1-based index in `streams` of event k; `events` are (event id, type,
        schema version, payload JSON, metadata JSON) tuples.
        """
        raise NotImplementedError(self.name)

    def append_held(self, when: dt.datetime, streams: Sequence[str], expected: Sequence[int],
                    owner: Sequence[int], events: Sequence[tuple[Any, ...]]) -> int | None:
        """`append_in_one_call` on a connection the dialect holds outside the pool; Unheld
        when it has none free (the caller then takes a pooled one)."""
        raise Unheld(self.name)

    def append_rows_held(self, streams: Sequence[str], adding: int, insert_sql: str,
                         columns: Sequence[str], rows_after: RowsAfter[R]) -> R:
        """An append's fast path on a connection the dialect holds; Unheld if it has none
        free (the caller then takes a pooled one)."""
        raise Unheld(self.name)

    def immutability_ddl(self) -> list[str]:
        """Statements that make UPDATE and DELETE on the log fail inside the database."""
        return []

    def drop_immutability_ddl(self) -> list[str]:
        return []

    def wait_for_change(self, engine: Engine, timeout: float, poll: Callable[[], bool]) -> bool:
        """Block until `poll()` is true or `timeout` passes; returns the last poll."""
        deadline = time.monotonic() + timeout
        while True:
            if poll():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(0.05, remaining))

    @contextlib.contextmanager
    def migration_lock(self, engine: Engine) -> Iterator[None]:
        yield

    def bulk_writes(self, engine: Engine) -> contextlib.AbstractContextManager[None]:
        """Around a bulk write (a rebuild of the read models): the database's settings for it."""
        return contextlib.nullcontext()

    def bulk_batch(self, conn: Connection) -> contextlib.AbstractContextManager[None]:
        """Around one batch's transaction inside `bulk_writes`."""
        return contextlib.nullcontext()

    def missing(self, engine: Engine) -> str | None:
        """Why the database is gone before we connect (None: present, or only a connection
        can tell). Connecting to a SQLite file that is not there would create an empty one."""
        return None

    def held_lock(self, engine: Engine, name: str) -> HeldLock:
        """A lock named `name` that one process at a time holds across transactions (see
        chronicle/store/heldlocks.py); this database has none, so every process holds it."""
        return AlwaysHeld()

    def time_type(self) -> sa.types.TypeEngine[Any]:
        """The column type of an aware UTC time (schema.UTCDateTime): the native one."""
        return sa.DateTime(timezone=True)

    def time_value(self, value: dt.datetime) -> object:
        """An aware UTC time as `time_type` takes it."""
        return value


class SQLiteDialect(StoreDialect):
    """WAL for concurrent readers; BEGIN IMMEDIATE takes the write lock before reading the head."""

    name = "sqlite"
    appends_on_driver = True

    def __init__(self, synchronous: str = "FULL") -> None:
        self.synchronous = synchronous

    @contextlib.contextmanager
    def driver_transaction(self, conn: Connection) -> Iterator[None]:
        """BEGIN IMMEDIATE and COMMIT straight on the driver (the append fast path)."""
        driver = _driver(conn)
        with _driver_errors(conn, "BEGIN IMMEDIATE"):
            driver.execute("BEGIN IMMEDIATE")
        try:
            yield
            with _driver_errors(conn, "COMMIT"):
                driver.execute("COMMIT")
        except BaseException:
            if driver.in_transaction:
                with contextlib.suppress(Exception):
                    driver.execute("ROLLBACK")
            raise

    def locked_state(self, conn: Connection, streams: Sequence[str],
                     portable: Callable[[Connection], AppendState], adding: int) -> AppendState:
        """The state query on the driver's cursor (BEGIN IMMEDIATE already holds the lock).

        SQLAlchemy's statement machinery costs more than the query itself on a one-event
        append; recorded times come back as the ISO text SQLite keeps. Readers poll: nothing
        to announce.
        """
        if len(streams) > SQLITE_STATE_STREAMS:
            return portable(conn)
        with _driver_errors(conn, SQLITE_APPEND_STATE):
            return sqlite_append_state(_driver(conn), streams)

    def insert_appended(self, conn: Connection, insert_sql: str, columns: Sequence[str],
                        rows: Sequence[Sequence[Any]]) -> None:
        with _driver_errors(conn, insert_sql):
            _driver(conn).executemany(insert_sql, rows)

    def configure(self, engine: Engine) -> None:
        synchronous = self.synchronous

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's begin hook, not pysqlite, decide how transactions start.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute(f"PRAGMA synchronous = {synchronous}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            """On the driver's connection: SQLAlchemy's statement path costs more than this."""
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            statement = "BEGIN IMMEDIATE" if write else "BEGIN"
            with _driver_errors(conn, statement):
                _driver(conn).execute(statement)

    def time_type(self) -> sa.types.TypeEngine[Any]:
        """SQLite has no time type: ISO text, which sorts as the times do."""
        return sa.String(32)

    def time_value(self, value: dt.datetime) -> object:
        return utc_text(value, "+00:00")

    def immutability_ddl(self) -> list[str]:
        return [
            f"CREATE TRIGGER IF NOT EXISTS {TABLE_NAME}_no_update BEFORE UPDATE ON {TABLE_NAME} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE_NAME} is append-only: UPDATE refused'); END",
            f"CREATE TRIGGER IF NOT EXISTS {TABLE_NAME}_no_delete BEFORE DELETE ON {TABLE_NAME} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE_NAME} is append-only: DELETE refused'); END",
        ]

    def drop_immutability_ddl(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_update",
            f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_delete",
        ]

    def bulk_writes(self, engine: Engine) -> contextlib.AbstractContextManager[None]:
        return bulkwrite.bulk_writes(engine)   # page cache and WAL checkpoints

    def bulk_batch(self, conn: Connection) -> contextlib.AbstractContextManager[None]:
        return bulkwrite.bulk_batch(conn)

    def missing(self, engine: Engine) -> str | None:
        path = engine.url.database
        if not path or path == ":memory:" or os.path.isfile(path):
            return None
        return f"the database file {path} does not exist"

    @contextlib.contextmanager
    def migration_lock(self, engine: Engine) -> Iterator[None]:
        # An immediate transaction on a scratch table would do, but a file lock beside the
        # database also covers the moment before the file exists.
        path = engine.url.database
        if not path or path == ":memory:":
            yield
            return
        with locked(f"{path}.migrate-lock"):
            yield


    def held_lock(self, engine: Engine, name: str) -> HeldLock:
        """A file lock beside the database file (`<db>.<name>-lock`)."""
        database = engine.url.database
        if not database or database == ":memory:":
            return AlwaysHeld()
        return FileHeldLock(Path(f"{database}.{name}-lock"))


@functools.lru_cache(maxsize=64)
def _sqlite_state_sql(streams: int) -> str:
    return SQLITE_APPEND_STATE.format(marks=", ".join("?" * streams))


def sqlite_append_state(driver: Any, streams: Sequence[str]) -> AppendState:
    """The append state (see AppendState) by a query on a sqlite3 connection, whose statement
    cache keeps it compiled (a connection or a cursor); recorded times come back as the ISO text
    SQLite keeps."""
    rows = driver.execute(_sqlite_state_sql(len(streams)), tuple(streams)).fetchall()
    return [(stream, number, hash_, dt.datetime.fromisoformat(moment) if moment else None)
            for stream, number, hash_, moment in rows]


@functools.lru_cache(maxsize=64)
def _sqlite_versions_sql(streams: int) -> str:
    return SQLITE_STREAM_VERSIONS.format(marks=", ".join("?" * streams))


def sqlite_stream_versions(driver: Any, streams: Sequence[str]) -> dict[str, int]:
    """The streams' versions on a sqlite3 connection (0 for a stream with no events), without
    the head: for an append that knows the head already (chronicle/store/appendconn.py)."""
    versions = dict.fromkeys(streams, 0)
    versions.update(driver.execute(_sqlite_versions_sql(len(streams)), tuple(streams)))
    return versions


def parse_append_state(rows: AppendState) -> tuple[dict[str, int], int, str,
                                                   dt.datetime | None]:
    """The streams' versions and the head's position, hash and time (0, the plain genesis
    hash and None for an empty log)."""
    versions: dict[str, int] = {}
    head, prev_hash, head_at = 0, GENESIS_HASH, None
    for stream_id, number, hash_, moment in rows:
        if stream_id is None:
            head, prev_hash, head_at = number, hash_, moment
        else:
            versions[stream_id] = number
    return versions, head, prev_hash, head_at


class PostgresDialect(StoreDialect):
    """An EXCLUSIVE table lock per append (readers still read) and LISTEN/NOTIFY for followers."""

    name = "postgresql"
    appends_in_one_call = True
    MIGRATION_LOCK_KEY = 0x6368726F6E  # "chron"
    held: HeldPgConnection | None = None
    """The appends' own connection (chronicle/store/pgconn.py), once `configure` made it."""

    def configure(self, engine: Engine) -> None:
        from psycopg import pq

        held = self.held = HeldPgConnection(engine)
        lost = [0.0]     # when the pool last saw a connection die

        @event.listens_for(engine, "engine_disposed")
        def _disposed(_engine: Engine) -> None:
            held.close()

        @event.listens_for(engine, "invalidate")
        def _lost(_dbapi_conn: Any, _record: Any, _exc: Any) -> None:
            lost[0] = time.monotonic()

        @event.listens_for(engine, "checkin")
        def _returned(_dbapi_conn: Any, record: Any) -> None:
            record.info["returned_at"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
            """A pooled connection answers an empty query before use, or the pool replaces it.

            SQLAlchemy's pre-ping sends SELECT 1 through psycopg, which opens a transaction
            first: two round trips. libpq's empty query is one and leaves no transaction.
            Work that is retried if its connection is dead (`retried_if_lost`: appends) skips
            the check for a connection back in the pool for under a second with none lost
            since: back-to-back appends save a round trip each.
            """
            returned = record.info.get("returned_at")
            if (_RETRIED_IF_LOST.get() and returned is not None and returned > lost[0]
                    and time.monotonic() - returned < PING_IDLE_SECONDS):
                return
            try:
                alive = (not dbapi_conn.broken
                         and dbapi_conn.pgconn.exec_(b"").status == pq.ExecStatus.EMPTY_QUERY)
            except Exception:          # whatever the dead socket raised: replace it
                alive = False
            if not alive:
                raise sa.exc.DisconnectionError("the pooled connection did not answer")

    def lock_for_append(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE")

    def after_append(self, conn: Connection, head: int) -> None:
        conn.execute(NOTIFY, {"channel": NOTIFY_CHANNEL, "head": str(head)})

    def locked_state(self, conn: Connection, streams: Sequence[str],
                     portable: Callable[[Connection], AppendState], adding: int) -> AppendState:
        """LOCK, the state query and the NOTIFY in one round trip (three before).

        Sent as one simple query, values inlined as quoted literals: only the simple protocol
        carries several statements, and it never prepares, so no cached generic plan can
        keep a sequential scan from when the log was empty (that had made every append cost
        time in proportion to the log: 2.5 -> 4.6 ms from 1k to 6k events). The NOTIFY
        announces the head after this append; PostgreSQL delivers it at commit, or never.
        Not psycopg's pipeline mode: on loopback it measured slower than plain statements.
        """
        with _driver_errors(conn, PG_LOCKED_STATE):
            return pg_locked_state(_driver(conn), streams, adding)

    def insert_appended(self, conn: Connection, insert_sql: str, columns: Sequence[str],
                        rows: Sequence[Sequence[Any]]) -> None:
        """Many rows by COPY, a few on the driver's cursor."""
        with _driver_errors(conn, insert_sql):
            pg_insert(_driver(conn), insert_sql, columns, rows)

    def append_in_one_call(self, conn: Connection, when: dt.datetime, streams: Sequence[str],
                           expected: Sequence[int], owner: Sequence[int],
                           events: Sequence[tuple[Any, ...]]) -> int | None:
        from chronicle.store import pgappend

        with _driver_errors(conn, pgappend.CALL):
            return pgappend.call(_driver(conn), when, streams, expected, owner, events)

    def append_held(self, when: dt.datetime, streams: Sequence[str], expected: Sequence[int],
                    owner: Sequence[int], events: Sequence[tuple[Any, ...]]) -> int | None:
        from chronicle.store import pgwire

        if self.held is None:
            raise Unheld("not configured")
        with self.held.driver(pgwire.CALL) as driver:
            return pgwire.call(driver, when, streams, expected, owner, events)

    def bulk_insert(self, conn: Connection, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> bool:
        """Binary COPY in the append's transaction: faster than executemany for batches (and
        than text COPY: the server parses nothing); for one row it gains nothing."""
        if len(rows) < COPY_MIN_ROWS:
            return False
        with _driver_errors(conn, pg_copy_statement(table, columns)):
            pg_copy(_driver(conn), table, columns, rows)
        return True

    def append_rows_held(self, streams: Sequence[str], adding: int, insert_sql: str,
                         columns: Sequence[str], rows_after: RowsAfter[R]) -> R:
        """The fast path of an append (`locked_state`, then `insert_appended` of the rows
        `rows_after(state)` makes) on the held connection, as one message and its COPY data
        (chronicle/store/pgbatch.py): two round trips, and SQLAlchemy's and psycopg's
        statement machinery stays out."""
        from chronicle.store import pgbatch

        if self.held is None:
            raise Unheld("not configured")
        with self.held.driver(pgbatch.MESSAGE) as driver:
            return pgbatch.append_rows(driver, TABLE_NAME, columns, streams, adding, rows_after)

    def immutability_ddl(self) -> list[str]:
        return [
            f"""CREATE OR REPLACE FUNCTION {TABLE_NAME}_refuse_change() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '{TABLE_NAME} is append-only: % refused', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END $$""",
            f"CREATE TRIGGER {TABLE_NAME}_no_change BEFORE UPDATE OR DELETE ON {TABLE_NAME} "
            f"FOR EACH ROW EXECUTE FUNCTION {TABLE_NAME}_refuse_change()",
            f"CREATE TRIGGER {TABLE_NAME}_no_truncate BEFORE TRUNCATE ON {TABLE_NAME} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE_NAME}_refuse_change()",
        ]

    def drop_immutability_ddl(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_change ON {TABLE_NAME}",
            f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_truncate ON {TABLE_NAME}",
            f"DROP FUNCTION IF EXISTS {TABLE_NAME}_refuse_change()",
        ]

    def wait_for_change(self, engine: Engine, timeout: float, poll: Callable[[], bool]) -> bool:
        if poll():
            return True
        raw = engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            dbapi.autocommit = True
            dbapi.execute(f"LISTEN {NOTIFY_CHANNEL}")
            # Re-check after LISTEN: an append that committed in between sent its NOTIFY too early.
            if poll():
                return True
            deadline = time.monotonic() + timeout
            while (remaining := deadline - time.monotonic()) > 0:
                for _ in dbapi.notifies(timeout=remaining, stop_after=1):
                    break
                if poll():
                    return True
            return False
        finally:
            self._return_listener(raw)

    @staticmethod
    def _return_listener(raw: Any) -> None:
        """Give the pooled connection back as it was lent: no LISTEN, not in autocommit.

        A connection returned in autocommit would make the next append's LOCK TABLE fail
        ("can only be used in transaction blocks"); one that cannot be reset is discarded.
        """
        try:
            dbapi = raw.driver_connection
            dbapi.execute(f"UNLISTEN {NOTIFY_CHANNEL}")
            dbapi.autocommit = False
        except Exception:
            raw.invalidate()
        raw.close()

    @contextlib.contextmanager
    def migration_lock(self, engine: Engine) -> Iterator[None]:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": self.MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"),
                             {"k": self.MIGRATION_LOCK_KEY})
                conn.commit()


    def held_lock(self, engine: Engine, name: str) -> HeldLock:
        """A session advisory lock keyed by `name` and the log's schema."""
        return AdvisoryLock(engine, name)


def database_failures() -> tuple[type[Exception], ...]:
    """What a failing database raises through SQLAlchemy or the OS, and through the
    PostgreSQL driver itself (LISTEN uses it directly) once that driver is loaded.

    Before psycopg is imported none of its errors can have been raised, so it is not imported
    here: that took every command opening a SQLite store ~110 ms. Call it where it is needed
    (an `except` clause evaluates its expression only when an exception reaches it).
    """
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return _FAILURES
    return (*_FAILURES, psycopg.Error)


_FAILURES: tuple[type[Exception], ...] = (sa.exc.SQLAlchemyError, OSError)


def _driver(conn: Connection) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


@contextlib.contextmanager
def _driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Driver errors as SQLAlchemy's, as if the statement had gone through the Connection.

    The store tells a retry (IntegrityError) and an outage (OperationalError) apart by
    SQLAlchemy's classes; a lost connection is invalidated so the pool does not hand it out.
    """
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        lost = conn.dialect.is_disconnect(exc, _driver(conn), None)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi_error,
                                         connection_invalidated=lost) from exc


def dialect_for(engine: Engine) -> StoreDialect:
    if engine.dialect.name not in _DIALECTS:
        raise ValueError(f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL")
    return _DIALECTS[engine.dialect.name]()


@functools.cache
def dialect_named(name: str) -> StoreDialect:
    """A shared store dialect for SQLAlchemy's dialect `name`, for hooks that need no engine
    (a column type's); the generic one for another database."""
    return _DIALECTS.get(name, StoreDialect)()


_DIALECTS: dict[str, type[StoreDialect]] = {SQLiteDialect.name: SQLiteDialect,
                                            PostgresDialect.name: PostgresDialect}


