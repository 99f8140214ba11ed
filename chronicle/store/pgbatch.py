"""A batch append on the held PostgreSQL connection as one simple-query message: two round
trips where psycopg's cursor and COPY took four (BEGIN with the state; COPY; its data; COMMIT).

The message is LOCK; the head, announced by NOTIFY; the streams' versions; COPY ... FROM
STDIN. A message of several statements is one implicit transaction, and a COPY inside it
waits for its data: the client reads the state (the COPY is open by then), chains the rows,
sends them, and the server commits when the COPY, the message's last statement, is done
(with the default synchronous_commit, before it answers).

The two reads are statements prepared once per connection (EXECUTE'd in the message): the
state query as text was planned on every append, and with the NOTIFY's own max(position)
cost ~0.3 ms of server time per append (of ~1.5 ms for 100 events). Their generic plans
are index scans however small the log was when they were made (pgappend's HEAD and VERSION,
whose plans tests/test_store_concurrency.py checks), and NOTIFY rides on the head's row.

A client that will not insert (a stream moved, a row psycopg cannot pack, an empty log: no
head row to announce with, rare enough for the pooled path) fails the COPY: the server rolls the
whole message back, NOTIFY included, and the connection is idle again, as it is after a
duplicate event id that the unique index refused during the COPY.

psycopg refuses a COPY among other statements, so this speaks to libpq (psycopg.pq) itself,
and waits for the socket in Python: libpq's own PQgetResult would wait holding the GIL, for
as long as another append holds the lock. The rows are still packed by psycopg's binary COPY
formatter (a Copy on our own writer): packing them by hand in Python took twice as long.
Imported only where PostgreSQL is used (psycopg is an optional dependency).
"""

from __future__ import annotations

import datetime as dt
import select
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from psycopg import errors, pq
from psycopg.copy import Copy, Writer

from chronicle.store.dialects import NOTIFY_CHANNEL
from chronicle.store.pgappend import HEAD, VERSION
from chronicle.store.pgconn import Unheld
from chronicle.store.pgdriver import pg_copy_statement, text_array, write_rows
from chronicle.store.pgwire import UNDEFINED_STATEMENT
from chronicle.store.records import TABLE_NAME

R = TypeVar("R")
State = list[tuple[Any, ...]]
HEAD_STATEMENT = "chronicle_batch_head"
VERSIONS_STATEMENT = "chronicle_batch_versions"
PREPARED = {
    HEAD_STATEMENT: (
        "SELECT position, hash, (extract(epoch FROM recorded_at) * 1000000)::int8, "
        f"pg_notify('{NOTIFY_CHANNEL}', (position + $1::int8)::text) FROM ({HEAD}) AS head"),
    VERSIONS_STATEMENT: (
        f"SELECT stream, ({VERSION.format(stream='stream')}) "
        "FROM unnest($1::text[]) AS streams(stream)"),
}
"""The head (its time as microseconds since 1970: an int reads the same whatever the
session's DateStyle) announcing the head after `$1` more events; each stream's version."""
MESSAGE = (f"LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE; EXECUTE {HEAD_STATEMENT}({{adding}}); "
           f"EXECUTE {VERSIONS_STATEMENT}({{streams}}::text[]); {{copy}}")
ABANDONED = b"chronicle: the client abandoned this append"
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def append_rows(driver: Any, table: str, columns: Sequence[str], streams: Sequence[str],
                adding: int, rows_after: Callable[[State], tuple[Sequence[Sequence[Any]], R]]
                ) -> R:
    """An append's fast path on a psycopg connection in autocommit: the append state (as
    `pg_locked_state` returns it) goes to `rows_after`, whose rows (tuples in `columns`
    order) are inserted into `table`, and whose result is returned.

    A failed statement raises psycopg's error once the message is over; what `rows_after`
    or psycopg's packing of the rows raises fails the COPY first."""
    pgconn = driver.pgconn
    encoding = driver.info.encoding
    message = MESSAGE.format(adding=int(adding), streams=text_array(driver, streams),
                             copy=pg_copy_statement(table, columns)).encode(encoding)
    results, copying = _until_copy(pgconn, message)
    if not copying and _undefined(results):
        _prepare(pgconn, encoding)          # this connection's first batch
        results, copying = _until_copy(pgconn, message)
    if not copying:                         # a statement failed: the message is over
        raise _failure(pgconn, results, encoding)
    try:
        rows, outcome = rows_after(_state(results[1], results[2], encoding))
        with driver.cursor() as cursor:     # psycopg's formatter, our sending
            copy = Copy(cursor, binary=True, writer=_CopyData(pgconn))
            write_rows(copy, columns, rows)
            copy.finish(None)
    except BaseException:
        _send(pgconn, lambda: pgconn.put_copy_end(ABANDONED))
        _drain(pgconn)
        raise
    _send(pgconn, lambda: pgconn.put_copy_end(None))
    results = _drain(pgconn)
    if pgconn.status != pq.ConnStatus.OK or any(
            result.status == pq.ExecStatus.FATAL_ERROR for result in results):
        raise _failure(pgconn, results, encoding)
    return outcome


class _CopyData(Writer):
    """Where psycopg's Copy sends the packed rows: each block as it fills (the server parses
    one while the next is packed), to the COPY our message opened; ending it is ours."""

    def __init__(self, pgconn: Any) -> None:
        self._pgconn = pgconn

    def write(self, data: Any) -> None:
        _send(self._pgconn, lambda: self._pgconn.put_copy_data(data))

    def finish(self, exc: BaseException | None = None) -> None:
        pass


def _until_copy(pgconn: Any, message: bytes) -> tuple[list[Any], bool]:
    """Send `message`; its results up to the COPY's, and True, or all of them, and False if
    it ended before (a statement failed)."""
    _send(pgconn, lambda: pgconn.send_query(message))
    results = []
    while (result := _result(pgconn)) is not None:
        results.append(result)
        if result.status == pq.ExecStatus.COPY_IN:
            return results, True
    return results, False


def _undefined(results: list[Any]) -> bool:
    return any(result.status == pq.ExecStatus.FATAL_ERROR
               and result.error_field(pq.DiagnosticField.SQLSTATE) == UNDEFINED_STATEMENT.encode()
               for result in results)


def _prepare(pgconn: Any, encoding: str) -> None:
    for name, statement in PREPARED.items():
        prepared = pgconn.prepare(name.encode(), statement.encode())
        if prepared.status != pq.ExecStatus.COMMAND_OK:
            raise errors.error_from_result(prepared, encoding)


def _state(head: Any, versions: Any, encoding: str) -> State:
    """The state as `pg_locked_state` gives it: (stream, version, None, None) per stream
    with events, then (None, head, hash, time). Unheld for an empty log (see above)."""
    if not head.ntuples:
        raise Unheld("an empty log: announced by the pooled path")
    rows: State = []
    for row in range(versions.ntuples):
        version = versions.get_value(row, 1)
        if version is not None:
            rows.append((bytes(versions.get_value(row, 0)).decode(encoding), int(version),
                         None, None))
    position, hash_, micros = (head.get_value(0, column) for column in range(3))
    rows.append((None, int(position), bytes(hash_).decode(encoding),
                 UNIX_EPOCH + dt.timedelta(microseconds=int(micros))))
    return rows


def _failure(pgconn: Any, results: list[Any], encoding: str) -> Exception:
    """psycopg's error for a lost connection, or for the message's failed statement."""
    if pgconn.status != pq.ConnStatus.OK:
        return errors.OperationalError(pgconn.get_error_message(encoding))
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            return errors.error_from_result(result, encoding)
    return errors.InternalError("the append's message ended before its COPY")


def _drain(pgconn: Any) -> list[Any]:
    """The message's remaining results, up to its end."""
    results = []
    while (result := _result(pgconn)) is not None:
        results.append(result)
    return results


def _result(pgconn: Any) -> Any:
    """The next result (None at the message's end), waited for without the GIL."""
    while pgconn.is_busy():
        _wait(pgconn, write=False)
    return pgconn.get_result()


def _send(pgconn: Any, put: Callable[[], int | None]) -> None:
    """`put` (a libpq call that queues a message; 0: not queued yet, on a nonblocking
    connection), then everything queued flushed to the server."""
    while put() == 0:
        _wait(pgconn, write=True)
    while pgconn.flush():               # 1: some left to send
        _wait(pgconn, write=True)


def _wait(pgconn: Any, *, write: bool) -> None:
    """Until the server sent something (read into libpq) or, with `write`, the socket takes
    more: reading meanwhile keeps a server that is answering from blocking us both."""
    poll = select.poll()
    poll.register(pgconn.socket, select.POLLIN | (select.POLLOUT if write else 0))
    if any(events & ~select.POLLOUT for _, events in poll.poll()):
        pgconn.consume_input()     # raises if the connection is lost (POLLHUP, POLLERR)
