"""Under `pytest -n 2 --dist loadfile` the longest modules start first, not last.

xdist queues modules by test count, most first, so a module of one long test (the two to three
minutes of `bench --quick` in tests/test_bench_smoke.py) started 104th of 108, when the other
worker had little or nothing left to do; and a worker takes its next module once two of its
tests remain, so that module waited behind the long one too. Longest first keeps both workers
busy to the end. Loaded by `tests/conftest.py`; without xdist, or with another `--dist`, nothing
changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

# The longest modules, longest first (wall times on the shared 2-core machine, load ~14).
LONGEST = (
    "tests/test_bench_smoke.py",  # one test, `chronicle bench --quick`: two to three minutes
    "tests/test_replication_readable.py",  # 22 tests, ~40 CLI subprocesses: 233 s alone
    "tests/test_pages_browser.py",  # headless Chromium against real servers: ~210 s in -n 2
)
SLOW_MARK = "mark.slow"  # then every other module with a test marked slow


def rank(root: Path, module: str) -> tuple[int, int]:
    """Where a module goes in the queue: the named ones, then slow ones, then the rest."""
    if module in LONGEST:
        return 0, LONGEST.index(module)
    try:
        slow = SLOW_MARK in (root / module).read_text(encoding="utf-8")
    except OSError:
        slow = False
    return (1 if slow else 2), 0


class LongestFirst(LoadFileScheduling):
    """xdist's `loadfile` with its queue reordered once, before the first module goes out."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._root = config.rootpath
        self._ordered = False

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:
            queued = sorted(self.workqueue.items(), key=lambda item: rank(self._root, item[0]))
            self.workqueue.clear()
            self.workqueue.update(queued)  # a stable sort: xdist's order within each rank
            self._ordered = True
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LongestFirst | None:
    if config.getoption("dist") != "loadfile":
        return None
    return LongestFirst(config, log)
