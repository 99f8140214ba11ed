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
