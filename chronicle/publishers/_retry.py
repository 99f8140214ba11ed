"""One retry policy for the HTTP channels (Mastodon, Bluesky): what may be retried, and when.

A :class:`~chronicle.publishers.base.TransientPublishError` is retried after capped
exponential backoff with full jitter; a :class:`~chronicle.publishers.base.RateLimited` after
the reset the channel reported, when that is within ``max_wait`` (a longer wait is handed back
to the scheduler, which retries from the log at ``retry_at`` without holding the claim).
Anything else is final. The attempt itself says which is which.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from chronicle.publishers.base import PublishError, RateLimited, TransientPublishError

__all__ = ["RetryPolicy"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long a publisher retries one request."""

    max_attempts: int = 5
    max_wait: dt.timedelta = dt.timedelta(minutes=2)
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    reset_margin: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], dt.datetime] = _utc_now
    jitter: Callable[[], float] = field(default=random.random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def run(self, label: str, attempt: Callable[[], T]) -> T:
        """``attempt()`` until it returns, fails for good, or the attempts run out."""
        for number in range(1, self.max_attempts + 1):
            try:
                return attempt()
            except TransientPublishError as exc:
                delay = self._delay(exc, number)
                if delay is None or number == self.max_attempts:
                    raise self._final(label, exc, number) from None
                log.warning("%s: %s; attempt %d of %d in %.1fs",
                            label, exc, number + 1, self.max_attempts, delay)
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, exc: TransientPublishError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt; None when the wait is too long."""
        if isinstance(exc, RateLimited) and exc.retry_at is not None:
            wait = exc.retry_at - self.clock()
            if wait > self.max_wait:
                return None
            return max(wait.total_seconds(), 0.0) + self.reset_margin
        return float(self.jitter() * min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _final(self, label: str, exc: PublishError, attempts: int) -> PublishError:
        note = f"gave up after {attempts} attempt{'s' if attempts > 1 else ''}"
        return type(exc)(f"{label}: {exc} ({note})", retry_at=exc.retry_at)
