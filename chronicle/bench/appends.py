"""Append throughput: our store against eventsourcing's recorder and the raw driver's ceiling."""

from __future__ import annotations

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


def time_calls(contender: Contender, calls: Sequence[Call]) -> float:
    """Events per second for writing every call, one transaction each."""
    prepared = contender.prepare(calls)
    gc.collect()
    gc.freeze()            # the prepared events are the harness's, not the contender's garbage
    try:
        started = time.perf_counter()
        for call in prepared:
            contender.write(call)
        elapsed = time.perf_counter() - started
    finally:
        gc.unfreeze()
    return sum(len(call) for call in calls) / elapsed


def measure(site: Site, sizes: Sizes, say: Say) -> list[Row]:
    rows: list[Row] = []
    with SETUP.timing("encoding events"):
        work = workloads(sizes)
    for workload, calls in work.items():
        kinds = contenders_for(site.kind, workload)
        samples = {cls.name: Sample() for cls in kinds}
        for run in range(sizes.runs):
            for cls in kinds:       # interleaved, so drift on a shared machine hits all alike
                if not measured_in(run, sizes, targeted=_targeted(site.kind, workload, cls.name)):
                    continue
                contender = cls()
                with site.fresh(workload) as place:
                    contender.open(place)
                    try:
                        rate = time_calls(contender, calls)
                    finally:
                        contender.close()
                samples[cls.name].runs.append(rate)
                say(f"appends {site.kind} {workload} run {run + 1}/{sizes.runs}: "
                    f"{cls.name} {rate:,.0f} events/s")
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
