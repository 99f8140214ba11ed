"""Independent pieces of work on separate cores: the static export renders each language in
its own process (the renderer is pure Python, so threads would take turns on one core).

`in_processes` runs the first call in this process and every other one in a forked child,
which inherits everything already in memory (the page data, the compiled templates) and sends
its result back pickled, in chunks. A child computes; whatever it returns is handled
(written, published) by the caller, so a child that dies leaves nothing behind (a sink, below,
undoes what it had the child write), and its failure is raised here. Where `fork` does not exist the
calls simply run one after another.

Inside `handing_to(sink)` each result is first handed to `sink.made` in the process that made
it, and what that returns is sent instead (the static export: a renderer writes its own
files and sends their names, not a gigabyte of pages); the parent hands each child's items to
`sink.received` as they arrive, so a later failure can still undo them, and names a child
whose result it did not receive whole to `sink.abandoned`.

This module imports nothing from chronicle, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from multiprocessing.connection import Connection
from typing import Any, Protocol, TypeVar

__all__ = ["ChildFailed", "Sink", "can_fork", "handing_to", "in_processes"]

T = TypeVar("T")
CHUNK = 1_000   # items a message: the pickles stay small while the parent reads


class ChildFailed(RuntimeError):
    """A forked call raised (its traceback is the message) or its process died."""


class Sink(Protocol):
    """Handles results where they are made (see the module): `made` must pass through what it
    returned before, as nested `in_processes` hand a result on more than once."""

    def made(self, items: list[Any]) -> list[Any]: ...

    def received(self, items: list[Any]) -> None: ...

    def abandoned(self, pid: int) -> None:
        """The child `pid` ended without its result being received whole (it failed or
        died, or this process failed first): undo whatever it made."""


_sink: ContextVar[Sink | None] = ContextVar("forked_sink", default=None)
"""The sink of the innermost `handing_to` block, per thread (a server's other threads render
for themselves); a forked child inherits its parent thread's."""


@contextlib.contextmanager
def handing_to(sink: Sink) -> Iterator[None]:
    """Hand every result of `in_processes` in the block to `sink` (see the module)."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def _made(result: list[Any]) -> list[Any]:
    sink = _sink.get()
    return result if sink is None else sink.made(result)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_processes(calls: Sequence[Callable[[], list[T]]],
                 after_fork: Callable[[], None] | None = None) -> list[list[T]]:
    """Each call's result, in order; calls after the first run in forked children, which
    first run `after_fork` (e.g. to drop database connections inherited from this process)."""
    if len(calls) < 2 or not can_fork() or multiprocessing.current_process().daemon:
        return [_made(call()) for call in calls]   # a daemonic process may not have children
    context = multiprocessing.get_context("fork")
    children = []
    for call in calls[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(call, after_fork, sender), daemon=True)
        child.start()
        sender.close()   # the child's end: our copy would keep the pipe open if it died
        children.append((child, receiver))
    results: list[list[Any]] = []
    try:
        results.append(_made(calls[0]()))
        results += [_receive(child, receiver) for child, receiver in children]
    finally:
        for index, (child, receiver) in enumerate(children, start=1):
            receiver.close()
            if child.is_alive():
                child.kill()
            child.join()
            sink = _sink.get()
            if index >= len(results) and sink is not None and child.pid is not None:
                sink.abandoned(child.pid)
    return results


def _child(call: Callable[[], list[Any]], after_fork: Callable[[], None] | None,
           sender: Connection) -> None:
    try:
        if after_fork is not None:
            after_fork()
        result = _made(call())
    except BaseException:   # the parent raises it: nothing else would report it
        sender.send(("failed", traceback.format_exc()))
        return
    for start in range(0, len(result), CHUNK):
        sender.send(("items", result[start:start + CHUNK]))
    sender.send(("done", len(result)))


def _receive(child: multiprocessing.process.BaseProcess, receiver: Connection) -> list[Any]:
    items: list[Any] = []
    while True:
        try:
            kind, value = receiver.recv()
        except EOFError:
            child.join()
            raise ChildFailed(f"a forked renderer died (exit code {child.exitcode}, "
                              f"pid {child.pid}, parent {os.getpid()})") from None
        if kind == "failed":
            raise ChildFailed(f"a forked call failed:\n{value}")
        if kind == "done":
            if value != len(items):
                raise ChildFailed(f"a forked call sent {len(items)} of {value} items")
            return items
        sink = _sink.get()
        if sink is not None:
            sink.received(value)
        items.extend(value)
