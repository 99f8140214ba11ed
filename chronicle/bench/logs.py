"""Generated chronicles: logs of a given size written through our own store in large appends."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from pathlib import Path

from chronicle.bench.payloads import BenchEvent, EventFactory
from chronicle.projections.projector import collector_paused
from chronicle.store import SqlEventStore, StreamAppend, open_store
from chronicle.upcasters import UPCASTERS

CHUNK = 10_000


def stream_appends(events: Iterable[BenchEvent]) -> list[StreamAppend]:
    """Events grouped by stream (in order), each group expecting the version before its first."""
    grouped: dict[str, list[BenchEvent]] = {}
    for event in events:
        grouped.setdefault(event.stream_id, []).append(event)
    return [StreamAppend(stream, [e.event for e in group], group[0].stream_version - 1)
            for stream, group in grouped.items()]


def write_events(store: SqlEventStore, events: Iterable[BenchEvent]) -> int:
    """Append everything in chunks of CHUNK events (one transaction each); returns the count."""
    written = 0
    source = iter(events)
    while chunk := list(itertools.islice(source, CHUNK)):
        store.append_streams(stream_appends(chunk))
        written += len(chunk)
    return written


def generate_log(path: Path, count: int, *, milestones_only: bool = False
                 ) -> tuple[SqlEventStore, float]:
    """A new SQLite log of `count` events at `path`; returns the open store and events/s.

    `milestones_only` writes only MilestoneRecorded events (a chronicle of `count` milestones).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{path}", upcasters=UPCASTERS)
    factory = EventFactory()
    events = (factory.streams(count, per_stream=1) if milestones_only
              else factory.history(count))
    started = time.perf_counter()
    with collector_paused():  # millions of acyclic events: see collector_paused
        write_events(store, events)
    return store, count / (time.perf_counter() - started)
