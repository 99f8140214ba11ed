"""The writers compared on appends: our store, eventsourcing's recorder, the raw driver.

Each gets the same calls (lists of pre-encoded events of one stream), turns them into its own
argument shape before the clock starts (`prepare`), then writes one call per transaction.
On SQLite every client runs in WAL mode with synchronous=FULL, checked after opening.
"""

from __future__ import annotations

import abc
import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg

from chronicle.bench.payloads import Encoded
from chronicle.bench.sites import Place
from chronicle.store import SqlEventStore, open_store
from chronicle.store.hashing import GENESIS_HASH
from chronicle.store.schema import TABLE_NAME
from chronicle.store.upcasting import NO_UPCASTERS
from chronicle.upcasters import UPCASTERS

Call = Sequence[Encoded]
SQLITE_FULL = 2
COLUMNS = ("position", "stream_id", "stream_version", "event_id", "type", "schema_version",
           "recorded_at", "payload", "metadata", "prev_hash", "hash")


def _check_full_sync(conn: sqlite3.Connection, who: str) -> None:
    level = conn.execute("PRAGMA synchronous").fetchone()[0]
    if level != SQLITE_FULL:
        raise RuntimeError(f"{who}: SQLite synchronous is {level}, expected FULL (2)")


class Contender(abc.ABC):
    """One way of appending events, opened on an empty database."""

    name: str

    @abc.abstractmethod
    def open(self, place: Place) -> None:
        """Connect and create the schema (not timed)."""

    @abc.abstractmethod
    def prepare(self, calls: Sequence[Call]) -> list[Any]:
        """Each call in this contender's argument shape (not timed)."""

    @abc.abstractmethod
    def write(self, call: Any) -> None:
        """Append one prepared call in one committed transaction (timed)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


class OurStore(Contender):
    name = "chronicle"

    def open(self, place: Place) -> None:
        self.store: SqlEventStore = open_store(place.url, upcasters=UPCASTERS)
        if place.kind == "sqlite":
            raw = self.store.engine.raw_connection()
            try:
                _check_full_sync(raw.driver_connection, "chronicle")  # type: ignore[arg-type]
            finally:
                raw.close()

    def prepare(self, calls: Sequence[Call]) -> list[Any]:
        return [(call[0].source.stream_id, [e.source.event for e in call],
                 call[0].source.stream_version - 1) for call in calls]

    def write(self, call: Any) -> None:
        self.store.append(*call)

    def close(self) -> None:
        self.store.close()


class EventsourcingRecorder(Contender):
    """eventsourcing's ApplicationRecorder from its SQLite or PostgreSQL factory, text ids."""

    name = "eventsourcing"

    def open(self, place: Place) -> None:
        from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory

        env = {"ORIGINATOR_ID_TYPE": "text", "CREATE_TABLE": "y"}
        if place.kind == "sqlite":
            env |= {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(place.path)}
        else:
            kw = place.psycopg_kwargs()
            env |= {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": kw["dbname"],
                    "POSTGRES_HOST": kw["host"], "POSTGRES_PORT": str(kw["port"]),
                    "POSTGRES_USER": kw["user"], "POSTGRES_PASSWORD": kw["password"],
                    "POSTGRES_SCHEMA": place.schema or ""}
        factory: Any = InfrastructureFactory.construct(env)  # SQLite's has a datastore
        self.factory = factory
        self.recorder: ApplicationRecorder = self.factory.application_recorder()
        if place.kind == "sqlite":
            with self.factory.datastore.get_connection(commit=False) as conn:
                _check_full_sync(conn._sqlite_conn, "eventsourcing")

    def prepare(self, calls: Sequence[Call]) -> list[Any]:
        from eventsourcing.persistence import StoredEvent

        return [[StoredEvent(originator_id=e.source.stream_id,
                             originator_version=e.source.stream_version,
                             topic=e.source.event.type, state=e.state) for e in call]
                for call in calls]

    def write(self, call: Any) -> None:
        self.recorder.insert_events(call)

    def close(self) -> None:
        self.factory.close()


class _RawWriter(Contender):
    """The ceiling: the driver inserting our rows into an identical table, nothing else.

    No lock, no checks, no hashing (a constant stands in): positions come from a counter.
    """

    def __init__(self) -> None:
        self.position = 0

    def _create_table(self, place: Place) -> None:
        """The very table our store writes, made by our migrations (indexes included)."""
        open_store(place.url, upcasters=NO_UPCASTERS).close()

    def prepare(self, calls: Sequence[Call]) -> list[Any]:
        return [[(e.source.stream_id, e.source.stream_version, e.source.event.event_id,
                  e.source.event.type, e.source.event.schema_version, e.payload_json,
                  e.metadata_json) for e in call] for call in calls]

    def rows(self, call: Any, recorded_at: object) -> list[tuple[Any, ...]]:
        first = self.position + 1
        self.position += len(call)
        return [(first + i, s, v, self._uuid(eid), t, sv, recorded_at, p, m, GENESIS_HASH,
                 GENESIS_HASH) for i, (s, v, eid, t, sv, p, m) in enumerate(call)]

    @staticmethod
    def _uuid(value: Any) -> Any:
        return value


class RawSqlite(_RawWriter):
    name = "sqlite3 executemany"

    def open(self, place: Place) -> None:
        self._create_table(place)
        self.conn = sqlite3.connect(str(place.path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        _check_full_sync(self.conn, "sqlite3")
        marks = ",".join("?" * len(COLUMNS))
        self.sql = f"INSERT INTO {TABLE_NAME} ({','.join(COLUMNS)}) VALUES ({marks})"

    @staticmethod
    def _uuid(value: Any) -> Any:
        return value.hex          # how SQLAlchemy's Uuid type stores it on SQLite

    def write(self, call: Any) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.sql, self.rows(call, now))
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class RawPsycopg(_RawWriter):
    name = "psycopg executemany"

    def open(self, place: Place) -> None:
        self._create_table(place)
        self.conn = psycopg.connect(**place.psycopg_kwargs())
        marks = ",".join(["%s"] * len(COLUMNS))
        self.sql = f"INSERT INTO {TABLE_NAME} ({','.join(COLUMNS)}) VALUES ({marks})"

    def write(self, call: Any) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(self.sql, self.rows(call, dt.datetime.now(dt.UTC)))

    def close(self) -> None:
        self.conn.close()


class RawCopy(RawPsycopg):
    name = "psycopg COPY"

    def write(self, call: Any) -> None:
        rows = self.rows(call, dt.datetime.now(dt.UTC))
        with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(
                f"COPY {TABLE_NAME} ({','.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def contenders_for(kind: str, workload: str = "batch") -> list[type[Contender]]:
    """Ours first, then the peer, then the ceilings.

    COPY is a ceiling for batches only: for one row it is executemany with extra steps, and
    at 10,000 one-row transactions per run it would cost the full run half a minute.
    """
    if kind == "sqlite":
        return [OurStore, EventsourcingRecorder, RawSqlite]
    copy = [RawCopy] if workload == "batch" else []
    return [OurStore, EventsourcingRecorder, RawPsycopg, *copy]
