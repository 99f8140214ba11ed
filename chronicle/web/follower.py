"""Follows the log in a background thread: catch the read models up, then refresh the documents.

New events (from this process or any other) are noticed through `store.wait_for_events`
(LISTEN/NOTIFY on PostgreSQL, polling on SQLite). When the database goes away the documents
already rendered keep being served; the follower retries with exponential backoff and
reports the outage through its status until the database answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from chronicle import retrying
from chronicle.projections import Projector
from chronicle.projections.projector import Stopped
from chronicle.store import SqlEventStore, StoreError
from chronicle.store.dialects import database_failures

log = logging.getLogger(__name__)


def database_errors() -> tuple[type[Exception], ...]:
    """A store's or a database's failure: `except database_errors():` (psycopg's errors count
    once psycopg is loaded, see database_failures)."""
    return (StoreError, *database_failures())


@dataclass
class FollowerStatus:
    """What /healthz reports; written by the follower thread only."""

    database_ok: bool = False
    head: int = 0
    head_link: str | None = None      # `POSITION:HASH` of the head row: the log's anchor
    position: int = 0
    error: str | None = None
    render_error: str | None = None   # the documents could not be rendered (not the database)
    stopped: Stopped | None = None    # an event this version cannot read halts the read models
    checked_at: float = 0.0       # time.monotonic() of the last attempt
    succeeded_at: float = 0.0     # time.monotonic() of the last success

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class LogFollower:
    """Runs `refresh(position)` whenever the read models reached a new position."""

    def __init__(self, store: SqlEventStore, projector: Projector,
                 refresh: Callable[[int], None], *, poll_seconds: float = 1.0,
                 min_backoff: float = 0.25, max_backoff: float = 10.0) -> None:
        self.store = store
        self.projector = projector
        self.refresh = refresh
        self.poll_seconds = poll_seconds
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.status = FollowerStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prepared = False
        self._rendered: int | None = None
        # Run after every successful step with the position: documents due by the clock
        # rather than by the log (today's home page, chronicle.web.pages.DayTurn).
        self.on_step: list[Callable[[int], None]] = []

    def step(self) -> bool:
        """Catch up and refresh if the position moved; True if documents were refreshed."""
        self.status.checked_at = time.monotonic()
        self.store.check_present()
        if not self._prepared:
            self.projector.prepare()
            self._prepared = True
        head, head_hash = self.store.head_link()
        self.status.head_link = f"{head}:{head_hash}"
        position = self.projector.position()
        if head > position:  # a write transaction only when there is something to apply
            self.projector.catch_up()
            position = self.projector.position()
        self.status.stopped = self.projector.stopped
        self._answered(max(head, position), position)
        refreshed = position != self._rendered
        if refreshed:
            self._refresh(position)
        for due in self.on_step:
            due(position)
        return refreshed

    def _answered(self, head: int, position: int) -> None:
        if not self.status.database_ok and self.status.error is not None:
            log.warning("database reachable again; following the log from position %d", position)
        self.status.database_ok, self.status.error = True, None
        self.status.head, self.status.position = head, position
        self.status.succeeded_at = time.monotonic()

    def _refresh(self, position: int) -> None:
        try:
            self.refresh(position)
        except database_errors():
            raise
        except Exception as exc:
            if self.status.render_error is None:
                log.exception("rendering the documents at position %d failed; serving the "
                              "last ones", position)
            self.status.render_error = f"{type(exc).__name__}: {exc}"
            raise
        self._rendered = position
        if self.status.render_error is not None:
            log.warning("documents rendered again at position %d", position)
        self.status.render_error = None

    def _failed(self, exc: Exception) -> None:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.status.database_ok or self.status.error is None:
            log.warning("cannot follow the log (%s); serving the last documents, retrying", reason)
        self.status.database_ok, self.status.error = False, reason

    def try_step(self) -> bool:
        """One step; any failure keeps the last documents served and is retried later."""
        try:
            self.step()
        except database_errors() as exc:
            self._failed(exc)
            return False
        except Exception:
            return False  # a rendering failure, logged and reported by _refresh
        return True

    def run(self) -> None:
        ok = self.status.database_ok
        while not self._stop.is_set():
            ok = self._follow() if ok else self._recover()

    def _follow(self) -> bool:
        """Wait for new events, then step; False once the database failed."""
        try:
            self.store.wait_for_events(self.status.position, self.poll_seconds)
        except Exception as exc:
            self._failed(exc)
            return False
        return self._stop.is_set() or self.try_step()

    def _recover(self) -> bool:
        """Step again after min_backoff, doubling the wait up to max_backoff, until a step
        succeeds or the follower stops (a stop cuts a wait short)."""
        retrier = retrying.policy(
            retry=retrying.retry_if_result(lambda ok: not ok),
            stop=retrying.give_up_after(stopped=self._stop.is_set),
            wait=retrying.exponential(self.min_backoff * 2, self.max_backoff),
            sleep=self._pause)
        self._pause(self.min_backoff)
        return bool(retrier(lambda: not self._stop.is_set() and self.try_step()))

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="chronicle-log-follower",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self.poll_seconds + 5)
