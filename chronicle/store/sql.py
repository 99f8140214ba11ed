"""The event store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Dialect differences (locks, notifications, triggers) live in `dialects.py`; this module is
the portable algorithm: lock, check idempotency, check the stream version, chain, insert.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from chronicle import retrying
from chronicle.store import migrate
from chronicle.store.appendconn import AppendConnection, holds_connections
from chronicle.store.contract import ANY_VERSION, EventStore, StreamAppend
from chronicle.store.dialects import (
    COPY_MIN_ROWS,
    SQLITE_STATE_STREAMS,
    WRITE_OPTION,
    StoreDialect,
    Unheld,
    parse_append_state,
    retried_if_lost,
)
from chronicle.store.engine import create_store_engine, mask_url
from chronicle.store.hashing import (
    GENESIS_HASH,
    KeyMismatch,
    chain_key_from_env,
    event_texts,
    genesis_hash,
    key_for_log,
    stream_hashes,
)
from chronicle.store.jsondecode import loads as loads_json
from chronicle.store.records import (
    ConcurrencyError,
    EventIdConflict,
    EventUnreadable,
    NewEvent,
    NoSuchLog,
    StoredEvent,
    StoreError,
    StoreUnavailable,
    VerifyReport,
)
from chronicle.store.schema import events_table as T
from chronicle.store.statements import (
    APPEND_STATE,
    READ_ALL,
    RECORDED_AT,
    SELECT_BY_EVENT_IDS,
    STREAM_VERSIONS,
    InsertPlan,
    ReplayedEvent,
    ReplayPlan,
)
from chronicle.store.upcasting import Upcasters, default_upcasters
from chronicle.store.verification import verify_log

log = logging.getLogger(__name__)
R = TypeVar("R")
LOCKED_RETRIES = 20
IN_CHUNK = 2000          # ids or stream ids per IN (...) list: far below any driver's limit
ONE_CALL_MAX_EVENTS = COPY_MIN_ROWS  # larger appends go faster by COPY than through the function
Encoded = list[tuple[NewEvent, str, str]]
DATABASE_CALL_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError)


class _Careful(Exception):
    """The fast path met what only the careful path may decide (see `_append_all`)."""


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def run_write(engine: Engine, work: Callable[[Connection], R], url: str | None = None, *,
              idempotent: bool = False, autocommit: bool = False) -> R:
    """Run `work` in a write transaction (BEGIN IMMEDIATE on SQLite), or with `autocommit`
    in none: each of its statements is then its own transaction.

    SQLite's rare lock time-outs are retried rather than shown to the user; so is, once, an
    `idempotent` work whose pooled connection turned out dead (the pool checks only
    connections idle for a while). A database that cannot be reached raises StoreUnavailable
    naming the (masked) URL.
    """
    where = url or mask_url(str(engine.url))
    options: dict[str, Any] = {WRITE_OPTION: True}
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"

    def attempt() -> R:
        with retried_if_lost() if idempotent else nullcontext(), engine.connect() as plain:
            conn = plain.execution_options(**options)
            with conn.begin():
                return work(conn)

    try:    # the common case, without building and running the retry policies (~70 µs)
        return attempt()
    except DATABASE_CALL_ERRORS as exc:
        if not (_busy(exc) or _lost(exc)):
            raise StoreUnavailable(where, _reason(exc)) from exc
        failed: list[BaseException] = [exc]

    def replay_then_attempt() -> R:
        """The policies see the first attempt's failure as theirs, then attempt again."""
        if failed:
            raise failed.pop()
        return attempt()

    def lost(state: retrying.RetryCallState) -> None:
        log.info("connection to %s lost (%s): retrying the write on a new one",
                 where, _reason(retrying.failure(state)))

    while_busy = retrying.policy(
        retry=retrying.retry_if_error(_busy), stop=retrying.give_up_after(LOCKED_RETRIES),
        wait=retrying.exponential(0.01, 1.0), on_retry=_busy_again)
    once_if_lost = retrying.policy(
        retry=retrying.retry_if_error(_lost), stop=retrying.give_up_after(2 if idempotent else 1),
        wait=retrying.NO_WAIT, on_retry=lost)
    try:
        result: R = once_if_lost(while_busy, replay_then_attempt)
    except DATABASE_CALL_ERRORS as exc:
        raise StoreUnavailable(where, _reason(exc)) from exc
    return result


def _unreadable(position: int, type_: str, schema_version: int, exc: Exception
                ) -> EventUnreadable:
    reason = str(exc).strip().splitlines()
    return EventUnreadable(position, f"{type_} version {schema_version} cannot be upcast: "
                           f"{reason[0] if reason else type(exc).__name__}")


def _busy(exc: BaseException) -> bool:
    """SQLite's lock time-out: another writer held the database for longer than it waits."""
    return isinstance(exc, DATABASE_CALL_ERRORS) and "database is locked" in str(exc)


def _lost(exc: BaseException) -> bool:
    """A pooled connection found dead while in use (the database restarted or dropped it)."""
    return isinstance(exc, DATABASE_CALL_ERRORS) and exc.connection_invalidated


def _busy_again(state: retrying.RetryCallState) -> None:
    log.debug("database busy, retrying write (attempt %d)", state.attempt_number)


class SqlEventStore(EventStore):
    """The production store. Build it with `open_store(url)`."""

    def __init__(self, engine: Engine, dialect: StoreDialect, upcasters: Upcasters | None,
                 chain_key: bytes | None = None) -> None:
        self.engine = engine
        self.dialect = dialect
        self._upcasters = upcasters   # None: the registered application upcasters, at first read
        self.chain_key = chain_key
        self._log_key: tuple[bytes | None] | None = None   # resolved once the log has a row
        self.url = mask_url(engine.url.render_as_string(hide_password=False))
        self._insert = InsertPlan(engine.dialect)
        self._replay = ReplayPlan(engine.dialect)
        self._held = AppendConnection(engine) if holds_connections(engine) else None

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A read transaction; an unreachable database becomes StoreUnavailable."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise StoreUnavailable(self.url, _reason(exc)) from exc
        except ValueError as exc:   # a column the database returned that cannot be read
            raise StoreError(f"a row of the log cannot be read ({exc}): run `chronicle verify` "
                             "to find it") from exc

    def check_present(self) -> None:
        """StoreUnavailable if the database was removed under us (a deleted SQLite file would
        otherwise keep taking writes through open connections, into a file no one sees)."""
        gone = self.dialect.missing(self.engine)
        if gone is not None:
            raise StoreUnavailable(self.url, gone)

    def _write(self, work: Callable[[Connection], R]) -> R:
        """Appends may be retried: a retry of a committed one finds its event ids stored."""
        return run_write(self.engine, work, self.url, idempotent=True)

    # -- append ---------------------------------------------------------------------------

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int
               ) -> list[int]:
        """`append_streams` of one append; on a held SQLite connection in a log of known mode
        (every append but a store's first), straight to `_append_stream_held`: the general
        path's lists of appends, dispatch and closures were a fifth of a one-event append."""
        held, log_key = self._held, self._log_key
        if held is None or log_key is None or not events:
            return self.append_streams([StreamAppend(stream_id, events, expected_version)])[0]
        enc = event_texts(events)
        if len(events) > 1:
            self._check_new([e.event_id.int for e in events])
        else:       # one id cannot come twice
            self.check_present()
        try:
            return held.run(self._append_stream_held, stream_id, enc, expected_version,
                            log_key[0])
        except (sqlite3.Error, _Careful) as exc:
            append = StreamAppend(stream_id, events, expected_version)
            return self._held_failed(exc, [(append, enc)])[0]

    def _check_new(self, ids: list[int]) -> None:
        """StoreUnavailable if the database is gone, ValueError if an id comes twice."""
        self.check_present()
        if len(ids) > 1 and len(set(ids)) != len(ids):   # a UUID's hash is Python's: ints
            raise ValueError("an append carries the same event id twice")

    def append_streams(self, appends: Sequence[StreamAppend]) -> list[list[int]]:
        encoded = [(a, event_texts(a.events)) for a in appends]
        ids = [e.event_id.int for a in appends for e in a.events]
        self._check_new(ids)
        if not ids:
            return [[] for _ in appends]
        try:
            streams = [a.stream_id for a, enc in encoded if enc]
            # The log's mode: known after this store's first append, read once before it.
            key = self._log_key[0] if self._log_key is not None else self.log_key()
            if (key is None and self.dialect.appends_in_one_call  # the function hashes plainly
                    and len(ids) < ONE_CALL_MAX_EVENTS
                    and len(set(streams)) == len(streams)):
                return self._append_in_one_call(encoded)
            if self.dialect.appends_on_driver and len(streams) <= SQLITE_STATE_STREAMS:
                return self._append_on_driver(encoded)
            if self._log_key is not None:
                with suppress(Unheld):
                    return self._append_rows_held(encoded, self._log_key[0])
            return self._write(lambda conn: self._append_all(conn, encoded, careful=False))
        except (sa.exc.IntegrityError, _Careful):
            return self._careful(encoded)

    def _careful(self, encoded: list[tuple[StreamAppend, Encoded]]) -> list[list[int]]:
        """An event id is already stored (a retry) or a stream moved (a retry or a
        conflict): the append again, with the idempotency check first."""
        return self._write(lambda conn: self._append_all(conn, encoded, careful=True))

    def _held_failed(self, exc: Exception, encoded: list[tuple[StreamAppend, Encoded]]
                     ) -> list[list[int]]:
        """Where an append the held connection refused goes (`run` rolled it back): a stored
        id or a moved stream to the careful path, any other driver error to `_write`, which
        retries a busy database and names an unreachable one."""
        if not isinstance(exc, sqlite3.IntegrityError | _Careful):
            try:
                return self._write(lambda c: self._append_all(c, encoded, careful=False))
            except (sa.exc.IntegrityError, _Careful):
                pass
        return self._careful(encoded)

    def _append_in_one_call(self, encoded: list[tuple[StreamAppend, Encoded]]
                            ) -> list[list[int]]:
        """The fast path as one statement (see chronicle/store/pgappend.py).

        Raises _Careful when a stream moved, IntegrityError when an event id is stored: both
        send the caller to the careful path, as `_append_all`'s fast path does.
        """
        live = [(a, enc) for a, enc in encoded if enc]
        streams = [a.stream_id for a, _ in live]
        expected = [a.expected_version for a, _ in live]
        owner = [index for index, (_, enc) in enumerate(live, start=1) for _ in enc]
        events = [(e.event_id, e.type, e.schema_version, payload, metadata)
                  for _, enc in live for e, payload, metadata in enc]
        now = dt.datetime.now(dt.UTC)
        try:
            first = self.dialect.append_held(now, streams, expected, owner, events)
        except Unheld:
            first = run_write(
                self.engine,
                lambda conn: self.dialect.append_in_one_call(conn, now, streams, expected, owner,
                                                             events),
                self.url, idempotent=True, autocommit=True)
        if first is None:
            raise _Careful
        self._log_key = (None,)   # the function appends to plain logs only
        results = []
        for _, enc in encoded:
            results.append(list(range(first, first + len(enc))))
            first += len(enc)
        return results

    def _append_rows_held(self, encoded: list[tuple[StreamAppend, Encoded]], key: bytes | None
                          ) -> list[list[int]]:
        """`_append_all`'s fast path on the connection the dialect holds (PostgreSQL's, see
        chronicle/store/pgconn.py) in a log of known mode; Unheld if it has none free."""
        streams = sorted({a.stream_id for a, enc in encoded if enc})
        return self.dialect.append_rows_held(
            streams, sum(len(enc) for _, enc in encoded), self._insert.sql, self._insert.names,
            lambda state: self._rows(encoded, parse_append_state(state), key, {},
                                     careful=False)[:2])

    def _append_on_driver(self, encoded: list[tuple[StreamAppend, Encoded]]
                          ) -> list[list[int]]:
        """The fast path in a transaction on the driver (SQLite): SQLAlchemy's transaction
        bookkeeping costs more than a one-event append's own statements.

        A database error rolls it back and hands the append to `_write`, which retries a
        busy database and names an unreachable one; a retry or a moved stream goes to the
        careful path, as from `_write`'s fast path.
        """
        if self._held is not None and self._log_key is not None:
            try:
                return self._held.run(self._append_held, encoded, self._log_key[0])
            except (sqlite3.Error, _Careful) as exc:
                return self._held_failed(exc, encoded)
        try:
            with self.engine.connect() as conn, self.dialect.driver_transaction(conn):
                return self._append_all(conn, encoded, careful=False)
        except (sa.exc.IntegrityError, _Careful):
            raise
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            return self._write(lambda c: self._append_all(c, encoded, careful=False))

    def _append_held(self, cursor: sqlite3.Cursor,
                     encoded: list[tuple[StreamAppend, Encoded]], key: bytes | None
                     ) -> list[list[int]]:
        """`_append_all`'s fast path on the held connection, in its write transaction: the
        state query and the INSERT straight on the driver, with statements it caches."""
        assert self._held is not None
        known = self._held.state(cursor, [a.stream_id for a, enc in encoded if enc])
        rows, results, recorded_at = self._rows(
            encoded, (known.versions, known.head, known.prev_hash, known.head_at), key, {},
            careful=False)   # updates known.versions
        cursor.executemany(self._insert.sql, rows)
        known.moved(rows[-1][0], rows[-1][-1], recorded_at)
        return results

    def _append_stream_held(self, cursor: sqlite3.Cursor, stream_id: str, enc: Encoded,
                            expected_version: int, key: bytes | None) -> list[int]:
        """`_append_held` of one stream's append, in straight lines (see `append`)."""
        assert self._held is not None
        known = self._held.state(cursor, (stream_id,))
        version, head = known.versions[stream_id], known.head
        if expected_version not in (ANY_VERSION, version):
            raise _Careful      # a retry or a conflict: the careful path tells them apart
        recorded_at, when = self._recorded_at(known.head_at)
        rows: list[tuple[Any, ...]] = []
        last_hash = self._chain(rows, stream_id, enc, head, version, when,
                                known.prev_hash if head else genesis_hash(key), key)
        cursor.executemany(self._insert.sql, rows)
        known.versions[stream_id] = version + len(enc)
        known.moved(head + len(enc), last_hash, recorded_at)
        return list(range(head + 1, head + len(enc) + 1))

    def _append(self, conn: Connection, stream_id: str, encoded: Encoded,
                expected_version: int) -> list[int]:
        """One stream's append inside a transaction the caller opened (tests hold it open)."""
        append = StreamAppend(stream_id, [e for e, _, _ in encoded], expected_version)
        return self._append_all(conn, [(append, encoded)], careful=True)[0]

    def _append_all(self, conn: Connection, encoded: list[tuple[StreamAppend, Encoded]], *,
                    careful: bool) -> list[list[int]]:
        """Check and insert every append in one round of statements, whatever their number.

        The fast path (`careful=False`) skips the idempotency query: the unique index on
        event_id catches a retry at insert time and the caller re-runs carefully, as it does
        on a version mismatch (a retry or a conflict). So the fast path commits only appends
        that are all new, which is what its early announcement (`locked_state`) says.
        """
        streams = sorted({a.stream_id for a, enc in encoded if enc})
        if careful:
            self.dialect.lock_for_append(conn)
            existing = self._existing(conn, [e.event_id for _, enc in encoded for e, _, _ in enc])
            state = self._state_rows(conn, streams)
        else:
            existing = {}
            adding = sum(len(enc) for _, enc in encoded)
            state = self.dialect.locked_state(
                conn, streams, lambda c: self._state_rows(c, streams), adding)
        key = self._key_for_append(conn)
        rows, results, _ = self._rows(encoded, parse_append_state(state), key, existing,
                                      careful=careful)
        if rows:
            self.dialect.insert_appended(conn, self._insert.sql, self._insert.names, rows)
            self._log_key = (key,)   # the log now holds a row in this mode
            if careful:     # the fast path's locked_state announced it
                self.dialect.after_append(conn, rows[-1][0])
        return results

    def _rows(self, encoded: list[tuple[StreamAppend, Encoded]],
              state: tuple[dict[str, int], int, str, dt.datetime | None], key: bytes | None,
              existing: dict[uuid.UUID, Row[Any]], *, careful: bool
              ) -> tuple[list[tuple[Any, ...]], list[list[int]], dt.datetime]:
        """The rows to insert after the append `state` (`parse_append_state`), chained in the
        log's mode, each append's positions (stored ones for a retry) and the rows' recorded
        time.

        The streams' versions in `state` are updated in place to the versions after it."""
        versions, head, prev_hash, head_at = state
        if head == 0:
            prev_hash = genesis_hash(key)
        recorded_at, when = self._recorded_at(head_at)
        rows: list[tuple[Any, ...]] = []
        results: list[list[int]] = []
        for append, enc in encoded:
            if not enc:
                results.append([])
                continue
            replay = self._retry_of(append, enc, existing, versions, careful=careful)
            if replay is not None:
                results.append(replay)
                continue
            actual = versions.get(append.stream_id, 0)
            prev_hash = self._chain(rows, append.stream_id, enc, head, actual, when, prev_hash,
                                    key)
            versions[append.stream_id] = actual + len(enc)
            results.append(list(range(head + 1, head + len(enc) + 1)))
            head += len(enc)
        return rows, results, recorded_at

    def _recorded_at(self, head_at: dt.datetime | None
                     ) -> tuple[dt.datetime, tuple[object, str]]:
        """Now, as the rows' time and its texts (`InsertPlan.recorded_at_texts`), but never
        before the head: times along the log stay ordered even if the clock steps back, which
        is what lets `position_at` search by position."""
        now = dt.datetime.now(dt.UTC)
        recorded_at = head_at if head_at is not None and head_at > now else now
        return recorded_at, self._insert.recorded_at_texts(recorded_at)

    def _key_for_append(self, conn: Connection) -> bytes | None:
        """The key this log's chain is hashed with (None: plain), checked against ours.

        A log keeps the mode it was started in: a plain log stays plain when a key is set
        later (`verify` reports it), and a keyed log refuses appends without its key.
        """
        if self._log_key is not None:
            return self._log_key[0]
        first = conn.execute(sa.select(T.c.prev_hash).where(T.c.position == 1)).scalar()
        try:
            key = key_for_log(first, self.chain_key)
        except KeyMismatch as exc:
            raise StoreError(f"cannot use the log at {self.url}: {exc}") from None
        if first is not None:
            self._log_key = (key,)
        return key

    def log_key(self) -> bytes | None:
        """The key this log's rows are hashed with (None: plain); StoreError if we lack it."""
        with self._connection() as conn:
            return self._key_for_append(conn)

    def _chain(self, rows: list[tuple[Any, ...]], stream_id: str, enc: Encoded, head: int,
               version: int, when: tuple[object, str], prev_hash: str,
               key: bytes | None) -> str:
        """Add one stream's rows, each hashed over the one before; returns the last hash.

        `when` is the recorded time as bound and as hashed (`InsertPlan.recorded_at_texts`)."""
        bound_at, hashed_at = when
        bound = self._insert.bound_ids([event.event_id for event, _, _ in enc])
        hashes = stream_hashes(
            prev_hash, head, stream_id, version, hashed_at,
            [(event.event_id, event.type, event.schema_version, payload_json, metadata_json)
             for event, payload_json, metadata_json in enc],
            key)
        # One loop carrying the position and the previous hash: no enumerate, no shifted
        # copy of the hashes, no comprehension's function (a tenth of `_chain` for one event).
        add, position, delta = rows.append, head, version - head
        for (event, payload_json, metadata_json), event_id, hash_ in zip(enc, bound, hashes,
                                                                          strict=True):
            position += 1
            add((position, stream_id, position + delta, event_id, event.type,
                 event.schema_version, bound_at, payload_json, metadata_json, prev_hash, hash_))
            prev_hash = hash_
        return prev_hash

    def _retry_of(self, append: StreamAppend, enc: Encoded,
                  existing: dict[uuid.UUID, Row[Any]], versions: dict[str, int], *,
                  careful: bool) -> list[int] | None:
        """The stored positions if this append already committed; None if it is new.

        Raises ConcurrencyError when it is new and the stream moved past `expected_version`,
        and _Careful on the fast path, which cannot tell the two apart.
        """
        mine = {e.event_id: existing[e.event_id] for e, _, _ in enc
                if e.event_id in existing} if existing else {}
        actual = versions.get(append.stream_id, 0)
        moved = append.expected_version not in (ANY_VERSION, actual)
        if moved and not careful:
            raise _Careful
        if mine:
            return self._replayed(mine, append.stream_id, enc)
        if moved:
            raise ConcurrencyError(append.stream_id, append.expected_version, actual)
        return None

    @staticmethod
    def _existing(conn: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
        found: dict[uuid.UUID, Row[Any]] = {}
        for start in range(0, len(ids), IN_CHUNK):
            rows = conn.execute(SELECT_BY_EVENT_IDS, {"ids": ids[start:start + IN_CHUNK]})
            found.update((row.event_id, row) for row in rows)
        return found

    @staticmethod
    def _replayed(existing: dict[uuid.UUID, Row[Any]], stream_id: str,
                  encoded: list[tuple[NewEvent, str, str]]) -> list[int]:
        """A retry of an append that already committed: same ids, same content, same positions."""
        positions = []
        for event, payload_json, metadata_json in encoded:
            row = existing.get(event.event_id)
            if row is None:
                raise EventIdConflict(
                    next(iter(existing)), next(iter(existing.values())).position,
                    "it was appended together with other events than these",
                )
            theirs = (row.stream_id, row.type, row.schema_version, row.payload, row.metadata)
            ours = (stream_id, event.type, event.schema_version, payload_json, metadata_json)
            if theirs != ours:
                names = ("stream", "type", "schema version", "payload", "metadata")
                differing = [n for n, a, b in zip(names, theirs, ours, strict=True) if a != b]
                detail = ", ".join(differing) + " differ"
                raise EventIdConflict(event.event_id, row.position, detail)
            positions.append(row.position)
        return positions

    @staticmethod
    def _stream_version(conn: Connection, stream_id: str) -> int:
        query = sa.select(sa.func.max(T.c.stream_version)).where(T.c.stream_id == stream_id)
        return conn.execute(query).scalar() or 0

    @staticmethod
    def _state_rows(conn: Connection, streams: Sequence[str]) -> list[tuple[Any, ...]]:
        """The append state's rows (see APPEND_STATE), in one query per chunk of streams."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, max(len(streams), 1), IN_CHUNK):
            query = APPEND_STATE if start == 0 else STREAM_VERSIONS
            rows += [tuple(row) for row in
                     conn.execute(query, {"streams": streams[start:start + IN_CHUNK]})]
        return rows

    # -- reads ----------------------------------------------------------------------------

    def _decode(self, row: Sequence[Any]) -> StoredEvent:
        # Unpacked by position (the table's column order): a Row's attribute lookups cost more
        # than the JSON decoding on a replay of millions of events.
        (position, stream_id, stream_version, event_id, type_, schema_version, recorded_at,
         payload_json, metadata_json, prev_hash, hash_) = row
        version, payload = self._upcast(position, type_, schema_version, payload_json)
        return StoredEvent(
            position=position, stream_id=stream_id, stream_version=stream_version,
            event_id=event_id, type=type_, schema_version=version, recorded_at=recorded_at,
            payload=payload, metadata=json.loads(metadata_json), hash=hash_, prev_hash=prev_hash,
        )

    @property
    def upcasters(self) -> Upcasters:
        """Given to `open_store`, else the application's registered ones (chronicle/upcasters.py,
        registered by anything that reads domain events); never silently none."""
        if self._upcasters is None:
            self._upcasters = default_upcasters()
        return self._upcasters

    def _upcast(self, position: int, type_: str, schema_version: int, payload_json: str
                ) -> tuple[int, dict[str, Any]]:
        """The payload at the current schema version; EventUnreadable if it cannot be."""
        upcasters = self._upcasters or self.upcasters   # none registered: an error, not this
        try:
            return upcasters.upcast(type_, schema_version, loads_json(payload_json))
        except Exception as exc:  # an upcaster refusing a payload, whatever it raises
            raise _unreadable(position, type_, schema_version, exc) from exc

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._connection() as conn:
            rows = conn.execute(READ_ALL, {"after": after, "limit": limit})
            return [self._decode(row) for row in rows]

    def read_for_replay(self, after: int = 0, limit: int = 1000) -> list[ReplayedEvent]:
        """`read_all` for projections: metadata is not read, the payload text is kept."""
        with self._connection() as conn:
            result = conn.exec_driver_sql(self._replay.sql, self._replay.params(after, limit))
            rows = result.cursor.fetchall()  # the driver's tuples: no Row per event
            result.close()
        return self._replay_events(rows)

    def _replay_events(self, rows: Sequence[Sequence[Any]]) -> list[ReplayedEvent]:
        """The fetched rows as events, in one loop over local names (a replay decodes millions):
        `_upcast` inlined, payloads decoded by jsondecode (json's values, mostly by orjson),
        and each distinct recorded time (a whole append shares one) converted once."""
        upcast = (self._upcasters or self.upcasters).upcast
        to_uuid, to_time = self._replay.uuid, self._replay.time
        times: dict[Any, dt.datetime] = {}
        events: list[ReplayedEvent] = []
        for (position, stream_id, stream_version, event_id, type_, schema_version, recorded_at,
             payload_json, prev_hash, hash_) in rows:
            try:
                version, payload = upcast(type_, schema_version, loads_json(payload_json))
            except Exception as exc:  # as in _upcast
                raise _unreadable(position, type_, schema_version, exc) from exc
            when = times.get(recorded_at)
            if when is None:
                when = times[recorded_at] = to_time(recorded_at)
            events.append(ReplayedEvent(
                position=position, stream_id=stream_id, stream_version=stream_version,
                event_id=to_uuid(event_id), type=type_, schema_version=version,
                recorded_at=when, payload=payload, metadata={}, hash=hash_, prev_hash=prev_hash,
                payload_json=payload_json if version == schema_version else None))
        return events

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        query = (sa.select(T).where(T.c.stream_id == stream_id)
                 .where(T.c.stream_version > after_version).order_by(T.c.stream_version))
        with self._connection() as conn:
            return [self._decode(row) for row in conn.execute(query)]

    def stream_version(self, stream_id: str) -> int:
        with self._connection() as conn:
            return self._stream_version(conn, stream_id)

    def head(self) -> int:
        with self._connection() as conn:
            return conn.execute(sa.select(sa.func.max(T.c.position))).scalar() or 0

    def head_link(self) -> tuple[int, str]:
        """The last position and its hash (the genesis hash for an empty log): the anchor a
        reader keeps outside the database and later checks with `verify --expect`."""
        query = sa.select(T.c.position, T.c.hash).order_by(T.c.position.desc()).limit(1)
        with self._connection() as conn:
            row = conn.execute(query).first()
        return (row.position, row.hash) if row else (0, GENESIS_HASH)

    def hash_at(self, position: int) -> str | None:
        """The stored hash of the row at `position`, or None when there is no such row."""
        query = sa.select(T.c.hash).where(T.c.position == position)
        with self._connection() as conn:
            return conn.execute(query).scalar()

    def position_at(self, moment: dt.datetime) -> int:
        """The last position recorded at or before `moment`.

        A binary search over positions (about 20 primary-key reads for a million events):
        recorded times never decrease along the log (see `_append_all`), so no index is kept.
        """
        with self._connection() as conn:
            low, high = 0, conn.execute(sa.select(sa.func.max(T.c.position))).scalar() or 0
            while low < high:       # invariant: time(low) <= moment < time(high + 1)
                middle = (low + high + 1) // 2
                if conn.execute(RECORDED_AT, {"position": middle}).scalar_one() <= moment:
                    low = middle
                else:
                    high = middle - 1
            return low

    def find_event(self, event_id: uuid.UUID) -> StoredEvent | None:
        with self._connection() as conn:
            row = conn.execute(sa.select(T).where(T.c.event_id == event_id)).first()
        return self._decode(row) if row else None

    def wait_for_events(self, after: int, timeout: float) -> bool:
        return self.dialect.wait_for_change(self.engine, timeout, lambda: self.head() > after)

    # -- integrity ------------------------------------------------------------------------

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        """Recompute the chain in the log's mode (see chronicle/store/verification.py)."""
        return verify_log(self, progress)

    def close(self) -> None:
        if self._held is not None:
            self._held.close()
        self.engine.dispose()


def open_store(url: str, *, upcasters: Upcasters | None = None, migrate_schema: bool = True,
               create: bool = True) -> SqlEventStore:
    """Connect, create or upgrade the log's schema if needed, and return the store.

    Without `upcasters`, the application's registered ones (chronicle/upcasters.py) from the
    first read on; with none registered, reading raises instead of returning old payloads as
    current ones.

    `create=False` (every command that only reads) refuses a database or a log that does not
    exist yet with NoSuchLog, instead of creating an empty one.
    """
    engine, dialect = create_store_engine(url)
    store = SqlEventStore(engine, dialect, upcasters, chain_key_from_env())
    try:
        if not create:
            gone = dialect.missing(engine)
            if gone is not None:
                raise NoSuchLog(store.url, gone)
        current = (migrate.current_revision(engine) if migrate_schema or not create
                   else migrate.HEAD_REVISION)
        if current is None and not create:
            raise NoSuchLog(store.url, "the database holds no chronicle tables")
        if migrate_schema and current != migrate.HEAD_REVISION:
            before, after = migrate.upgrade(engine, dialect)
            log.info("database schema upgraded from %s to %s at %s",
                     before or "empty", after, store.url)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        engine.dispose()
        raise StoreUnavailable(store.url, _reason(exc)) from exc
    except NoSuchLog:
        engine.dispose()
        raise
    return store
