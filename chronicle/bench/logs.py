"""Generated chronicles: logs of a given size written through our own store in large appends."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from chronicle.bench.payloads import BenchEvent, EventFactory
from chronicle.bench.setup import SETUP
from chronicle.projections import Projector
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
    with SETUP.timing("generating logs"), collector_paused():  # acyclic: see collector_paused
        write_events(store, events)
    return store, count / (time.perf_counter() - started)


def milestone_chronicle(path: Path, count: int, originals: Path) -> SqlEventStore:
    """A chronicle of `count` milestones at `path`, read models caught up; returns it open.

    The first call for a size generates it under `originals`; later calls (the feeds, pages
    and export groups use the same sizes) copy that file, which takes a fraction of the time.
    """
    original = originals / f"milestones-{count}.db"
    if not original.exists():
        store, _ = generate_log(original, count, milestones_only=True)
        try:
            with SETUP.timing("catching up chronicles"):
                projector = Projector(store)
                projector.prepare()
                projector.catch_up()
        finally:
            store.close()     # the last connection's close checkpoints the WAL into the file
    path.parent.mkdir(parents=True, exist_ok=True)
    with SETUP.timing("copying chronicles"):
        for suffix in ("", "-wal"):
            if Path(f"{original}{suffix}").exists():
                shutil.copyfile(f"{original}{suffix}", f"{path}{suffix}")
    return open_store(f"sqlite:///{path}", upcasters=UPCASTERS)
