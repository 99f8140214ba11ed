"""How big and how long: the full run's sizes and the quick (CI smoke) ones, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GROUPS = ("appends-sqlite", "appends-postgres", "rebuild", "catch-up", "serve", "feeds", "pages",
          "export")


@dataclass(frozen=True, slots=True)
class Sizes:
    batch_events: int          # appended 100 per call
    single_events: int         # appended one per call
    rebuild_events: int        # the generated log that is rebuilt
    catch_up_logs: tuple[int, ...]
    feed_milestones: tuple[int, ...]
    page_milestones: tuple[int, ...]
    export_milestones: tuple[int, ...]
    wrk_seconds: int
    # The serve group's chronicle: its main feed holds the newest 50 whatever the size, and
    # each app process draws every card at start (500: ~14 s of CPU a process, 100: ~3 s).
    served_milestones: int = 100
    runs: int = 3
    # The one-event appends: a run takes seconds, and its time is the fsync of each commit,
    # which swings most on a shared disk, so their median is taken over more runs.
    single_runs: int = 5
    spare_runs: int = 3          # of a figure no target is set on (see `measured_in`)
    catch_up_repeats: int = 20   # single-event catch-ups per run
    export_runs: int = 3         # a first export of 10,000 milestones writes 10,000+ files


FULL = Sizes(batch_events=100_000, single_events=10_000, rebuild_events=1_000_000,
             catch_up_logs=(10_000, 100_000, 1_000_000), feed_milestones=(1_000, 10_000, 100_000),
             page_milestones=(1_000, 10_000, 100_000),
             export_milestones=(1_000, 10_000, 100_000),
             wrk_seconds=5, export_runs=1, spare_runs=1)
QUICK = Sizes(batch_events=5_000, single_events=500, rebuild_events=20_000,
              catch_up_logs=(1_000, 5_000, 20_000), feed_milestones=(1_000, 5_000),
              page_milestones=(200, 1_000), export_milestones=(100, 500),
              wrk_seconds=1, catch_up_repeats=10, spare_runs=1)
BATCH = 100


def measured_in(run: int, sizes: Sizes, *, targeted: bool, runs: int | None = None) -> bool:
    """Whether a figure is measured in run number `run` (from 0) of `runs` (`sizes.runs`).

    A figure a target compares (ours, or the peer or ceiling of a target) gets every run. Any
    other (an alternative, a peer or ceiling no target names) gets `spare_runs`, taken from the
    middle runs so that it stays interleaved with the figures it is shown beside.
    """
    total = runs or sizes.runs
    if targeted or sizes.spare_runs >= total:
        return True
    first = (total - sizes.spare_runs) // 2
    return first <= run < first + sizes.spare_runs


@dataclass(frozen=True, slots=True)
class BenchOptions:
    sizes: Sizes
    postgres_url: str | None = None
    only: tuple[str, ...] = GROUPS
    work_dir: Path | None = None    # where the run writes (None: the system's temporary one)

    def wants(self, group: str) -> bool:
        return group in self.only
