"""Copy a whole log from one database to another, resuming after whatever prefix the target
already holds, then rebuild the target's read models from its own log."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from chronicle.projections import Projector
from chronicle.replication.database import (
    append_rows,
    head_link,
    iter_rows,
    read_hashes,
    read_rows,
)
from chronicle.replication.readable import ReadabilityChecker, UnreadableRow
from chronicle.replication.rows import ChainChecker, NotAPrefix, Row, UnreadableEvent
from chronicle.store import SqlEventStore
from chronicle.store.hashing import genesis_hash

Progress = Callable[[int, int], None]
"""(position reached, head) — called after every batch."""

DEFAULT_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy did; `seconds` covers the rows only, not the read-model rebuild."""

    copied: int
    already_there: int
    head: int
    seconds: float
    rebuilt: int

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.copied / self.seconds if self.seconds > 0 else 0.0


def check_prefix(source: SqlEventStore, target: SqlEventStore) -> tuple[int, str]:
    """The target's head link, if every one of its rows has the source's hash at its position.

    Raises NotAPrefix otherwise: copying after a foreign or diverged log would splice two
    histories into one chain that no longer verifies.
    """
    position, last_hash = head_link(target)
    if position == 0:
        return position, last_hash
    source_head = head_link(source)[0]
    if source_head < position:
        raise NotAPrefix(f"the target already holds {position} events, more than the "
                         f"source's {source_head}: it is not a beginning of the source's log")
    pairs = zip(read_hashes(target, 0, position), read_hashes(source, 0, position), strict=False)
    compared = 0
    for expected, ((t_pos, t_hash), (s_pos, s_hash)) in enumerate(pairs, start=1):
        if (t_pos, s_pos) != (expected, expected) or t_hash != s_hash:
            raise diverged(expected)
        compared = expected
    if compared != position:
        raise diverged(compared + 1)
    return position, last_hash


def diverged(position: int) -> NotAPrefix:
    return NotAPrefix(f"the target is not a beginning of the source's log: they differ at "
                      f"position {position}; copy into an empty database instead")


def copy_log(source: SqlEventStore, target: SqlEventStore, *, batch_size: int = DEFAULT_BATCH,
             check_contents: bool = True, rebuild: bool = True,
             progress: Progress | None = None) -> CopyReport:
    """Copy every row after the target's head, checking the chain as it goes.

    `check_contents=False` skips recomputing each row's hash (links are still checked) for a
    source just verified. Every source event is first read as this version reads it
    (`check_readable`); an unreadable one is refused before anything is written.
    Raises ChainBroken on a damaged source: the rows before the damage stay copied, a valid
    prefix.
    """
    started = time.perf_counter()
    after, last_hash = check_prefix(source, target)
    upto = check_readable(source)
    key = source.log_key()
    if after == 0:
        last_hash = genesis_hash(key)
    checker = ChainChecker(position=after, last_hash=last_hash, contents=check_contents,
                           key=key)
    head = _pipeline(source, target, checker, batch_size, progress, upto)
    seconds = time.perf_counter() - started
    rebuilt = rebuild_read_models(target) if rebuild else 0
    return CopyReport(copied=head - after, already_there=after, head=head, seconds=seconds,
                      rebuilt=rebuilt)


def check_readable(source: SqlEventStore) -> int:
    """The source's head, once this version has read every event up to it (UnreadableEvent
    otherwise): a copy never writes an event its readers would stop at."""
    upto = head_link(source)[0]
    try:
        ReadabilityChecker().check_all(iter_rows(source, 0, upto))
    except UnreadableRow as exc:
        raise UnreadableEvent(exc.position, exc.reason, where="the source's ") from None
    return upto


def _pipeline(source: SqlEventStore, target: SqlEventStore, checker: ChainChecker,
              batch_size: int, progress: Progress | None, upto: int) -> int:
    """Read the next batch and write the previous one while this one is checked.

    The databases do much of the work in their own threads or processes, so overlapping
    the three steps keeps both busy. Only checked batches are written, one at a time and in
    order; leaving the `with` waits for the write in flight, so an error (a damaged source
    row) still leaves exactly the batches before it in the target.
    """
    source_head, in_flight = upto, checker.position

    def page(after: int) -> list[Row]:   # only what check_readable has read
        return read_rows(source, after, min(batch_size, upto - after)) if after < upto else []

    with ThreadPoolExecutor(1, "copy-read") as reader, \
            ThreadPoolExecutor(1, "copy-write") as writer:
        reading = reader.submit(page, checker.position)
        writing: Future[None] | None = None
        while rows := reading.result():
            reading = reader.submit(page, rows[-1]["position"])
            for row in rows:
                checker.check(row)
            _finish(writing, in_flight, progress, source_head)
            writing = writer.submit(append_rows, target, rows)
            in_flight = rows[-1]["position"]
        return _finish(writing, in_flight, progress, source_head)


def _finish(writing: Future[None] | None, position: int, progress: Progress | None,
            source_head: int) -> int:
    """Wait for the write in flight (raising its error); report the position it reaches."""
    if writing is not None:
        writing.result()
        if progress:
            progress(position, max(position, source_head))
    return position


def rebuild_read_models(store: SqlEventStore, progress: Progress | None = None) -> int:
    """Read models come from the log they sit beside, never from the source's tables."""
    return Projector(store).rebuild(progress)
