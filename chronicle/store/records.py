"""The values that cross the store's boundary: events to append, events read back, errors.

The store knows events only as typed rows with JSON payloads; it never imports the domain.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from uuid6 import uuid7

TABLE_NAME = "chronicle_events"
"""The log's table (declared in schema.py; the dialects' DDL and statements name it too)."""


def new_event_id() -> uuid.UUID:
    """Time-ordered (UUIDv7) ids keep the unique index append-friendly, unlike random UUIDv4."""
    return uuid7()


@dataclass(frozen=True, kw_only=True, slots=True)
class NewEvent:
    """An event to append. Re-sending the same `event_id` makes a retry idempotent."""

    type: str
    payload: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=new_event_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredEvent:
    """An event as the log holds it, after upcasting to the current schema version."""

    position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    type: str
    schema_version: int
    recorded_at: dt.datetime
    payload: dict[str, Any]
    metadata: dict[str, Any]
    hash: str
    prev_hash: str


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifyReport:
    """Outcome of recomputing the hash chain; `first_bad_position` is None when intact."""

    checked: int
    head: int
    first_bad_position: int | None = None
    reason: str | None = None
    mode: str = "plain"
    """"keyed" (HMAC with CHRONICLE_LOG_KEY: rewriting the chain needs the key) or "plain"."""

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None


class StoreError(Exception):
    """Base of every error the event store raises on purpose."""


class ConcurrencyError(StoreError):
    """Another writer appended to the stream since the caller read it; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r}: expected version {expected}, but it is at version {actual}"
        )


class EventIdConflict(StoreError):
    """An event id already in the log was re-sent with different content."""

    def __init__(self, event_id: uuid.UUID, position: int, detail: str) -> None:
        self.event_id = event_id
        self.position = position
        super().__init__(
            f"event {event_id} is already at position {position} with different content ({detail})"
        )


class StoreUnavailable(StoreError):
    """The database cannot be reached; the message names the URL with its password hidden."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the database at {url}: {reason}")


class EventUnreadable(StoreError):
    """A stored row whose payload cannot be decoded or upcast (a newer version's event).

    Readers stop before it: the rows before it stay readable, and nothing is misread.
    """

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"the event at position {position} cannot be read by this version: "
                         f"{reason}")


class NoSuchLog(StoreError):
    """The database, or the log's tables in it, do not exist; only commands that write create
    them, so a typo in a URL never becomes a new empty chronicle."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"no chronicle log at {url}: {reason} (only `chronicle load`, `serve`, "
                         "`db upgrade`, `import-log` and `copy-log --to` create one)")


class InvalidDatabaseUrl(StoreError):
    """A database URL that cannot be used as written (the user's input: exit 2)."""
