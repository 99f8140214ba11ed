"""APScheduler behind one small class: it only wakes the posting pass up.

Three kinds of wake-up call the same callback: daily at the posting time in the configured
zone (a ``CronTrigger`` with a ``ZoneInfo``, so 09:00 stays 09:00 local across DST), a
safety-net interval (a missed or failed wake is caught within minutes), and one-off wakes
(a retry time, or "now" on becoming leader). What is due is decided by the callback from the
log, never by APScheduler, so the job settings say "run it, once, however late":

- ``coalesce=True``: several missed runs (a suspended process, a paused standby) collapse
  into one; the pass looks at everything due anyway, running it twice in a row is waste.
- ``misfire_grace_time=None``: never drop a late wake-up. APScheduler's default drops a run
  more than one second late (a busy executor, a GC pause, a slow start), which would silently
  skip the 09:00 post until the safety net; lateness is judged by the grace window in our log.
- ``max_instances=1`` per job, and the callback itself is serialised by its caller.

On a DST fall-back day a repeated posting time fires twice (APScheduler 3.11 fires at both
occurrences); the second pass finds everything finished. A time skipped by spring-forward
fires at the same instant the posting module computes (the offset before the change).

The clock may be shifted (rehearsals, ``CHRONICLE_FAKE_NOW``): APScheduler keeps running on
real time, and the daily trigger is translated between the clock's time and real time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from chronicle.posting.clock import SchedulingClock

log = logging.getLogger(__name__)

DAILY, SAFETY_NET = "posting-daily", "posting-safety-net"
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}


class _OnClock(BaseTrigger):
    """Runs a trigger in the clock's time; APScheduler sees the matching real times."""

    def __init__(self, inner: BaseTrigger, clock: SchedulingClock) -> None:
        self.inner = inner
        self.clock = clock

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime
                           ) -> dt.datetime | None:
        previous = None
        if previous_fire_time is not None:
            # Round trips through float seconds may land a microsecond early; cron fires on
            # whole seconds, so rounding restores the exact previous fire time.
            previous = _whole_second(self.clock.to_clock(previous_fire_time))
        upcoming = self.inner.get_next_fire_time(previous, self.clock.to_clock(now))
        if upcoming is None:
            return None
        return self.clock.to_real(upcoming).astimezone(now.tzinfo)

    def __str__(self) -> str:
        return f"{self.inner} on {self.clock!r}"


def _whole_second(moment: dt.datetime) -> dt.datetime:
    return (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


class Wakeups:
    """Calls `callback` at the daily posting time, on a safety-net interval, and on demand."""

    def __init__(self, callback: Callable[[], None], *, zone: ZoneInfo, at: dt.time,
                 clock: SchedulingClock, safety_net_seconds: float = 120.0) -> None:
        self.callback = callback
        self.clock = clock
        self.daily = CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=zone)
        self._scheduler = BackgroundScheduler(timezone=dt.UTC, job_defaults=JOB_DEFAULTS)
        self._scheduler.add_job(callback, _OnClock(self.daily, clock), id=DAILY,
                                name="anniversary posts: daily wake-up")
        self._scheduler.add_job(callback, IntervalTrigger(seconds=safety_net_seconds),
                                id=SAFETY_NET, name="anniversary posts: safety net")

    def next_daily(self, after: dt.datetime) -> dt.datetime:
        """The first daily wake-up after `after`, in the clock's time (UTC)."""
        upcoming: dt.datetime | None = self.daily.get_next_fire_time(
            None, after + dt.timedelta(microseconds=1))
        assert upcoming is not None
        return upcoming.astimezone(dt.UTC)

    def start(self, *, paused: bool = False) -> None:
        self._scheduler.start(paused=paused)

    def pause(self) -> None:
        self._scheduler.pause()

    def resume(self) -> None:
        self._scheduler.resume()

    def wake_now(self) -> None:
        self._scheduler.add_job(self.callback, DateTrigger(dt.datetime.now(dt.UTC)),
                                name="anniversary posts: now")

    def wake_at(self, moment: dt.datetime) -> None:
        """A one-off wake-up at `moment` in the clock's time (a retry)."""
        real = self.clock.to_real(moment)
        self._scheduler.add_job(self.callback, DateTrigger(real), name="anniversary posts: retry",
                                id=f"retry-{real.isoformat()}", replace_existing=True)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
