"""This process's id, kept current across forks without a system call per append.

A held connection (SQLite's in appendconn.py, PostgreSQL's in pgconn.py) belongs to the process
that opened it: a forked child must open its own.
"""

from __future__ import annotations

import os

_PROCESS = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PROCESS.__setitem__(0, os.getpid()))


def process_id() -> int:
    """os.getpid(), as of the last fork (getpid is a system call; an append asks each time)."""
    return _PROCESS[0]
