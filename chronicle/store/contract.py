"""The event store contract: what every backend promises, stated once."""

from __future__ import annotations

import abc
import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from chronicle.store.records import NewEvent, StoredEvent, VerifyReport


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One stream's part of a multi-stream append."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int


ANY_VERSION = -1
"""Pass as `expected_version` to skip the optimistic concurrency check."""


class EventStore(abc.ABC):
    """An append-only log of events in streams, with one gap-free global order."""

    @abc.abstractmethod
    def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[int]:
        """Append `events` to `stream_id` in one transaction and return their global positions.

        `expected_version` is the stream's version the caller decided on (0: the stream must
        not exist yet; ANY_VERSION: no check). Raises ConcurrencyError if the stream moved,
        writing nothing. Re-sending events whose ids are already stored, with the same content,
        is a no-op that returns the original positions; the same id with other content raises
        EventIdConflict. Raises StoreUnavailable if the database cannot be reached.
        """

    @abc.abstractmethod
    def append_streams(self, appends: Sequence[StreamAppend]) -> list[list[int]]:
        """Append to several streams in ONE transaction: all of them are written, or none.

        Each StreamAppend is checked as `append` checks it (concurrency, idempotency); the
        result lists each append's positions in order.
        """

    @abc.abstractmethod
    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with position > `after`, oldest first, at most `limit`. Empty at the head."""

    def iter_all(self, after: int = 0, page_size: int = 1000, upto: int | None = None
                 ) -> Iterator[StoredEvent]:
        """Every event after `after` (up to `upto`, inclusive), read in pages."""
        while True:
            page = self.read_all(after, page_size)
            for stored in page:
                if upto is not None and stored.position > upto:
                    return
                yield stored
            if len(page) < page_size:
                return
            after = page[-1].position

    @abc.abstractmethod
    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        """The stream's events with version > `after_version`, in order. Empty if none."""

    @abc.abstractmethod
    def stream_version(self, stream_id: str) -> int:
        """The stream's current version: the number of its events; zero if it does not exist."""

    @abc.abstractmethod
    def head(self) -> int:
        """The last global position; zero for an empty log."""

    @abc.abstractmethod
    def position_at(self, moment: dt.datetime) -> int:
        """The last position recorded at or before `moment` (an aware datetime); zero if none."""

    @abc.abstractmethod
    def find_event(self, event_id: uuid.UUID) -> StoredEvent | None:
        """The stored event with this id, or None."""

    @abc.abstractmethod
    def wait_for_events(self, after: int, timeout: float) -> bool:
        """Block until the head passes `after` or `timeout` seconds pass; True if it did."""

    @abc.abstractmethod
    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        """Recompute the hash chain from the first row; report the first position that breaks it."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""
