"""The anniversary scheduler as a service: leadership, wake-ups and the posting pass.

``start_scheduler(settings, store)`` returns a handle with ``.shutdown()`` (``chronicle serve``
calls exactly this); ``chronicle scheduler`` runs it in the foreground. Every replica starts
one: a background thread tries the leadership lock every few seconds; the leader runs the
wake-ups (a pass at once on becoming leader, then daily, on the safety net and at retry
times); a standby keeps its wake-ups paused and takes over within seconds of the leader's
death. Two replicas that both believe they lead still post once: the claim is the fence.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from chronicle.config import Settings
from chronicle.posting.alerts import Alert, Alerts
from chronicle.posting.channels import build_publishers
from chronicle.posting.clock import SchedulingClock, clock_from_env
from chronicle.posting.leadership import Leadership, leader_present, leadership_for
from chronicle.posting.service import FAILED, WAITING, PostingService
from chronicle.posting.wakeups import Wakeups
from chronicle.store import SqlEventStore, StoreError

log = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = 2.0


class SchedulerHandle:
    """A running scheduler: leadership thread, wake-ups, and the posting pass they call."""

    def __init__(self, service: PostingService, leadership: Leadership, clock: SchedulingClock,
                 *, lock_retry_seconds: float = LOCK_RETRY_SECONDS,
                 safety_net_seconds: float = 120.0) -> None:
        self.service = service
        self.leadership = leadership
        self.lock_retry_seconds = lock_retry_seconds
        posting = service.settings.posting
        self.wakeups = Wakeups(self.run_pass, zone=posting.zone, at=posting.time, clock=clock,
                               safety_net_seconds=safety_net_seconds)
        self._stop = threading.Event()
        self._pass_lock = threading.Lock()
        self._leading = False
        self._thread = threading.Thread(target=self._lead, name="posting-leadership",
                                        daemon=True)

    @property
    def leading(self) -> bool:
        return self._leading

    def start(self) -> SchedulerHandle:
        self.wakeups.start(paused=True)
        self._thread.start()
        log.info("anniversary scheduler started (worker %s, channels %s, next posting time %s)",
                 self.service.worker.worker_id, ", ".join(self.service.channels),
                 self.wakeups.next_daily(self.service.clock.now()).isoformat())
        return self

    def _lead(self) -> None:
        announced_standby = False
        while not self._stop.is_set():
            if not self._leading and self.leadership.try_acquire():
                self._leading = True
                log.info("anniversary scheduler: leading (worker %s)",
                         self.service.worker.worker_id)
                self.wakeups.resume()
                self.wakeups.wake_now()
            elif self._leading and not self.leadership.still_held():
                self._leading = False
                log.warning("anniversary scheduler: lost leadership; standing by")
                self.wakeups.pause()
            elif not self._leading and not announced_standby:
                log.info("anniversary scheduler: another replica leads; standing by")
                announced_standby = True
            self._stop.wait(self.lock_retry_seconds)

    def run_pass(self) -> None:
        """One posting pass (what every wake-up calls); errors are logged, never raised."""
        if not self._leading or self._stop.is_set():
            return
        with self._pass_lock:
            try:
                results = self.service.post_due()
            except StoreError as exc:
                log.warning("posting pass failed, next wake-up retries: %s", exc)
                return
            except Exception:
                log.exception("posting pass failed, next wake-up retries")
                return
        for result in results:
            if result.retry_at is not None and result.outcome in (FAILED, WAITING):
                self.wakeups.wake_at(result.retry_at)

    def shutdown(self) -> None:
        """Stop waking up, finish a running pass, give up leadership."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.lock_retry_seconds + 5)
        self.wakeups.shutdown()
        self._leading = False
        self.leadership.release()
        log.info("anniversary scheduler stopped")


def start_scheduler(settings: Settings, store: SqlEventStore, *,
                    clock: SchedulingClock | None = None,
                    environ: Mapping[str, str] | None = None,
                    x_options: Mapping[str, Any] | None = None,
                    lock_retry_seconds: float = LOCK_RETRY_SECONDS) -> SchedulerHandle:
    """Start the anniversary scheduler in background threads and return its handle.

    The clock defaults to the system clock, or the rehearsal clock when CHRONICLE_FAKE_NOW is
    set (see chronicle.posting.clock). X credentials and the alert targets
    (CHRONICLE_ALERT_URLS) come from `environ` (default: os.environ).
    """
    env = os.environ if environ is None else environ
    chosen = clock or clock_from_env(env)
    publishers = build_publishers(settings, chosen, env, x_options=x_options)
    alerts = Alerts.from_env(store, chosen, env)
    service = PostingService(store, settings, publishers, chosen, alerts=alerts)
    handle = SchedulerHandle(service, leadership_for(store.engine), chosen,
                             lock_retry_seconds=lock_retry_seconds)
    return handle.start()


NO_LEADER_AFTER = dt.timedelta(minutes=5)


class LeaderWatch:
    """In a process that runs no scheduler: alerts when no replica has led for 5 minutes."""

    def __init__(self, store: SqlEventStore, settings: Settings, alerts: Alerts,
                 clock: SchedulingClock, *, every_seconds: float = 30.0,
                 after: dt.timedelta = NO_LEADER_AFTER) -> None:
        self.store = store
        self.settings = settings
        self.alerts = alerts
        self.clock = clock
        self.every_seconds = every_seconds
        self.after = after
        self.since: dt.datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leader-watch", daemon=True)

    def check(self) -> bool:
        """One look; True when it sent the alert."""
        present = leader_present(self.store.engine)
        now = self.clock.now()
        if present is not False:
            self.since = None
            return False
        self.since = self.since or now
        if now - self.since < self.after:
            return False
        local = self.since.astimezone(self.settings.posting.zone)
        return self.alerts.send(Alert(
            cause=f"no-leader-{local:%Y-%m-%d}",
            title="No anniversary scheduler is running",
            body=f"No replica has led the anniversary scheduler since {local:%Y-%m-%d %H:%M} "
            f"{self.settings.posting.timezone}: no post will go out. Start one "
            "(`chronicle scheduler`, or a replica with CHRONICLE_SERVER__SCHEDULER=true)."))

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.check()
            except Exception:
                log.exception("leader watch failed; next look in %.0fs", self.every_seconds)

    def start(self) -> LeaderWatch:
        self._thread.start()
        return self

    def shutdown(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def start_leader_watch(settings: Settings, store: SqlEventStore, *,
                       environ: Mapping[str, str] | None = None) -> LeaderWatch:
    """Watch for a missing scheduler leader (for `serve` with the scheduler off)."""
    env = os.environ if environ is None else environ
    clock = clock_from_env(env)
    return LeaderWatch(store, settings, Alerts.from_env(store, clock, env), clock).start()
