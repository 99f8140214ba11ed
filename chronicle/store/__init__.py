"""The append-only event log: one contract, one SQL implementation for SQLite and PostgreSQL."""

from chronicle.store.contract import ANY_VERSION, EventStore, StreamAppend
from chronicle.store.records import (
    ConcurrencyError,
    EventIdConflict,
    EventUnreadable,
    InvalidDatabaseUrl,
    NewEvent,
    NoSuchLog,
    StoredEvent,
    StoreError,
    StoreUnavailable,
    VerifyReport,
    new_event_id,
)
from chronicle.store.sql import SqlEventStore, open_store
from chronicle.store.upcasting import Upcasters

__all__ = [
    "ANY_VERSION",
    "ConcurrencyError",
    "EventIdConflict",
    "EventStore",
    "EventUnreadable",
    "InvalidDatabaseUrl",
    "NewEvent",
    "NoSuchLog",
    "SqlEventStore",
    "StoreError",
    "StoreUnavailable",
    "StoredEvent",
    "StreamAppend",
    "Upcasters",
    "VerifyReport",
    "new_event_id",
    "open_store",
]
