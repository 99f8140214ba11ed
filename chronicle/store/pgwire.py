"""The append function's call on libpq itself, its parameters packed in the binary format.

psycopg adapts the call's nine parameters (eight arrays) in Python, element by element, and
runs its cursor machinery around the call: ~130 µs of client CPU per one-event append against
~40 µs for this (measured side by side on one connection). The formats are PostgreSQL's fixed
binary ones: int4 and int8 big-endian, uuid its 16 bytes, text in the client encoding,
timestamptz microseconds since 2000-01-01 UTC, and a one-dimensional array a header (ndim 1,
no NULLs, element type, length, lower bound 1) then each element after its length.

Whatever this cannot pack (an int beyond int4, text the encoding cannot carry) raises Unheld,
and the store's pooled path, on psycopg's own adaptation, makes the call or raises its error.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence
from typing import Any

from chronicle.store.pgappend import CALL
from chronicle.store.pgconn import Unheld

STATEMENT = b"chronicle_events_append_call"
NUMBERED = (CALL.replace("%b", "%s") % tuple(f"${n}" for n in range(1, 10))).encode()
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TEXT_OID, INT4_OID, UUID_OID = 25, 23, 2950
UNDEFINED_STATEMENT = "26000"        # SQLSTATE: no prepared statement of that name
_HEADER = struct.Struct("!iiIii")
_INT4 = struct.Struct("!i")
_INT8 = struct.Struct("!q")
_MICROSECOND = dt.timedelta(microseconds=1)


def _array(oid: int, items: Sequence[bytes]) -> bytes:
    parts = [_HEADER.pack(1, 0, oid, len(items), 1)]
    for item in items:
        parts += (_INT4.pack(len(item)), item)
    return b"".join(parts)


def parameters(encoding: str, when: dt.datetime, streams: Sequence[str],
               expected: Sequence[int], owner: Sequence[int],
               events: Sequence[tuple[Any, ...]]) -> list[bytes]:
    """The call's parameters in binary (see `StoreDialect.append_in_one_call`)."""
    try:
        ids, types, schemas, payloads, metadata = zip(*events, strict=True)
        ints = _INT4.pack
        return [_INT8.pack((when - EPOCH) // _MICROSECOND),
                _array(TEXT_OID, [s.encode(encoding) for s in streams]),
                _array(INT4_OID, [ints(n) for n in expected]),
                _array(INT4_OID, [ints(n) for n in owner]),
                _array(UUID_OID, [i.bytes for i in ids]),
                _array(TEXT_OID, [t.encode(encoding) for t in types]),
                _array(INT4_OID, [ints(n) for n in schemas]),
                _array(TEXT_OID, [p.encode(encoding) for p in payloads]),
                _array(TEXT_OID, [m.encode(encoding) for m in metadata])]
    except (struct.error, UnicodeError, AttributeError, TypeError, ValueError) as exc:
        raise Unheld(f"not packed by hand: {exc}") from exc


def call(driver: Any, when: dt.datetime, streams: Sequence[str], expected: Sequence[int],
         owner: Sequence[int], events: Sequence[tuple[Any, ...]]) -> int | None:
    """`pgappend.call` on the libpq connection under a psycopg one in autocommit, prepared
    on its first call there; a failure raises the psycopg error psycopg would have."""
    from psycopg import errors, pq

    encoding = driver.info.encoding
    params = parameters(encoding, when, streams, expected, owner, events)
    pgconn = driver.pgconn
    result = pgconn.exec_prepared(STATEMENT, params, [1] * len(params), 1)
    if (result.status == pq.ExecStatus.FATAL_ERROR
            and result.error_field(pq.DiagnosticField.SQLSTATE) == UNDEFINED_STATEMENT.encode()):
        prepared = pgconn.prepare(STATEMENT, NUMBERED)
        if prepared.status != pq.ExecStatus.COMMAND_OK:
            raise errors.error_from_result(prepared, encoding)
        result = pgconn.exec_prepared(STATEMENT, params, [1] * len(params), 1)
    if result.status != pq.ExecStatus.TUPLES_OK:
        if pgconn.status != pq.ConnStatus.OK:
            raise errors.OperationalError(pgconn.get_error_message(encoding))
        raise errors.error_from_result(result, encoding)
    value = result.get_value(0, 0)
    return None if value is None else int(_INT8.unpack(value)[0])
