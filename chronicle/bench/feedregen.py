"""Feed regeneration: after one new milestone, catch up and re-render the main Atom feed.

Measured on chronicles of growing size; a flat cost means the work follows the change, not
the size of the chronicle.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from chronicle.bench.figures import Row, Sample, Say, Target
from chronicle.bench.logs import generate_log
from chronicle.bench.payloads import EventFactory
from chronicle.config import FeedSettings
from chronicle.feeds import FeedRenderer, Format, read_snapshot
from chronicle.projections import Projector, ReadModels

FLAT = 2.0


def regenerate_ms(path: Path, milestones: int, runs: int, repeats: int, say: Say) -> Sample:
    """Per run, the median time of `repeats` regenerations after one new milestone each."""
    store, _ = generate_log(path, milestones, milestones_only=True)
    try:
        projector = Projector(store)
        projector.prepare()
        projector.catch_up()
        read_models = ReadModels(store.engine)
        renderer = FeedRenderer(FeedSettings())
        factory = EventFactory()
        sample = Sample()
        for run in range(runs):
            times = []
            for i in range(repeats):
                event = factory.recorded(milestones + run * repeats + i)
                store.append(event.stream_id, [event.event], 0)
                started = time.perf_counter()
                projector.catch_up()
                main = renderer.catalog.feeds(read_snapshot(read_models))[0]
                body = renderer.render(main, Format.ATOM)
                times.append((time.perf_counter() - started) * 1000)
                assert event.event.payload["id"].encode() in body, "the new milestone is missing"
            sample.runs.append(statistics.median(times))
            say(f"feeds {milestones:,} milestones run {run + 1}/{runs}: "
                f"{sample.runs[-1]:,.1f} ms")
        return sample
    finally:
        store.close()


def measure(directory: Path, sizes: tuple[int, ...], runs: int, say: Say) -> list[Row]:
    samples = {n: regenerate_ms(directory / f"feeds-{n}.db", n, runs, 3, say) for n in sizes}
    return flat_rows("feeds", "feeds", "main Atom feed after 1 new milestone", " milestones",
                     samples)


def flat_rows(prefix: str, group: str, what: str, noun: str, samples: dict[int, Sample]
              ) -> list[Row]:
    """Each larger size against the smallest: flat means a ratio of at most FLAT."""
    smallest = min(samples)
    return [Row(f"{prefix}.{size}", group, f"{what}, {size:,}{noun}", "ms",
                f"same, {smallest:,}{noun}", samples[size], samples[smallest],
                Target("<=", FLAT), higher_is_better=False,
                note=f"{size // smallest}x the size: flat means ≤ {FLAT:g}x the time")
            for size in sorted(samples) if size != smallest]

