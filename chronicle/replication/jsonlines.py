"""The log as JSON lines: one stored row per line, for archives and moves between machines.

Import checks the whole file — every hash, every link, its continuity with the target's head,
and that this version can read every event (see `readable`) — before writing anything. The
source is read once (standard input works) and copied aside as it is read; the rows are written
from that copy. A bad line is named by line number and position.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from chronicle.replication.copy import rebuild_read_models
from chronicle.replication.database import (
    append_rows,
    head_link,
    iter_rows,
    read_hashes,
    read_rows,
)
from chronicle.replication.readable import ReadabilityChecker, UnreadableRow
from chronicle.replication.rows import (
    ChainBroken,
    ChainChecker,
    NotAPrefix,
    Row,
    UnreadableEvent,
    from_json_line,
    to_json_line,
)
from chronicle.store import SqlEventStore
from chronicle.store.hashing import KeyMismatch, genesis_hash, key_for_log

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


Source = Path | TextIO
"""An export file, or an open text stream such as standard input (read once)."""


@contextmanager
def _opened(source: Source) -> Iterator[TextIO]:
    if isinstance(source, Path):
        with source.open(encoding="utf-8") as handle:
            yield handle
    else:
        yield source


def read_lines(handle: TextIO, spool: TextIO | None = None) -> Iterator[tuple[int, Row]]:
    """(line number, row) for every non-blank line; each line is also copied to `spool`."""
    for number, text in enumerate(handle, start=1):
        if spool is not None:
            spool.write(text)
        if text.strip():
            yield number, from_json_line(text, number)


def read_file(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, row) for every non-blank line of an export file."""
    with path.open(encoding="utf-8") as handle:
        yield from read_lines(handle)


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
        try:
            key = key_for_log(first["prev_hash"], store.chain_key)
        except KeyMismatch as exc:
            raise ChainBroken(position, str(exc), line) from None
        return ChainChecker(last_hash=genesis_hash(key), key=key)
    head = head_link(store)[0]
    if head < position - 1:
        raise NotAPrefix(f"the file starts at position {position}, but the database ends at "
                         f"position {head}: import the events before it first")
    previous = next(read_hashes(store, position - 2, position - 1), None)
    if previous is None or previous[1] != first["prev_hash"]:
        raise ChainBroken(position, "its prev_hash does not match the database's hash at "
                          f"position {position - 1}: the file continues another log", line)
    return ChainChecker(position=position - 1, last_hash=previous[1], key=store.log_key())


def readable_before(store: SqlEventStore, position: int) -> ReadabilityChecker:
    """A readability checker that has folded the store's rows before `position`."""
    readable = ReadabilityChecker()
    try:
        readable.check_all(iter_rows(store, 0, position - 1))
    except UnreadableRow as exc:
        raise UnreadableEvent(exc.position, exc.reason, where="the database's ") from None
    return readable


def check_file(store: SqlEventStore, source: Source, progress: Progress | None = None, *,
               spool: TextIO | None = None) -> ImportPlan:
    """Read the whole file once and raise on any break, before anything is written.

    `spool` receives a copy of every line read: the import writes from that private copy, so
    what is written is exactly what was checked, even from a pipe or a file changed meanwhile.
    """
    head, head_hash = head_link(store)
    plan = ImportPlan(head=head, head_hash=head_hash)
    checker: ChainChecker | None = None
    readable = ReadabilityChecker()
    ours: Iterator[tuple[int, str]] = iter(())
    with _opened(source) as handle:
        for count, (line, row) in enumerate(read_lines(handle, spool), start=1):
            if checker is None:
                checker = _anchor(store, row, line)
                ours = read_hashes(store, row["position"] - 1, head)
                readable = readable_before(store, row["position"])
            checker.check(row, line)
            try:
                readable.check(row)
            except UnreadableRow as exc:
                raise UnreadableEvent(exc.position, exc.reason, line) from None
            if row["position"] <= head:
                if next(ours, None) != (row["position"], row["hash"]):
                    raise NotAPrefix(f"line {line}: the database's event at position "
                                     f"{row['position']} differs from the file's; import into "
                                     "an empty database or one holding a beginning of this log")
                plan.already_there += 1
            else:
                plan.new_rows += 1
            if progress and count % IMPORT_BATCH == 0:
                progress(count)
    if checker is None:
        raise NotAPrefix("the file holds no events")
    if plan.head == 0:
        plan.head_hash = genesis_hash(checker.key)
    return plan


def import_log(store: SqlEventStore, source: Source, *, batch_size: int = IMPORT_BATCH,
               rebuild: bool = True, progress: ImportProgress | None = None) -> ImportReport:
    """Append the file's rows after the target's head, exactly as stored in the file.

    The source is read once (a pipe works); the rows are written from a private copy of
    what was checked.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        plan = check_file(store, source,
                          (lambda n: progress("checking", n)) if progress else None, spool=spool)
        spool.seek(0)
        head, written = _append_new_rows(store, spool, plan, batch_size, progress)
    seconds = time.perf_counter() - started
    rebuilt = rebuild_read_models(store) if rebuild and written else 0
    return ImportReport(imported=written, already_there=plan.already_there,
                        head=head, seconds=seconds, rebuilt=rebuilt)


def _append_new_rows(store: SqlEventStore, spool: TextIO, plan: ImportPlan, batch_size: int,
                     progress: ImportProgress | None) -> tuple[int, int]:
    """Write the checked rows after the head; returns the new head and the rows written
    (only what was actually written is ever reported)."""
    checker = ChainChecker(position=plan.head, last_hash=plan.head_hash, contents=False)
    batch: list[Row] = []
    written = 0
    for line, row in read_lines(spool):
        if row["position"] <= plan.head:
            continue
        checker.check(row, line)   # links only: the contents were checked on the first reading
        batch.append(row)
        if len(batch) >= batch_size:
            written += _write(store, batch, progress, written)
            batch = []
    written += _write(store, batch, progress, written)
    return checker.position, written


def _write(store: SqlEventStore, batch: list[Row], progress: ImportProgress | None,
           written: int) -> int:
    append_rows(store, batch)
    if progress and batch:
        progress("importing", written + len(batch))
    return len(batch)
