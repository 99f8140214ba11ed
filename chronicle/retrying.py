"""One retry policy for every call that may fail for a moment, on tenacity.

The store's busy SQLite and dead pooled connections, the WebSub hub pings, the log follower's
reconnects and the publishers' requests all retry the same way: an attempt is repeated while
its outcome is transient, after capped exponential backoff (with full jitter where many
clients may retry at once), until its attempts run out or its owner stops it. What counts as
transient and what happens on giving up belong to each caller; the shape of the waiting, the
sleeping (injectable, so tests need no real time) and the stop rules live here.

This module imports nothing from chronicle, so every layer, the store included, may use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tenacity
from tenacity import RetryCallState

__all__ = ["NO_WAIT", "RetryCallState", "Sleep", "exponential", "failure", "give_up_after",
           "policy", "retry_if_error", "retry_if_result"]

Sleep = Callable[[float], None]
Wait = Callable[[RetryCallState], float]
Stop = Callable[[RetryCallState], bool]
retry_if_error = tenacity.retry_if_exception
retry_if_result = tenacity.retry_if_result
NO_WAIT: Wait = tenacity.wait_none()


def exponential(base: float, cap: float, jitter: Callable[[], float] | None = None) -> Wait:
    """Seconds to wait after attempt n: ``base * 2**(n-1)``, at most ``cap``.

    With ``jitter`` (a uniform draw in [0, 1)), that times ``jitter()``: "full jitter", which
    spreads out clients that failed together instead of sending them back together.
    """
    grow = tenacity.wait_exponential(multiplier=base, max=cap)
    if jitter is None:
        return grow
    return lambda state: float(jitter() * grow(state))


def give_up_after(attempts: int | None = None, *,
                  when: Callable[[RetryCallState], bool] | None = None,
                  stopped: Callable[[], bool] | None = None) -> Stop:
    """Stop after ``attempts`` (None: no limit), when ``when(state)`` holds, or once
    ``stopped()`` (the owner shutting down)."""
    if attempts is not None and attempts < 1:
        raise ValueError("attempts must be at least 1")

    def stop(state: RetryCallState) -> bool:
        return ((attempts is not None and state.attempt_number >= attempts)
                or (when is not None and when(state))
                or (stopped is not None and stopped()))
    return stop


def policy(*, retry: tenacity.retry_base, stop: Stop, wait: Wait,
           sleep: Sleep = time.sleep,
           on_retry: Callable[[RetryCallState], None] | None = None,
           on_give_up: Callable[[RetryCallState], Any] | None = None) -> tenacity.Retrying:
    """A retrier: ``policy(...)(attempt, *args)`` runs ``attempt`` until it succeeds or stops.

    ``on_retry`` sees each failed attempt before the sleep (``state.next_action.sleep`` is the
    wait), for the caller's log line. On giving up, ``on_give_up(state)`` returns the result or
    raises the caller's error; without it the last error is raised as it was (and a last
    unwanted result returned as it was).
    """
    return tenacity.Retrying(
        retry=retry, stop=stop, wait=wait, sleep=sleep, before_sleep=on_retry,
        retry_error_callback=on_give_up or _last_outcome, reraise=True)


def _last_outcome(state: RetryCallState) -> Any:
    """The last attempt's result, or its error raised again."""
    assert state.outcome is not None
    return state.outcome.result()


def failure(state: RetryCallState) -> BaseException:
    """The error the last attempt raised (only called for a failed attempt)."""
    assert state.outcome is not None
    error = state.outcome.exception()
    assert error is not None
    return error
