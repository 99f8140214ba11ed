"""Which replica runs the scheduler: the one holding the store's "scheduler" lock.

The lock is the database's own (chronicle/store/heldlocks.py, handed out by the store
dialect): on PostgreSQL a session advisory lock on a connection kept open for as long as this
replica leads, keyed by the log's schema; on SQLite an ``fcntl`` lock on a file beside the
database (``<db>.scheduler-lock``); an in-memory database always leads. When the leader dies
its lock goes with it, and a standby retrying every few seconds takes over.

Leadership only avoids wasted work; the claim in the log is what makes a post go out once.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from chronicle.store.dialects import dialect_for
from chronicle.store.heldlocks import AlwaysHeld, FileHeldLock, HeldLock

__all__ = ["AlwaysLeader", "FileLeadership", "Leadership", "leader_present", "leadership_for"]

LOCK_NAME = "scheduler"
Leadership = HeldLock
FileLeadership = FileHeldLock   # a lock file of one's own (tests, tools)
AlwaysLeader = AlwaysHeld


def leadership_for(engine: Engine) -> Leadership:
    return dialect_for(engine).held_lock(engine, LOCK_NAME)


def leader_present(engine: Engine) -> bool | None:
    """Whether some process leads the scheduler now; None when this database cannot tell.

    Asked by a process that does not run the scheduler itself (`serve` with
    `server.scheduler = false`), so an operator learns when no replica posts.
    """
    return leadership_for(engine).held_by_anyone()
