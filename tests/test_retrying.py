"""The one retry policy (chronicle.retrying): backoff shape, stop rules, giving up."""

from __future__ import annotations

import pytest

from chronicle import retrying


class Flaky:
    """Fails `failures` times with OSError, then returns "done"."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError(f"failure {self.calls}")
        return "done"


def run(attempt: Flaky, *, attempts: int, wait: retrying.Wait, **options: object) -> object:
    sleeps: list[float] = []
    retrier = retrying.policy(retry=retrying.retry_if_error(lambda e: isinstance(e, OSError)),
                              stop=retrying.give_up_after(attempts), wait=wait,
                              sleep=sleeps.append, **options)
    result = retrier(attempt)
    return result, sleeps


def test_backoff_doubles_up_to_its_cap_without_real_sleeping() -> None:
    result, sleeps = run(Flaky(4), attempts=5, wait=retrying.exponential(0.5, 3.0))
    assert result == "done"
    assert sleeps == [0.5, 1.0, 2.0, 3.0]


def test_full_jitter_scales_each_wait_by_the_draw() -> None:
    draws = iter([0.5, 0.25, 1.0])
    _, sleeps = run(Flaky(3), attempts=4, wait=retrying.exponential(2.0, 60.0, lambda: next(draws)))
    assert sleeps == [1.0, 1.0, 8.0]


def test_the_last_error_is_raised_as_it_was_when_attempts_run_out() -> None:
    attempt = Flaky(10)
    with pytest.raises(OSError, match="failure 3"):
        run(attempt, attempts=3, wait=retrying.NO_WAIT)
    assert attempt.calls == 3


def test_an_error_not_retried_is_raised_at_once() -> None:
    def refused() -> str:
        raise ValueError("permanent")

    retrier = retrying.policy(retry=retrying.retry_if_error(lambda e: isinstance(e, OSError)),
                              stop=retrying.give_up_after(5), wait=retrying.NO_WAIT)
    with pytest.raises(ValueError, match="permanent"):
        retrier(refused)


def test_giving_up_is_the_callers_and_sees_the_attempts() -> None:
    seen: list[tuple[int, str]] = []

    def give_up(state: retrying.RetryCallState) -> str:
        seen.append((state.attempt_number, str(retrying.failure(state))))
        return "given up"

    result, _ = run(Flaky(10), attempts=2, wait=retrying.NO_WAIT, on_give_up=give_up)
    assert result == "given up"
    assert seen == [(2, "failure 2")]


def test_a_stop_rule_or_the_owner_stopping_ends_the_retries() -> None:
    attempt = Flaky(10)
    stop = retrying.give_up_after(when=lambda state: state.attempt_number == 2)
    retrier = retrying.policy(retry=retrying.retry_if_error(lambda e: True), stop=stop,
                              wait=retrying.NO_WAIT, sleep=lambda _s: None)
    with pytest.raises(OSError, match="failure 2"):
        retrier(attempt)

    stopping = Flaky(10)
    retrier = retrying.policy(
        retry=retrying.retry_if_error(lambda e: True),
        stop=retrying.give_up_after(stopped=lambda: stopping.calls >= 3),
        wait=retrying.NO_WAIT, sleep=lambda _s: None)
    with pytest.raises(OSError, match="failure 3"):
        retrier(stopping)


def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retrying.give_up_after(0)
