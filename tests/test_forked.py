"""Work in forked processes (chronicle.forked): results in order, failures raised here, and the
pages of a two-language site rendered one language a process byte for byte as in one process,
from real read models (SQLite and PostgreSQL: the children open their own connections)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable

import pytest

from chronicle import forked
from chronicle.config import Settings
from chronicle.feeds import documents
from chronicle.feeds.model import Document
from chronicle.pages import builder
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from tests.factories import make_milestone, record_milestones
from tests.test_feeds_support import caught_up

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="no fork on this platform")


def numbers(start: int, count: int) -> Callable[[], list[int]]:
    return lambda: list(range(start, start + count))


def test_results_come_back_in_order_and_whole() -> None:
    """More items than a message holds, from two children, each after its `after_fork`."""
    pids: list[int] = []

    def child_pid() -> list[int]:
        return [os.getpid()]

    results = forked.in_processes([numbers(0, 3), numbers(10, 2 * forked.CHUNK + 7), child_pid],
                                  after_fork=lambda: pids.append(os.getpid()))
    assert results[0] == [0, 1, 2]
    assert results[1] == list(range(10, 10 + 2 * forked.CHUNK + 7))
    assert results[2] != [os.getpid()]   # ran in a child
    assert pids == []                    # `after_fork` ran there too, not here


def test_a_failing_child_raises_here() -> None:
    def fails() -> list[int]:
        raise ValueError("the template is broken")

    with pytest.raises(forked.ChildFailed, match="ValueError: the template is broken"):
        forked.in_processes([numbers(0, 1), fails])


def test_a_child_that_dies_raises_here() -> None:
    def dies() -> list[int]:
        os._exit(3)

    with pytest.raises(forked.ChildFailed, match="exit code 3"):
        forked.in_processes([numbers(0, 1), dies])


def test_one_call_runs_here() -> None:
    assert forked.in_processes([lambda: [os.getpid()]]) == [[os.getpid()]]


def test_a_daemonic_process_runs_every_call_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """multiprocessing forbids a daemonic process children: the calls run one after another."""
    class Daemonic:
        daemon = True

    monkeypatch.setattr(forked.multiprocessing, "current_process", Daemonic)
    here = os.getpid()
    assert forked.in_processes([lambda: [os.getpid()], lambda: [os.getpid()]]) == [[here]] * 2


def test_a_sink_handles_each_result_where_it_was_made() -> None:
    """Inside `handing_to`, a child's items are sent as its sink made them (in the child),
    heard by `received` here as they arrive; this process's own go through `made` here."""
    here = os.getpid()

    class Sink:
        def __init__(self) -> None:
            self.received_here: list[tuple[int, int]] = []

        def made(self, items: list[int]) -> list[tuple[int, int]]:
            return [(item, os.getpid()) for item in items]

        def received(self, items: list[tuple[int, int]]) -> None:
            assert os.getpid() == here
            self.received_here += items

        def abandoned(self, pid: int) -> None:
            raise AssertionError(f"every result was received, yet {pid} was abandoned")

    sink = Sink()
    elsewhere: list[list[list[int]]] = []   # another thread's calls: not this block's
    with forked.handing_to(sink):
        results = forked.in_processes([numbers(0, 2), numbers(5, forked.CHUNK + 1)])
        thread = threading.Thread(target=lambda: elsewhere.append(
            forked.in_processes([numbers(0, 1), numbers(1, 1)])))
        thread.start()
        thread.join()
    assert elsewhere == [[[0], [1]]]
    assert results[0] == [(0, here), (1, here)]
    assert [item for item, _pid in results[1]] == list(range(5, 6 + forked.CHUNK))
    assert len({pid for _item, pid in results[1]} - {here}) == 1
    assert sink.received_here == results[1]
    assert forked.in_processes([numbers(0, 1), numbers(1, 1)]) == [[0], [1]]   # sink gone


def two_language_site(store: SqlEventStore) -> tuple[ReadModels, Settings]:
    """Twelve milestones over twelve years, caught up, and settings publishing en and mn."""
    record_milestones(store, [make_milestone(n, date=f"{1990 + n}-0{1 + n % 9}-1{n % 10}",
                                             tags=("diplomacy", f"tag{n % 3}"))
                              for n in range(1, 13)])
    settings = Settings(feed={"base_url": "https://chronicle.example.org"})
    assert settings.feed.languages == ["en", "mn"]
    return caught_up(store), settings


def test_pages_rendered_a_language_a_process_are_the_same(
        store: SqlEventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    models, settings = two_language_site(store)

    def today(_: Settings) -> dt.date:
        return dt.date(2026, 12, 6)

    monkeypatch.setattr(builder, "FORK_FROM", 10**9)
    alone = builder.documents(settings, models, today, cards=False)
    builder._renderer.cache_clear()  # no memo from the first pass: the children render afresh
    monkeypatch.setattr(builder, "FORK_FROM", 1)
    split_in: list[int] = []

    def recorded(calls: list[Callable[[], list[Document]]],
                 after_fork: Callable[[], None]) -> list[list[Document]]:
        split_in.append(len(calls))
        return forked.in_processes(calls, after_fork)

    monkeypatch.setattr(builder, "in_processes", recorded)
    split = builder.documents(settings, models, today, cards=False)
    assert split_in == [2]
    assert [(d.path, d.body, d.media_type, d.last_modified) for d in split] == \
        [(d.path, d.body, d.media_type, d.last_modified) for d in alone]
    assert any(d.path.startswith("/mn/milestones/") for d in split)
    # this process's connections still work after the children have gone
    assert len(builder.documents(settings, models, today, cards=False)) == len(alone)


def test_feeds_rendered_beside_the_other_sources_are_the_same(
        store: SqlEventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """`site_documents` forks for the feeds from FORK_FEEDS_FROM log positions: the same
    documents, in the same order (the feeds first), as rendered in one process."""
    record_milestones(store, [make_milestone(n, date=f"{1990 + n}-0{1 + n % 9}-1{n % 10}",
                                             tags=("diplomacy", f"tag{n % 3}"))
                              for n in range(1, 13)])
    models: ReadModels = caught_up(store)
    settings = Settings(feed={"base_url": "https://chronicle.example.org"})

    def pages(settings: Settings, read_models: ReadModels) -> list[Document]:
        return builder.documents(settings, read_models, lambda _: dt.date(2026, 12, 6),
                                 cards=False)

    monkeypatch.setattr(documents, "FORK_FEEDS_FROM", 10**9)
    alone = documents.site_documents(settings, models, sources=[pages])
    monkeypatch.setattr(documents, "FORK_FEEDS_FROM", 1)
    forked_pids: list[int] = []

    def recorded(calls: list[Callable[[], list[Document]]],
                 after_fork: Callable[[], None]) -> list[list[Document]]:
        results = forked.in_processes([*calls, lambda: [os.getpid()]], after_fork)
        forked_pids.extend(results.pop())
        return results

    monkeypatch.setattr(documents, "in_processes", recorded)
    split = documents.site_documents(settings, models, sources=[pages])
    assert forked_pids and forked_pids[0] != os.getpid()
    assert [(d.path, d.body, d.media_type, d.last_modified) for d in split] == \
        [(d.path, d.body, d.media_type, d.last_modified) for d in alone]
    assert split[0].path.startswith("/feeds/") and any(d.path.startswith("/mn/feeds/")
                                                       for d in split)
