"""The order modules go out to the xdist workers: the longest first (tests/xdist_order.py)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from tests.conftest import REPO
from tests.xdist_order import LONGEST, LongestFirst, rank


class Worker:
    """What the scheduler sees of an xdist worker: it records the tests sent to it."""

    shutting_down = False

    def __init__(self, name: str, collection: list[str]) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.collection = collection
        self.sent: list[str] = []

    def send_runtest_some(self, indices: Sequence[int]) -> None:
        self.sent += [self.collection[i] for i in indices]

    def shutdown(self) -> None:
        self.shutting_down = True


def test_every_named_long_module_exists() -> None:
    """A renamed module would silently fall back to the end of the queue."""
    assert [m for m in LONGEST if not (REPO / m).is_file()] == []


def test_the_named_modules_then_the_slow_ones_then_the_rest() -> None:
    assert rank(REPO, LONGEST[0]) < rank(REPO, LONGEST[1]) < rank(REPO, "tests/test_websub.py")
    assert rank(REPO, "tests/test_websub.py") < rank(REPO, "tests/test_hashing.py")  # one slow
    assert rank(REPO, "tests/no_such_module.py") == rank(REPO, "tests/test_hashing.py")


def test_the_scheduler_sends_the_longest_modules_first(pytestconfig: pytest.Config,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """xdist alone would send the module with most tests first and the single test last."""
    monkeypatch.setattr(pytestconfig.option, "tx", ["2*popen"], raising=False)
    monkeypatch.setattr(pytestconfig.option, "loadscopereorder", True, raising=False)
    collection = [*(f"tests/test_hashing.py::test_{i}" for i in range(5)),
                  *(f"tests/test_websub.py::test_{i}" for i in range(3)),
                  f"{LONGEST[0]}::test_0"]
    scheduler = LongestFirst(pytestconfig)
    first, second = Worker("gw0", collection), Worker("gw1", collection)
    for worker in (first, second):
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    assert first.sent[0] == f"{LONGEST[0]}::test_0"
    assert second.sent[0] == "tests/test_websub.py::test_0"
