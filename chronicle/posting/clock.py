"""Time for the posting service: injectable, so tests and rehearsals decide what "now" is.

Rehearsing the 40th: set ``CHRONICLE_FAKE_NOW`` to an ISO timestamp with an offset (e.g.
``2027-01-27T08:59:50+08:00``) and the service (``chronicle serve``, ``chronicle scheduler``,
``chronicle post``, ``chronicle upcoming``) believes it is that moment when it starts, with time
running on from there; ``CHRONICLE_FAKE_NOW_RATE`` (default 1) makes it run faster. The daily
wake-up, the grace window and the times recorded in post events all follow that clock, so a
rehearsal ten seconds before 09:00 posts ten seconds later. It is a testing and rehearsal aid:
never set it on a production service.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

FAKE_NOW_ENV = "CHRONICLE_FAKE_NOW"
FAKE_NOW_RATE_ENV = "CHRONICLE_FAKE_NOW_RATE"


@runtime_checkable
class Clock(Protocol):
    """Tells the time; ``now()`` is always timezone-aware."""

    def now(self) -> dt.datetime: ...


@runtime_checkable
class SchedulingClock(Clock, Protocol):
    """A clock that can also say which real (wall-clock) moment one of its moments is."""

    def to_real(self, moment: dt.datetime) -> dt.datetime: ...

    def to_clock(self, real: dt.datetime) -> dt.datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def to_real(self, moment: dt.datetime) -> dt.datetime:
        return moment

    def to_clock(self, real: dt.datetime) -> dt.datetime:
        return real

    def __repr__(self) -> str:
        return "SystemClock()"


@dataclass
class ShiftedClock:
    """Starts at ``start`` when created and runs ``rate`` times as fast as real time."""

    start: dt.datetime
    rate: float = 1.0
    _real_start: float = field(default_factory=time.time, repr=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("the fake start time needs a UTC offset, e.g. +08:00")
        if self.rate <= 0:
            raise ValueError(f"the clock rate must be positive, got {self.rate}")

    def now(self) -> dt.datetime:
        return self._at(time.time())

    def _at(self, real_epoch: float) -> dt.datetime:
        elapsed = (real_epoch - self._real_start) * self.rate
        return (self.start + dt.timedelta(seconds=elapsed)).astimezone(dt.UTC)

    def to_real(self, moment: dt.datetime) -> dt.datetime:
        elapsed = (moment - self.start).total_seconds() / self.rate
        return dt.datetime.fromtimestamp(self._real_start + elapsed, dt.UTC)

    def to_clock(self, real: dt.datetime) -> dt.datetime:
        return self._at(real.timestamp())


@dataclass
class FixedClock:
    """Time that moves only when told to (tests, `--now`-style what-ifs)."""

    current: dt.datetime

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


def clock_from_env(environ: Mapping[str, str] | None = None) -> SystemClock | ShiftedClock:
    """The system clock, or a shifted one when ``CHRONICLE_FAKE_NOW`` is set (rehearsals)."""
    env = os.environ if environ is None else environ
    fake = env.get(FAKE_NOW_ENV, "").strip()
    if not fake:
        return SystemClock()
    try:
        start = dt.datetime.fromisoformat(fake)
    except ValueError as exc:
        raise ValueError(f"{FAKE_NOW_ENV}={fake!r} is not an ISO timestamp") from exc
    if start.tzinfo is None:
        raise ValueError(f"{FAKE_NOW_ENV}={fake!r} needs a UTC offset, e.g. +08:00")
    rate_text = env.get(FAKE_NOW_RATE_ENV, "").strip() or "1"
    try:
        rate = float(rate_text)
    except ValueError as exc:
        raise ValueError(f"{FAKE_NOW_RATE_ENV}={rate_text!r} is not a number") from exc
    return ShiftedClock(start, rate)
