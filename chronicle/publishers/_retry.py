"""The publishers' retry rules (X, Mastodon, Bluesky) on the shared policy (chronicle.retrying).

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
from typing import NoReturn, TypeVar

from chronicle import retrying
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

    def run(self, label: str, attempt: Callable[[], T], *, subject: str | None = None) -> T:
        """``attempt()`` until it returns, fails for good, or the attempts run out.

        ``label`` names the request in the log; ``subject`` (default: the label) in the error
        raised on giving up.
        """
        retrier = retrying.policy(
            retry=retrying.retry_if_error(lambda exc: isinstance(exc, TransientPublishError)),
            stop=retrying.give_up_after(self.max_attempts,
                                        when=self._too_long),
            wait=self._wait, sleep=self.sleep,
            on_retry=lambda state: log.warning(
                "%s: %s; attempt %d of %d in %.1fs", label, retrying.failure(state),
                state.attempt_number + 1, self.max_attempts, _sleep_of(state)),
            on_give_up=lambda state: self._give_up(subject or label, state))
        result: T = retrier(attempt)
        return result

    def _too_long(self, state: retrying.RetryCallState) -> bool:
        """The channel's reset is further away than we hold a claim for."""
        wait = self._until_reset(retrying.failure(state))
        return wait is not None and wait > self.max_wait

    def _wait(self, state: retrying.RetryCallState) -> float:
        """Until a rate limit's reset (plus a margin); otherwise backoff with full jitter."""
        wait = self._until_reset(retrying.failure(state))
        if wait is not None:
            return max(wait.total_seconds(), 0.0) + self.reset_margin
        return retrying.exponential(self.backoff_base, self.backoff_cap, self.jitter)(state)

    def _until_reset(self, exc: BaseException) -> dt.timedelta | None:
        if isinstance(exc, RateLimited) and exc.retry_at is not None:
            return exc.retry_at - self.clock()
        return None

    def _give_up(self, subject: str, state: retrying.RetryCallState) -> NoReturn:
        exc = retrying.failure(state)
        assert isinstance(exc, PublishError)
        attempts = state.attempt_number
        note = f"gave up after {attempts} attempt{'s' if attempts > 1 else ''}"
        raise type(exc)(f"{subject}: {exc} ({note})", retry_at=exc.retry_at) from None


def _sleep_of(state: retrying.RetryCallState) -> float:
    assert state.next_action is not None
    return float(state.next_action.sleep)
