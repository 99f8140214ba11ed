"""Append throughput: our store against eventsourcing's recorder and the raw driver's ceiling.

A run gives every contender measured in it its own fresh database and the same calls, written
in `SLICES` turns: each contender writes its next fiftieth of the calls, then the next
contender does, the order reversed every other turn. A one-event append's time is mostly the
disk's flush of its commit, and that time drifts on a shared disk over seconds: one contender
writing all its calls before the next (as runs did before) let a slow spell land on one side
only, so the single-append ratio of one commit swung from 0.71 to 0.90 over three full runs.
Turns of a fraction of a second (200 one-event calls in the full run) make the drift hit each
side alike; a switch between contenders costs nothing timed. A contender's figure is its
events over the sum of its turns' times; nothing but its own calls is timed.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Sequence

from chronicle.bench.contenders import Call, Contender, contenders_for
from chronicle.bench.figures import Row, Sample, Say, Target
from chronicle.bench.options import BATCH, Sizes, measured_in
from chronicle.bench.payloads import EventFactory, encode
from chronicle.bench.setup import SETUP
from chronicle.bench.sites import Site

PEER = "eventsourcing"
# Issue 21's targets, each on the row it is about: the peer (PEER) or a ceiling (its slug).
TARGETS = {("sqlite", "batch"): ("executemany", 0.7), ("sqlite", "single"): ("executemany", 0.85),
           ("postgresql", "batch"): ("copy", 0.75), ("postgresql", "single"): (PEER, 1.4)}
TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def workloads(sizes: Sizes) -> dict[str, list[Call]]:
    """Batches: one new stream of 100 events per call. Singles: ten events per stream."""
    factory = EventFactory()
    batch = encode(factory.streams(sizes.batch_events, per_stream=BATCH))
    single = encode(factory.streams(sizes.single_events, per_stream=10, first_stream=10**7))
    return {"batch": [batch[i:i + BATCH] for i in range(0, len(batch), BATCH)],
            "single": [[event] for event in single]}


SLICES = 50    # turns per run: 200 of the full run's 10,000 one-event calls a turn


class Turns:
    """One contender's part of a run: its prepared calls and the time its turns took."""

    def __init__(self, contender: Contender, calls: Sequence[Call]) -> None:
        self.contender = contender
        self.prepared = contender.prepare(calls)
        self.events = sum(len(call) for call in calls)
        self.elapsed = 0.0

    def write(self, first: int, end: int) -> None:
        """Calls `first` to `end` (excluded), one transaction each, timed."""
        write, prepared = self.contender.write, self.prepared
        started = time.perf_counter()
        for index in range(first, end):
            write(prepared[index])
        self.elapsed += time.perf_counter() - started

    @property
    def rate(self) -> float:
        """Events per second over the contender's turns."""
        return self.events / self.elapsed


def slices(count: int, parts: int = SLICES) -> list[tuple[int, int]]:
    """`count` calls cut into `parts` consecutive ranges (fewer if there are fewer calls)."""
    parts = max(1, min(parts, count))
    return [(count * i // parts, count * (i + 1) // parts) for i in range(parts)]


def time_turns(turns: Sequence[Turns], count: int) -> None:
    """Every contender's calls, in turns of one slice each (see the module docstring).

    The order reverses every other turn, so no contender always writes first or last."""
    gc.collect()
    gc.freeze()            # the prepared events are the harness's, not a contender's garbage
    try:
        for number, (first, end) in enumerate(slices(count)):
            for turn in (turns if number % 2 == 0 else reversed(turns)):
                turn.write(first, end)
    finally:
        gc.unfreeze()


def run_once(site: Site, workload: str, kinds: Sequence[type[Contender]],
             calls: Sequence[Call]) -> dict[str, float]:
    """One run of `kinds`, each on its own fresh database: events/s by contender name."""
    with contextlib.ExitStack() as stack:
        turns: list[Turns] = []
        for cls in kinds:
            place = stack.enter_context(site.fresh(workload))
            contender = cls()
            contender.open(place)
            stack.callback(contender.close)
            turns.append(Turns(contender, calls))
        time_turns(turns, len(calls))
        return {turn.contender.name: turn.rate for turn in turns}


def runs_of(workload: str, sizes: Sizes) -> int:
    """How many runs a workload gets: the one-event appends more (see Sizes.single_runs)."""
    return sizes.single_runs if workload == "single" else sizes.runs


def measure(site: Site, sizes: Sizes, say: Say) -> list[Row]:
    rows: list[Row] = []
    with SETUP.timing("encoding events"):
        work = workloads(sizes)
    for workload, calls in work.items():
        kinds = contenders_for(site.kind, workload)
        samples = {cls.name: Sample() for cls in kinds}
        runs = runs_of(workload, sizes)
        for run in range(runs):
            measured = [cls for cls in kinds if measured_in(
                run, sizes, targeted=_targeted(site.kind, workload, cls.name), runs=runs)]
            rates = run_once(site, workload, measured, calls)
            for name, rate in rates.items():
                samples[name].runs.append(rate)
            say(f"appends {site.kind} {workload} run {run + 1}/{runs}: "
                + ", ".join(f"{name} {rate:,.0f} events/s" for name, rate in rates.items()))
        rows += _rows(site.kind, workload, samples, sum(len(c) for c in calls))
    return rows


def _slug(name: str) -> str:
    """A contender's row suffix: "sqlite3 executemany" -> "executemany"."""
    return name.rsplit(maxsplit=1)[-1].lower()


def _targeted(kind: str, workload: str, name: str) -> bool:
    """Ours, and whichever contender the workload's target is set against."""
    return name == "chronicle" or _slug(name) == TARGETS[(kind, workload)][0]


def _rows(kind: str, workload: str, samples: dict[str, Sample], count: int) -> list[Row]:
    per_call = BATCH if workload == "batch" else 1
    figure = f"append, {TITLES[kind]}, {per_call}/call ({count:,} events)"
    group = f"appends-{'sqlite' if kind == 'sqlite' else 'postgres'}"
    base = f"appends.{'sqlite' if kind == 'sqlite' else 'postgres'}.{workload}"
    ours = samples["chronicle"]
    against, ratio = TARGETS[(kind, workload)]

    def target(slug: str) -> Target | None:
        return Target(">=", ratio) if slug == against else None

    rows = [Row(base, group, figure, "events/s", PEER, ours, samples[PEER], target(PEER))]
    for name, sample in samples.items():
        if name not in ("chronicle", PEER):
            slug = _slug(name)
            rows.append(Row(f"{base}.{slug}", group, figure, "events/s", f"{name} (ceiling)",
                            ours, sample, target(slug),
                            note=_ceiling_note(sample, samples[PEER])))
    return rows


def _ceiling_note(ceiling: Sample, peer: Sample) -> str:
    """Our fraction of the ceiling, and the ceiling's own ratio to the peer.

    The second says what a target can ask: a target above it asks for more than the raw
    driver writing our rows achieves.
    """
    if not ceiling.runs or not peer.runs or not peer.median:
        return "our fraction of the ceiling"
    return (f"our fraction of the ceiling; the ceiling is {ceiling.median / peer.median:.2f}× "
            f"{PEER}")


def placeholder_rows(kind: str, sizes: Sizes) -> list[Row]:
    """The rows `measure` would make, without figures (for a database that was skipped)."""
    count = {"batch": sizes.batch_events, "single": sizes.single_events}
    rows: list[Row] = []
    for workload in ("batch", "single"):
        names = [cls.name for cls in contenders_for(kind, workload)]
        rows += _rows(kind, workload, {name: Sample() for name in names}, count[workload])
    for row in rows:
        row.ours = row.peer = None
    return rows
