"""Feed regeneration: what the server does after one new milestone, on chronicles of growing size.

The server's own refresh is timed, in-process and without HTTP: the follower of a
`ServerState` catches the projector up and replaces the served documents with the feeds of
the new position (`SiteDocuments`: incremental `LiveFeeds`). The pages, which the server
renders in the same refresh, are left out here (their documents are a separate figure). A
flat cost means the work follows the change, not the size of the chronicle.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chronicle.bench.figures import Row, Sample, Say, Target
from chronicle.bench.logs import milestone_chronicle
from chronicle.bench.payloads import BenchEvent, EventFactory
from chronicle.bench.setup import SETUP
from chronicle.config import Settings
from chronicle.feeds.documents import DocumentSource
from chronicle.projections import Projector
from chronicle.store import SqlEventStore
from chronicle.web.state import ServerState

FLAT = 2.0
MAIN_ATOM = "/feeds/milestones.atom"
Check = Callable[[ServerState, BenchEvent], bool]


@dataclass(slots=True)
class Regeneration:
    """One size's figures: each run's median refresh, and the first (full) render."""

    sample: Sample
    first_render_ms: float


def serving_state(store: SqlEventStore, sources: Sequence[DocumentSource] = ()) -> ServerState:
    """A server's state over a caught-up projector; its first step renders every document."""
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return ServerState.build(Settings(), store, projector, sources=sources)


def shows_in_main_feed(state: ServerState, event: BenchEvent) -> bool:
    served = state.cache.get(MAIN_ATOM)
    return served is not None and event.event.payload["id"].encode() in served.document.body


def refresh_ms(state: ServerState, store: SqlEventStore, event_number: int,
               shows: Check = shows_in_main_feed) -> float:
    """Append one milestone, then time the follower's step; the documents must show it."""
    event = EventFactory().recorded(event_number)
    store.append(event.stream_id, [event.event], 0)
    started = time.perf_counter()
    refreshed = state.follower.step()
    elapsed = (time.perf_counter() - started) * 1000
    assert refreshed, "the follower did not refresh the documents"
    assert shows(state, event), "the new milestone is missing from the refreshed documents"
    return elapsed


def regenerate(path: Path, milestones: int, runs: int, repeats: int, say: Say, *,
               what: str = "feeds", sources: Sequence[DocumentSource] = (),
               shows: Check = shows_in_main_feed) -> Regeneration:
    """Per run, the median time of `repeats` refreshes after one new milestone each.

    `sources`: the documents the server renders besides the feeds (none: the feeds alone).
    """
    store = milestone_chronicle(path, milestones, path.parent / "originals")
    try:
        with SETUP.timing("first renders"):
            state = serving_state(store, sources)
            started = time.perf_counter()
            state.follower.step()
            first = (time.perf_counter() - started) * 1000
        say(f"{what} {milestones:,} milestones: first full render {first:,.0f} ms")
        sample = Sample()
        for run in range(runs):
            times = [refresh_ms(state, store, milestones + run * repeats + i, shows)
                     for i in range(repeats)]
            sample.runs.append(statistics.median(times))
            say(f"{what} {milestones:,} milestones run {run + 1}/{runs}: "
                f"{sample.runs[-1]:,.1f} ms")
        return Regeneration(sample, first)
    finally:
        store.close()


def first_renders(results: dict[int, Regeneration]) -> str:
    return ", ".join(f"{r.first_render_ms:,.0f} ms @{n:,}" for n, r in sorted(results.items()))


def measure(directory: Path, sizes: tuple[int, ...], runs: int, say: Say) -> list[Row]:
    results = {n: regenerate(directory / f"feeds-{n}.db", n, runs, 3, say) for n in sizes}
    first = first_renders(results)
    return flat_rows("feeds", "feeds", "main Atom feed after 1 new milestone", " milestones",
                     {n: result.sample for n, result in results.items()},
                     extra=f"; the server's refresh (catch-up + feed documents), "
                           f"first full render {first}")


def flat_rows(prefix: str, group: str, what: str, noun: str, samples: dict[int, Sample],
              extra: str = "") -> list[Row]:
    """Each larger size against the smallest: flat means a ratio of at most FLAT."""
    smallest = min(samples)
    return [Row(f"{prefix}.{size}", group, f"{what}, {size:,}{noun}", "ms",
                f"same, {smallest:,}{noun}", samples[size], samples[smallest],
                Target("<=", FLAT), higher_is_better=False,
                note=f"{size // smallest}x the size: flat means ≤ {FLAT:g}x the time{extra}")
            for size in sorted(samples) if size != smallest]
