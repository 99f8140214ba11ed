"""The log as JSON lines: one stored row per line, for archives and moves between machines.

Import checks the whole file — every hash, every link, and its continuity with the target's
head — before writing anything, and checks again while writing (the file could change between
the two readings); a bad line is named by line number and position.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from chronicle.replication.copy import rebuild_read_models
from chronicle.replication.database import append_rows, head_link, read_hashes, read_rows
from chronicle.replication.rows import (
    ChainBroken,
    ChainChecker,
    NotAPrefix,
    ReplicationError,
    Row,
    from_json_line,
    to_json_line,
)
from chronicle.store import SqlEventStore

Progress = Callable[[int], None]
"""Rows exported, or rows checked, so far."""
ImportProgress = Callable[[str, int], None]
"""(phase, rows so far): phase "checking" reads the whole file, then "importing" writes."""

EXPORT_PAGE = 5_000
IMPORT_BATCH = 10_000


def export_log(store: SqlEventStore, out: TextIO, *, after: int = 0,
               progress: Progress | None = None) -> int:
    """Write the rows after `after` up to the head as it was when the export began."""
    upto, written = head_link(store)[0], 0
    while after < upto and (rows := read_rows(store, after, min(EXPORT_PAGE, upto - after))):
        out.writelines(to_json_line(row) + "\n" for row in rows)
        written += len(rows)
        after = rows[-1]["position"]
        if progress:
            progress(written)
    return written


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: int
    already_there: int
    head: int
    seconds: float
    rebuilt: int


def read_file(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, row) for every non-blank line."""
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, from_json_line(text, number)


@dataclass
class ImportPlan:
    """What the first reading found: where the file joins the target, and what is new."""

    head: int
    head_hash: str
    new_rows: int = 0
    already_there: int = 0


def _anchor(store: SqlEventStore, first: Row, line: int) -> ChainChecker:
    """The link the file's first row must continue: the genesis, or the target's row before it."""
    position = first["position"]
    if position == 1:
        return ChainChecker()
    head = head_link(store)[0]
    if head < position - 1:
        raise NotAPrefix(f"the file starts at position {position}, but the database ends at "
                         f"position {head}: import the events before it first")
    previous = next(read_hashes(store, position - 2, position - 1), None)
    if previous is None or previous[1] != first["prev_hash"]:
        raise ChainBroken(position, "its prev_hash does not match the database's hash at "
                          f"position {position - 1}: the file continues another log", line)
    return ChainChecker(position=position - 1, last_hash=previous[1])


def check_file(store: SqlEventStore, path: Path, progress: Progress | None = None) -> ImportPlan:
    """Read the whole file once and raise on any break, before anything is written."""
    head, head_hash = head_link(store)
    plan = ImportPlan(head=head, head_hash=head_hash)
    checker: ChainChecker | None = None
    ours: Iterator[tuple[int, str]] = iter(())
    for count, (line, row) in enumerate(read_file(path), start=1):
        if checker is None:
            checker = _anchor(store, row, line)
            ours = read_hashes(store, row["position"] - 1, head)
        checker.check(row, line)
        if row["position"] <= head:
            if next(ours, None) != (row["position"], row["hash"]):
                raise NotAPrefix(f"line {line}: the database's event at position "
                                 f"{row['position']} differs from the file's; import into an "
                                 "empty database or one holding a beginning of this log")
            plan.already_there += 1
        else:
            plan.new_rows += 1
        if progress and count % IMPORT_BATCH == 0:
            progress(count)
    if checker is None:
        raise NotAPrefix(f"{path}: the file holds no events")
    return plan


def import_log(store: SqlEventStore, path: Path, *, batch_size: int = IMPORT_BATCH,
               rebuild: bool = True, progress: ImportProgress | None = None) -> ImportReport:
    """Append the file's rows after the target's head, exactly as stored in the file."""
    started = time.perf_counter()
    plan = check_file(store, path, (lambda n: progress("checking", n)) if progress else None)
    try:
        head = _append_new_rows(store, path, plan, batch_size, progress)
    except ChainBroken as exc:
        raise ReplicationError(f"{path} changed while importing: {exc}; the rows before it "
                               "were imported, run the import again to resume") from exc
    seconds = time.perf_counter() - started
    rebuilt = rebuild_read_models(store) if rebuild and plan.new_rows else 0
    return ImportReport(imported=plan.new_rows, already_there=plan.already_there,
                        head=head, seconds=seconds, rebuilt=rebuilt)


def _append_new_rows(store: SqlEventStore, path: Path, plan: ImportPlan, batch_size: int,
                     progress: ImportProgress | None) -> int:
    """The second reading: check each row again as it is written; returns the new head."""
    checker = ChainChecker(position=plan.head, last_hash=plan.head_hash)
    batch: list[Row] = []
    written = 0
    for line, row in read_file(path):
        if row["position"] <= plan.head:
            continue
        checker.check(row, line)
        batch.append(row)
        if len(batch) >= batch_size:
            written += _write(store, batch, progress, written)
            batch = []
    _write(store, batch, progress, written)
    return checker.position


def _write(store: SqlEventStore, batch: list[Row], progress: ImportProgress | None,
           written: int) -> int:
    append_rows(store, batch)
    if progress and batch:
        progress("importing", written + len(batch))
    return len(batch)
