"""`chronicle bench`: how the chronicle compares with its peers and its ceilings, as ratios."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chronicle.cli.context import BadInput, err, out

REPO = Path(__file__).resolve().parents[2]


def _groups(only: list[str] | None) -> tuple[str, ...]:
    from chronicle.bench import GROUPS

    if not only:
        return GROUPS
    chosen = [name.strip() for item in only for name in item.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(GROUPS))
    if unknown:
        raise BadInput(f"--only: unknown {', '.join(unknown)} (choose from {', '.join(GROUPS)})")
    return tuple(name for name in GROUPS if name in chosen)


def bench_command(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes, 1 s wrk runs: a few "
                                        "minutes, for CI smoke tests.")] = False,
    postgres: Annotated[str | None, typer.Option(
        "--postgres", metavar="URL", help="PostgreSQL server for the PostgreSQL rows (a "
        "bench_* schema is made and dropped), e.g. postgresql://postgres@127.0.0.1:5432/test. "
        "Without it those rows are skipped.")] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", metavar="OUT", help="Also write every figure, with commit, date and "
        "machine, to this JSON file.")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", metavar="NAME", help="Only these groups (repeat or comma-separate): "
        "appends-sqlite, appends-postgres, rebuild, catch-up, serve, feeds, pages, "
        "export.")] = None,
    work_dir: Annotated[Path | None, typer.Option(
        "--work-dir", metavar="DIR", help="Write the generated logs, chronicles and export "
        "sites in a new directory under DIR, removed at the end (default: the system's "
        "temporary directory, $TMPDIR). The full run's export writes ~440,000 files and "
        "directories (2.5 GB) at 100,000 milestones; on ext4 without a journal, creating "
        "files where many were deleted in the last 12 hours is several times slower, so pick "
        "a directory on the disk the chronicle exports to, away from fresh deletions.")] = None,
) -> None:
    """Measure appends, rebuild, catch-up, feed serving and feed regeneration against peers.

    One table: each figure's median of 3 runs (5 for one-event appends)
    (min–max), the peer's or
    ceiling's figure from the same run, their ratio, and whether the target
    is met; a figure no target compares gets the middle run only ("1 run").
    In an append run the contenders take turns of a fiftieth of their calls each.
    Progress goes to stderr. A full run took 10 minutes at 3e103e6 on a
    fast 2-core machine, and 38 at f2e3ad3 (the same code) on one three to four
    times slower (26 at cf694b6, 23 at 29215cf on others in between): its sizes
    are fixed, so its time follows the machine.
    """
    from chronicle.bench import FULL, QUICK, BenchOptions, report, run

    options = BenchOptions(QUICK if quick else FULL, postgres, _groups(only),
                           _work_dir(work_dir))
    for noisy in ("chronicle.store", "chronicle.projections", "alembic"):  # a schema per run
        logging.getLogger(noisy).setLevel(logging.WARNING)
    commit = report.commit_hash(REPO)   # what is measured: the code as the run starts
    started = time.perf_counter()
    result = run(options, lambda message: err.print(message, markup=False, highlight=False))
    seconds = time.perf_counter() - started
    title = (f"chronicle bench{' --quick' if quick else ''}: {seconds:.0f} s, "
             f"commit {commit[:12]}")
    # Piped output gets a wide table rather than one squeezed into 80 columns.
    console = out if out.is_terminal else Console(width=200, soft_wrap=True)
    console.print(report.table(result.rows, title))
    for note in result.notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    if json_out is not None:
        report.write_json(json_out, report.document(result.rows, options.sizes, quick=quick,
                                                    seconds=seconds, commit=commit,
                                                    notes=result.notes))
        err.print(f"figures written to {json_out}", markup=False, highlight=False)


def _work_dir(path: Path | None) -> Path | None:
    if path is not None and not path.is_dir():
        raise BadInput(f"--work-dir: {path} is not an existing directory")
    return path


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
