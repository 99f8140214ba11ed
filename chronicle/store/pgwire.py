"""The append function's call on libpq itself, its parameters packed in the binary format;
and the log's rows packed for binary COPY (chronicle/store/pgbatch.py sends them).

psycopg adapts the call's nine parameters (eight arrays) in Python, element by element, and
runs its cursor machinery around the call: ~130 µs of client CPU per one-event append against
~40 µs for this (measured side by side on one connection). The formats are PostgreSQL's fixed
binary ones: int4 and int8 big-endian, uuid its 16 bytes, text in the client encoding,
timestamptz microseconds since 2000-01-01 UTC, and a one-dimensional array a header (ndim 1,
no NULLs, element type, length, lower bound 1) then each element after its length.

Whatever this cannot pack (an int beyond int4, text the encoding cannot carry) raises Unheld,
and the store's pooled path, on psycopg's own adaptation, makes the call or raises its error.

COPY's binary format is a signature, then per row its field count and each field after its
length, then -1. psycopg's `write_row` dumps each of a row's eleven values through its
adapters (~4 µs a row); the rows of one append share their stream, type, metadata and time,
so those are packed once, and each hash once (it is the next row's prev_hash).
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
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)     # no flags, no header extension
COPY_TRAILER = b"\xff\xff"
_ROW_START = struct.Struct("!hiq")       # 11 fields, then the position's length and value
_SIZED_INT4 = struct.Struct("!ii")
_SIZED_INT8 = struct.Struct("!iq")
_UUID_SIZE = _INT4.pack(16)
_NONE = object()        # no value yet (None is a value: it cannot be packed)


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


def _sized(text: str, encoding: str) -> bytes:
    data = text.encode(encoding)
    return _INT4.pack(len(data)) + data


def copy_rows(encoding: str, rows: Sequence[Sequence[Any]]) -> bytes:
    """Rows of the log (its columns in table order, values as the store binds them) as a
    whole binary COPY stream; Unheld for a value this cannot pack."""
    parts = [COPY_SIGNATURE]
    add = parts.append
    stream: object = _NONE
    type_ = metadata = when = schema = prev = stream
    stream_field = type_field = metadata_field = when_field = schema_field = prev_field = b""
    try:
        for (position, stream_id, version, event_id, event_type, schema_version, recorded_at,
             payload, metadata_json, prev_hash, hash_) in rows:
            if stream_id is not stream:
                stream, stream_field = stream_id, _sized(stream_id, encoding)
            if event_type is not type_:
                type_, type_field = event_type, _sized(event_type, encoding)
            if schema_version is not schema:
                schema, schema_field = schema_version, _SIZED_INT4.pack(4, schema_version)
            if recorded_at is not when:
                when = recorded_at
                when_field = _SIZED_INT8.pack(8, (recorded_at - EPOCH) // _MICROSECOND)
            if metadata_json is not metadata:
                metadata, metadata_field = metadata_json, _sized(metadata_json, encoding)
            if prev_hash is not prev:
                prev_field = _sized(prev_hash, encoding)
            prev, hash_field = hash_, _sized(hash_, encoding)
            data = payload.encode(encoding)
            add(b"%b%b%b%b%b%b%b%b%b%b%b%b%b" % (
                _ROW_START.pack(11, 8, position), stream_field,
                _SIZED_INT4.pack(4, version), _UUID_SIZE, event_id.bytes, type_field,
                schema_field, when_field, _INT4.pack(len(data)), data, metadata_field,
                prev_field, hash_field))
            prev_field = hash_field
    except (struct.error, UnicodeError, AttributeError, TypeError, ValueError) as exc:
        raise Unheld(f"not packed by hand: {exc}") from exc
    add(COPY_TRAILER)
    return b"".join(parts)
