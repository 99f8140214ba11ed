"""`verify`: recompute the hash chain of the whole log, in the mode the log was started in.

The mode is written in the log (row 1's prev_hash: zeros for a plain chain, a key-derived
genesis for a keyed one, see hashing.py), so a keyed log verified without its key, or with
another, fails at position 1, and so does a plain log while a key is set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from chronicle.store.hashing import KEY_VARIABLE, genesis_hash, is_keyed_genesis, row_hash
from chronicle.store.records import StoreUnavailable, VerifyReport
from chronicle.store.schema import events_table as T

if TYPE_CHECKING:
    from chronicle.store.sql import SqlEventStore

PAGE = 5000


def verify_log(store: SqlEventStore, progress: Callable[[int], None] | None = None
               ) -> VerifyReport:
    head = store.head()
    with store.engine.connect() as conn:
        first = conn.execute(sa.select(T.c.prev_hash).where(T.c.position == 1)).scalar()
    keyed = first is not None and is_keyed_genesis(first)
    mode = "keyed" if keyed or (first is None and store.chain_key) else "plain"
    if first is not None:
        problem = mode_problem(store.chain_key, first, keyed)
        if problem:
            return VerifyReport(checked=0, head=head, first_bad_position=1, reason=problem,
                                mode=mode)
    key = store.chain_key if keyed else None
    prev_hash, expected_position, checked = genesis_hash(key), 1, 0
    after = 0
    while True:
        rows, unreadable = _page(store, after)
        if unreadable is not None:
            return VerifyReport(checked=checked, head=head, mode=mode,
                                first_bad_position=unreadable[0], reason=unreadable[1])
        for row in rows:
            problem = _check_row(row, expected_position, prev_hash, key)
            if problem:
                return VerifyReport(checked=checked, head=head, mode=mode,
                                    first_bad_position=row.position, reason=problem)
            prev_hash, expected_position, checked = row.hash, row.position + 1, checked + 1
        if progress:
            progress(checked)
        if len(rows) < PAGE:
            return VerifyReport(checked=checked, head=head, mode=mode)
        after = rows[-1].position


def _page(store: SqlEventStore, after: int) -> tuple[Sequence[Row[Any]], tuple[int, str] | None]:
    """The rows after `after`; or the first one whose columns cannot be read (a recorded
    time edited into something that is not a time), with the reason."""
    query = sa.select(T).where(T.c.position > after).order_by(T.c.position)
    try:
        with store.engine.connect() as conn:
            return conn.execute(query.limit(PAGE)).all(), None
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["lost"])[0]
        raise StoreUnavailable(store.url, reason) from exc
    except (ValueError, TypeError):
        positions = sa.select(T.c.position).where(T.c.position > after).order_by(
            T.c.position).limit(PAGE)
        with store.engine.connect() as conn:
            found: list[int] = list(conn.execute(positions).scalars())
            for position in found:
                try:
                    conn.execute(sa.select(T).where(T.c.position == position)).one()
                except (ValueError, TypeError) as exc:
                    return [], (position, f"its recorded_at cannot be read as a time "
                                f"({exc}): the row was edited")
        raise


def mode_problem(key: bytes | None, first_prev_hash: str, keyed: bool) -> str | None:
    """Why this log cannot be verified in its mode with `key` (None: it can)."""
    if keyed and key is None:
        return (f"the log's hash chain is keyed (HMAC): verifying it needs {KEY_VARIABLE} "
                "in the environment")
    if keyed and first_prev_hash != genesis_hash(key):
        return f"{KEY_VARIABLE} is not the key this log was started with"
    if not keyed and key is not None:
        return (f"{KEY_VARIABLE} is set, but this log's hash chain is plain (it was started "
                "without a key): anyone who can write to the database can rewrite it")
    return None


def _check_row(row: Row[Any], expected_position: int, prev_hash: str,
               key: bytes | None) -> str | None:
    if row.position != expected_position:
        return f"position {expected_position} is missing (next row is {row.position})"
    if row.prev_hash != prev_hash:
        return "its prev_hash does not match the hash of the row before"
    if row_hash(dict(row._mapping), key) != row.hash:
        return "its content does not match its hash (the row was edited)"
    return None
