"""The bench's own time: what a run spends preparing (generating logs, first renders, starting
servers), besides the runs it measures, so the full run's wall time can be accounted for."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class SetupClock:
    """Seconds per kind of preparation, summed over a run (`runner.run` resets it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def reset(self) -> None:
        self.seconds.clear()

    @contextlib.contextmanager
    def timing(self, what: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[what] = self.seconds.get(what, 0.0) + time.perf_counter() - started

    def note(self) -> str:
        parts = ", ".join(f"{what} {seconds:,.0f} s" for what, seconds in self.seconds.items())
        return f"setup (wall time outside the measured runs): {parts or 'none'}"


SETUP = SetupClock()
"""The one clock of the process: the setup steps are deep in each group's code."""
