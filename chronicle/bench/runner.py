"""Runs the selected measurements in order and collects their rows.

Everything is written under one temporary directory (and PostgreSQL schemas named bench_*),
removed at the end whatever happens.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chronicle.bench import appends, export, feedregen, pageregen, rebuild, serving
from chronicle.bench.figures import Row, Sample, Say, Target, skipped_rows
from chronicle.bench.logs import generate_log
from chronicle.bench.options import BenchOptions
from chronicle.bench.payloads import EventFactory
from chronicle.bench.setup import SETUP
from chronicle.bench.sites import DEFAULT_POSTGRES_URL, PostgresSite, SqliteSite
from chronicle.store import SqlEventStore

REBUILD_TARGET = 0.6           # issue 21
CATCH_UP_STREAMS = 10**8       # far above any generated milestone number


@dataclass
class BenchResult:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _postgres_rows(options: BenchOptions, result: BenchResult, say: Say) -> None:
    if options.postgres_url is None:
        reason = f"no --postgres URL (e.g. {DEFAULT_POSTGRES_URL})"
        result.notes.append(f"PostgreSQL rows skipped: {reason}")
        result.rows += skipped_rows(appends.placeholder_rows("postgresql", options.sizes), reason)
        return
    site = PostgresSite(options.postgres_url)
    try:
        site.check()
    except Exception as exc:  # unreachable: say why and go on with the rest
        reason = f"PostgreSQL unreachable: {str(exc).splitlines()[0]}"
        result.notes.append(reason)
        result.rows += skipped_rows(appends.placeholder_rows("postgresql", options.sizes), reason)
        site.close()
        return
    try:
        result.rows += appends.measure(site, options.sizes, say)
    finally:
        site.close()


def _rebuild_and_catch_up(options: BenchOptions, work: Path, result: BenchResult,
                          say: Say) -> None:
    sizes = options.sizes
    largest = max(sizes.catch_up_logs)
    size = sizes.rebuild_events if options.wants("rebuild") else largest
    say(f"generating a log of {size:,} events (our store, {10_000:,} events per append)")
    store, rate = generate_log(work / "rebuild.db", size)
    result.notes.append(f"log of {size:,} events generated through our store at {rate:,.0f} "
                        "events/s (no cache)")
    try:
        if options.wants("rebuild"):
            result.rows.append(_rebuild_row(store, work / "rebuild.db", size, sizes.runs, say))
        if options.wants("catch-up"):
            result.rows += _catch_up_rows(options, work, {size: store} if size == largest else {},
                                          say)
    finally:
        store.close()


def _rebuild_row(store: SqlEventStore, path: Path, size: int, runs: int, say: Say) -> Row:
    ours, floor = Sample(), Sample()
    for run in range(runs):
        floor.runs.append(rebuild.floor_rebuild(path))
        ours.runs.append(rebuild.our_rebuild(store))
        say(f"rebuild run {run + 1}/{runs}: ours {ours.runs[-1]:,.0f} events/s, "
            f"floor {floor.runs[-1]:,.0f} events/s")
    rebuild.drop_floor(path)
    return Row("rebuild.sqlite", "rebuild", f"rebuild read models, {size:,}-event log (SQLite)",
               "events/s", "sqlite3 read + 1 row/event (floor)", ours, floor,
               Target(">=", REBUILD_TARGET))


def _catch_up_rows(options: BenchOptions, work: Path, ready: dict[int, SqlEventStore],
                   say: Say) -> list[Row]:
    sizes = options.sizes
    factory = EventFactory()
    samples: dict[int, Sample] = {}
    for size in sizes.catch_up_logs:
        store = ready.get(size)
        opened = store is None
        if store is None:
            say(f"generating a log of {size:,} events for catch-up")
            store, _ = generate_log(work / f"catch-up-{size}.db", size)
        try:
            samples[size] = Sample()
            for run in range(sizes.runs):
                first = CATCH_UP_STREAMS + run * sizes.catch_up_repeats
                samples[size].runs.append(
                    rebuild.catch_up_ms(store, factory, first, sizes.catch_up_repeats))
                say(f"catch-up at {size:,} events run {run + 1}/{sizes.runs}: "
                    f"{samples[size].runs[-1]:.2f} ms")
        finally:
            if opened:
                store.close()
    return feedregen.flat_rows("catch-up", "catch-up", "catch-up of 1 new event", "-event log",
                               samples)


def _serve(options: BenchOptions, work: Path, result: BenchResult, say: Say) -> None:
    seconds = options.sizes.wrk_seconds
    try:
        result.rows += serving.measure(work / "serve", options.sizes, say)
        result.notes.append(f"serve: `chronicle serve` with default server settings, and each "
                            f"alternative (serve.*.rps.<name> in --json), vs nginx (1 worker, "
                            f"static file, ETag), wrk 2 threads, 32 connections, {seconds} s "
                            f"per run, 127.0.0.1")
    except serving.ServeUnavailable as exc:
        result.rows += serving.unavailable_rows(str(exc))


def _feeds(options: BenchOptions, work: Path, result: BenchResult, say: Say) -> None:
    sizes = options.sizes.feed_milestones
    result.rows += feedregen.measure(work / "feeds", sizes, options.sizes.runs, say)


def _pages(options: BenchOptions, work: Path, result: BenchResult, say: Say) -> None:
    sizes = options.sizes.page_milestones
    result.rows += pageregen.measure_pages(work / "feeds", sizes, options.sizes.runs, say)
    result.notes.append(pageregen.card_note(sizes))


def _export(options: BenchOptions, work: Path, result: BenchResult, say: Say) -> None:
    sizes = options.sizes.export_milestones
    result.rows += export.measure(work / "feeds", sizes, options.sizes.export_runs, say)


def run(options: BenchOptions, say: Say) -> BenchResult:
    result = BenchResult()
    took: list[str] = []
    SETUP.reset()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chronicle-bench-", dir=options.work_dir) as tmp:
        work = Path(tmp)
        result.notes.append(f"work directory {work} (generated logs, chronicles, export sites)")
        for name, wanted, measure in _groups(options):
            if wanted:
                began = time.perf_counter()
                measure(options, work, result, say)
                took.append(f"{name} {time.perf_counter() - began:,.0f} s")
    result.notes.append(f"wall time {time.perf_counter() - started:,.0f} s ({', '.join(took)})")
    result.notes.append(SETUP.note())
    return result


Group = Callable[[BenchOptions, Path, BenchResult, Say], None]


def _groups(options: BenchOptions) -> list[tuple[str, bool, Group]]:
    """Each step of a run in order, whether it was asked for, and what runs it."""
    return [
        ("appends-sqlite", options.wants("appends-sqlite"), _sqlite_appends),
        ("appends-postgres", options.wants("appends-postgres"),
         lambda o, _w, r, say: _postgres_rows(o, r, say)),
        ("rebuild+catch-up", options.wants("rebuild") or options.wants("catch-up"),
         _rebuild_and_catch_up),
        ("serve", options.wants("serve"), _serve),
        ("feeds", options.wants("feeds"), _feeds),
        ("pages", options.wants("pages"), _pages),
        ("export", options.wants("export"), _export),
    ]


def _sqlite_appends(options: BenchOptions, work: Path, result: BenchResult, say: Say) -> None:
    (work / "appends").mkdir()
    result.rows += appends.measure(SqliteSite(work / "appends"), options.sizes, say)
