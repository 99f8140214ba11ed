"""The static export on chronicles of growing size: every document rendered from scratch and
written as files into an empty directory, as `chronicle export` does the first time.

A row compares a size's documents per second with the smallest size's, and says what it
measured: how many documents and bytes, and how the time splits between rendering the
documents (each renderer writing its documents' temporary files as it goes: see
`chronicle.feeds.export.SiteWriter.rendering`) and committing them (atomically, with
their fsyncs in flight together: see `chronicle.files.AtomicBatch`). The card images are
left out (see the card note in the pages group); the chronicles are the ones the feeds and
pages groups generate, copied.
Each site is kept until the group ends, then removed: the disk is ext4 without a journal,
whose inode allocator steps over every inode freed in the last 12 hours (`dirtytime_expire_seconds`)
(`recently_deleted` in fs/ext4/ialloc.c), so an export made right after the previous one was
deleted spent several times its system CPU scanning for free inodes: the bench's own cleanup,
not the writer, measured. The row's note gives the export's user and system CPU (every
process of it) so that a reader sees what a run paid.
The full run measures the aim's size (AIM_MILESTONES) once, as the issue asks: 2.5 GB of
files, about a minute on a fast machine and three on a slow one (the 100,000-milestone
chronicle is the pages group's, copied); a smaller run projects the aim's time from its
largest size.
"""

from __future__ import annotations

import resource
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from chronicle.bench.figures import Row, Sample, Say
from chronicle.bench.logs import milestone_chronicle
from chronicle.bench.pageregen import pages_without_cards
from chronicle.config import Settings
from chronicle.feeds.documents import site_documents
from chronicle.feeds.export import SiteWriter
from chronicle.projections import ReadModels

AIM_MILESTONES = 100_000   # the aim: the whole export of this many in under a minute
AIM_SECONDS = 60


@dataclass(frozen=True, slots=True)
class ExportRun:
    """One first export: how many documents and bytes, and the seconds of each part."""

    documents: int
    size: int              # bytes written
    render: float          # with the temporary files written by the renderers
    write: float           # what is left: the commit (syncfs, renames), the manifest
    user: float            # CPU seconds of the export's processes (forked renderers too)
    system: float

    @property
    def rate(self) -> float:
        return self.documents / (self.render + self.write)


def export_once(directory: Path, milestones: int, out: Path) -> ExportRun:
    """Render every document of a chronicle of `milestones` and write them into `out`, a new
    directory the caller removes (see the module: not right before the next export)."""
    store = milestone_chronicle(directory / f"export-{milestones}.db", milestones,
                                directory / "originals")
    try:
        cpu = _cpu()
        started = time.perf_counter()
        writer = SiteWriter(out)
        with writer.rendering():
            documents = site_documents(Settings.model_validate({}), ReadModels(store.engine),
                                       sources=(pages_without_cards,))
            rendered = time.perf_counter()
            report = writer.write_all(documents)
        written = time.perf_counter()
        user, system = (after - before for before, after in zip(cpu, _cpu(), strict=True))
    finally:
        store.close()
    assert len(report.written) == len(documents), "the export skipped documents of a new site"
    return ExportRun(len(documents), report.size, rendered - started, written - rendered,
                     user, system)


def _cpu() -> tuple[float, float]:
    """User and system CPU seconds of this process and its ended children (the forked
    renderers are joined before the export returns)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + children.ru_utime, own.ru_stime + children.ru_stime


def describe(milestones: int, run: ExportRun) -> str:
    return (f"{milestones:,} milestones: {run.documents:,} documents, "
            f"{run.size / 1e6:,.1f} MB, render and write {run.render:,.1f} s + commit "
            f"{run.write:,.1f} s (CPU: user {run.user:,.1f} s, system {run.system:,.1f} s)")


def measure(directory: Path, sizes: tuple[int, ...], runs: int, say: Say) -> list[Row]:
    samples: dict[int, Sample] = {n: Sample() for n in sizes}
    last: dict[int, ExportRun] = {}
    sites = []
    try:
        for run in range(runs):
            for size in sizes:
                sites.append(directory / f"site-{size}-{run}")
                last[size] = export_once(directory, size, sites[-1])
                samples[size].runs.append(last[size].rate)
                say(f"export {describe(size, last[size])}")
            say(f"export run {run + 1}/{runs} done")
    finally:
        for site in sites:   # after every export (see the module)
            shutil.rmtree(site, ignore_errors=True)
    smallest = min(sizes)
    return [Row(f"export.{size}", "export",
                f"static export, {size:,} milestones ({last[size].documents:,} documents)",
                "documents/s", f"same, {smallest:,} milestones", samples[size],
                samples[smallest], note=_note(size, last[size], samples[size]))
            for size in sorted(sizes) if size != smallest]


def _note(milestones: int, run: ExportRun, sample: Sample) -> str:
    projected = AIM_MILESTONES * run.documents / milestones / sample.median
    at_aim = ("measured" if milestones == AIM_MILESTONES else
              f"at this rate {AIM_MILESTONES:,} milestones would take {projected:,.0f} s")
    return (f"last run {describe(milestones, run)}; {at_aim} (aim: under {AIM_SECONDS} s); "
            f"every document rendered from scratch (the feeds in a process of their own "
            f"beside the pages, each language's pages in a process of its own, each writing "
            f"its documents' temporary files) into an empty directory (then syncfs, renamed, "
            f"syncfs: chronicle.files.AtomicBatch), each site removed only after the "
            f"group's last export (ext4 without a journal makes creating files slow for a "
            f"minute or more after many were deleted); card images left out")
