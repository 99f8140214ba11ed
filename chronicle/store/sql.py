"""The event store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Dialect differences (locks, notifications, triggers) live in `dialects.py`; this module is
the portable algorithm: lock, check idempotency, check the stream version, chain, insert.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from chronicle.store import migrate
from chronicle.store.contract import ANY_VERSION, EventStore, StreamAppend
from chronicle.store.dialects import WRITE_OPTION, StoreDialect
from chronicle.store.engine import create_store_engine, mask_url
from chronicle.store.hashing import GENESIS_HASH, canonical_json, chain_hash
from chronicle.store.records import (
    ConcurrencyError,
    EventIdConflict,
    NewEvent,
    StoredEvent,
    StoreUnavailable,
    VerifyReport,
)
from chronicle.store.schema import events_table as T
from chronicle.store.upcasting import NO_UPCASTERS, Upcasters

log = logging.getLogger(__name__)
R = TypeVar("R")
LOCKED_RETRIES = 20


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def run_write(engine: Engine, work: Callable[[Connection], R], url: str | None = None) -> R:
    """Run `work` in a write transaction (BEGIN IMMEDIATE on SQLite).

    SQLite's rare lock time-outs are retried rather than shown to the user; a database that
    cannot be reached raises StoreUnavailable naming the (masked) URL.
    """
    for attempt in range(LOCKED_RETRIES):
        try:
            with engine.connect() as plain:
                conn = plain.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    return work(conn)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if "database is locked" not in str(exc) or attempt == LOCKED_RETRIES - 1:
                raise StoreUnavailable(url or mask_url(str(engine.url)), _reason(exc)) from exc
            log.debug("database busy, retrying write (attempt %d)", attempt + 1)
            time.sleep(min(0.01 * 2**attempt, 1.0))
    raise AssertionError("unreachable")


class SqlEventStore(EventStore):
    """The production store. Build it with `open_store(url)`."""

    def __init__(self, engine: Engine, dialect: StoreDialect, upcasters: Upcasters) -> None:
        self.engine = engine
        self.dialect = dialect
        self.upcasters = upcasters
        self.url = mask_url(engine.url.render_as_string(hide_password=False))

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A read transaction; an unreachable database becomes StoreUnavailable."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise StoreUnavailable(self.url, _reason(exc)) from exc

    def _write(self, work: Callable[[Connection], R]) -> R:
        def locked(conn: Connection) -> R:
            self.dialect.lock_for_append(conn)
            return work(conn)

        return run_write(self.engine, locked, self.url)

    # -- append ---------------------------------------------------------------------------

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int
               ) -> list[int]:
        return self.append_streams([StreamAppend(stream_id, events, expected_version)])[0]

    def append_streams(self, appends: Sequence[StreamAppend]) -> list[list[int]]:
        encoded = [
            (a, [(e, canonical_json(e.payload), canonical_json(e.metadata)) for e in a.events])
            for a in appends
        ]
        ids = [e.event_id for a in appends for e in a.events]
        if len(set(ids)) != len(ids):
            raise ValueError("an append carries the same event id twice")
        if not ids:
            return [[] for _ in appends]

        def work(conn: Connection) -> list[list[int]]:
            return [self._append(conn, a.stream_id, rows, a.expected_version) if rows else []
                    for a, rows in encoded]

        return self._write(work)

    def _append(self, conn: Connection, stream_id: str,
                encoded: list[tuple[NewEvent, str, str]], expected_version: int) -> list[int]:
        existing = self._existing(conn, [e.event_id for e, _, _ in encoded])
        if existing:
            return self._replayed(existing, stream_id, encoded)
        actual = self._stream_version(conn, stream_id)
        if expected_version not in (ANY_VERSION, actual):
            raise ConcurrencyError(stream_id, expected_version, actual)
        head, prev_hash = self._head_row(conn)
        recorded_at = dt.datetime.now(dt.UTC)
        rows: list[dict[str, Any]] = []
        for offset, (event, payload_json, metadata_json) in enumerate(encoded, start=1):
            row = {
                "position": head + offset,
                "stream_id": stream_id,
                "stream_version": actual + offset,
                "event_id": event.event_id,
                "type": event.type,
                "schema_version": event.schema_version,
                "recorded_at": recorded_at,
                "payload": payload_json,
                "metadata": metadata_json,
                "prev_hash": prev_hash,
            }
            row["hash"] = prev_hash = self._hash_of(row)
            rows.append(row)
        conn.execute(T.insert(), rows)
        self.dialect.after_append(conn, rows[-1]["position"])
        return [row["position"] for row in rows]

    @staticmethod
    def _hash_of(row: dict[str, Any]) -> str:
        return chain_hash(
            prev_hash=row["prev_hash"], position=row["position"], stream_id=row["stream_id"],
            stream_version=row["stream_version"], event_id=row["event_id"], type_=row["type"],
            schema_version=row["schema_version"], recorded_at=row["recorded_at"],
            payload_json=row["payload"], metadata_json=row["metadata"],
        )

    @staticmethod
    def _existing(conn: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
        rows = conn.execute(sa.select(T).where(T.c.event_id.in_(ids))).all()
        return {row.event_id: row for row in rows}

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
    def _head_row(conn: Connection) -> tuple[int, str]:
        query = sa.select(T.c.position, T.c.hash).order_by(T.c.position.desc()).limit(1)
        row = conn.execute(query).first()
        return (row.position, row.hash) if row else (0, GENESIS_HASH)

    # -- reads ----------------------------------------------------------------------------

    def _decode(self, row: Row[Any]) -> StoredEvent:
        version, payload = self.upcasters.upcast(row.type, row.schema_version,
                                                 json.loads(row.payload))
        return StoredEvent(
            position=row.position, stream_id=row.stream_id, stream_version=row.stream_version,
            event_id=row.event_id, type=row.type, schema_version=version,
            recorded_at=row.recorded_at, payload=payload, metadata=json.loads(row.metadata),
            hash=row.hash, prev_hash=row.prev_hash,
        )

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        query = sa.select(T).where(T.c.position > after).order_by(T.c.position).limit(limit)
        with self._connection() as conn:
            return [self._decode(row) for row in conn.execute(query)]

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

    def position_at(self, moment: object) -> int:
        query = sa.select(sa.func.max(T.c.position)).where(T.c.recorded_at <= moment)
        with self._connection() as conn:
            return conn.execute(query).scalar() or 0

    def find_event(self, event_id: uuid.UUID) -> StoredEvent | None:
        with self._connection() as conn:
            row = conn.execute(sa.select(T).where(T.c.event_id == event_id)).first()
        return self._decode(row) if row else None

    def wait_for_events(self, after: int, timeout: float) -> bool:
        return self.dialect.wait_for_change(self.engine, timeout, lambda: self.head() > after)

    # -- integrity ------------------------------------------------------------------------

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        head = self.head()
        prev_hash, expected_position, checked = GENESIS_HASH, 1, 0
        after, page = 0, 5000
        while True:
            query = sa.select(T).where(T.c.position > after).order_by(T.c.position).limit(page)
            with self._connection() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                problem = self._check_row(row, expected_position, prev_hash)
                if problem:
                    return VerifyReport(checked=checked, head=head,
                                        first_bad_position=row.position, reason=problem)
                prev_hash, expected_position, checked = row.hash, row.position + 1, checked + 1
            if progress:
                progress(checked)
            if len(rows) < page:
                return VerifyReport(checked=checked, head=head)
            after = rows[-1].position

    def _check_row(self, row: Row[Any], expected_position: int, prev_hash: str) -> str | None:
        if row.position != expected_position:
            return f"position {expected_position} is missing (next row is {row.position})"
        if row.prev_hash != prev_hash:
            return "its prev_hash does not match the hash of the row before"
        fields = dict(row._mapping)
        if self._hash_of(fields) != row.hash:
            return "its content does not match its hash (the row was edited)"
        return None

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, upcasters: Upcasters = NO_UPCASTERS, migrate_schema: bool = True
               ) -> SqlEventStore:
    """Connect, create or upgrade the log's schema if needed, and return the store."""
    engine, dialect = create_store_engine(url)
    store = SqlEventStore(engine, dialect, upcasters)
    if migrate_schema:
        try:
            if migrate.current_revision(engine) != migrate.head_revision():
                before, after = migrate.upgrade(engine, dialect)
                log.info("database schema upgraded from %s to %s at %s",
                         before or "empty", after, store.url)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            engine.dispose()
            raise StoreUnavailable(store.url, _reason(exc)) from exc
    return store
