"""Upcasting: old payloads are lifted to the current schema version as they are read.

The log keeps every row exactly as written (its hash covers the original); readers see one
shape per event type. An upcaster lifts a payload by exactly one version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]
UpcastFn = Callable[[Payload], Payload]


class Upcasters:
    """A registry of one-step upcasters keyed by (event type, from-version)."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], UpcastFn] = {}

    def register(self, type_: str, from_version: int) -> Callable[[UpcastFn], UpcastFn]:
        def decorate(fn: UpcastFn) -> UpcastFn:
            self._steps[(type_, from_version)] = fn
            return fn

        return decorate

    def upcast(self, type_: str, version: int, payload: Payload) -> tuple[int, Payload]:
        """Apply every step from `version` on; returns the final version and payload."""
        while (step := self._steps.get((type_, version))) is not None:
            payload = step(payload)
            version += 1
        return version, payload


NO_UPCASTERS = Upcasters()
"""For a log that holds no domain's events (benchmarks, tests of the store alone): pass it
explicitly. A store is never opened without upcasters by default."""

_APPLICATION: list[Upcasters] = []


def use_by_default(upcasters: Upcasters) -> Upcasters:
    """Make `upcasters` what `open_store` uses when it is given none (the application's own,
    registered where they are defined: chronicle/upcasters.py)."""
    _APPLICATION[:] = [upcasters]
    return upcasters


def default_upcasters() -> Upcasters:
    """The registered application upcasters; an error rather than silently none (a store
    without them would hand out old payloads as if they were current)."""
    if not _APPLICATION:
        raise RuntimeError("open_store was given no upcasters and none are registered: pass "
                           "upcasters=chronicle.upcasters.UPCASTERS (import it), or "
                           "NO_UPCASTERS for a log that holds no domain events")
    return _APPLICATION[0]
