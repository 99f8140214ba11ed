"""PostgreSQL's append in one round trip: a server-side function that locks, checks, chains
and inserts, called in autocommit so that the call is the whole transaction.

An append from the client took four round trips (BEGIN; LOCK + state + NOTIFY; INSERT; COMMIT)
because the chain hash of each row needs the head's hash, which only the locked transaction
may read. The function computes the same hash on the server: SHA-256 of the documented JSON
array (chronicle/store/hashing.py), whose strings PostgreSQL's `to_json(text)` escapes exactly
as Python's `json` does with `ensure_ascii=False` (`\\b \\f \\n \\r \\t \\" \\\\`, other
controls as lowercase `\\u00XX`, everything else as is). `chronicle verify` recomputes every
hash in Python, and the tests append hostile text through the function and verify it.

The client still encodes payloads as canonical JSON; the function returns NULL when a stream is
not at its expected version, and the store then takes its careful path, which tells a retry
from a conflict. Its two reads are written so that any plan, the generic one PostgreSQL caches
for a function's statements included, is an index scan (a plan made while the log was small
once kept a sequential scan, see `PostgresDialect.locked_state`); forcing custom plans instead
cost ~0.2 ms a call in planning. A one-event append (the common case) is one INSERT ... VALUES
without the arrays a batch builds (migration 0006: ~45 µs less server time of ~0.3 ms).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from chronicle.store.contract import ANY_VERSION
from chronicle.store.dialects import NOTIFY_CHANNEL
from chronicle.store.hashing import GENESIS_HASH
from chronicle.store.schema import TABLE_NAME

FUNCTION = f"{TABLE_NAME}_append"
ARGUMENTS = ("when_ timestamptz, streams text[], expected int[], owner int[], ids uuid[], "
             "types text[], schemas int[], payloads text[], metadata text[]")
CALL = (f"SELECT {FUNCTION}(%b::timestamptz, %b::text[], %b::int[], %b::int[], %b::uuid[], "
        "%b::text[], %b::int[], %b::text[], %b::text[])")
"""Binary parameters: text arrays in text form go through a regex escape per element."""
HEAD = f"SELECT position, hash, recorded_at FROM {TABLE_NAME} ORDER BY position DESC LIMIT 1"
VERSION = (f"SELECT stream_version FROM {TABLE_NAME} WHERE stream_id = {{stream}} "
           "ORDER BY stream_version DESC LIMIT 1")
"""The function's reads; `{stream}` is a parameter (tests EXPLAIN their generic plans)."""
COLUMNS = ("position, stream_id, stream_version, event_id, type, schema_version, recorded_at, "
           "payload, metadata, prev_hash, hash")
HASH = ("encode(sha256(convert_to(concat('[', to_json({prev}), ',', {position}, ',', "
        "to_json({stream}), ',', {version}, ',', to_json(ids[{k}]::text), ',', "
        "to_json(types[{k}]), ',', schemas[{k}], ',', to_json(stamp), ',', "
        "to_json(payloads[{k}]), ',', to_json(metadata[{k}]), ']'), 'UTF8')), 'hex')")
"""The chain hash of event `{k}` (chronicle/store/hashing.py), in SQL."""

CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}({ARGUMENTS}) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    head bigint := 0;
    prev text := '{GENESIS_HASH}';
    head_at timestamptz;
    versions int[] := '{{}}';
    stored int;
    stamp text;
    count int := cardinality(ids);
    row_versions int[] := '{{}}';
    row_streams text[] := '{{}}';
    prevs text[] := '{{}}';
    hashes text[] := '{{}}';
    s int;
    k int;
BEGIN
    LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE;
    {HEAD} INTO head, prev, head_at;
    IF NOT FOUND THEN
        head := 0;
        prev := '{GENESIS_HASH}';
    ELSIF head_at > when_ THEN
        when_ := head_at;  -- never before the head: recorded times stay ordered along the log
    END IF;
    stamp := to_char(when_ AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    IF count = 1 AND cardinality(streams) = 1 THEN  -- one event: no arrays to build
        {VERSION.format(stream="streams[1]")} INTO stored;
        IF NOT FOUND THEN
            stored := 0;
        END IF;
        IF expected[1] <> {ANY_VERSION} AND expected[1] <> stored THEN
            RETURN NULL;
        END IF;
        INSERT INTO {TABLE_NAME} ({COLUMNS})
            VALUES (head + 1, streams[1], stored + 1, ids[1], types[1], schemas[1], when_,
                    payloads[1], metadata[1], prev, {HASH.format(
                        prev="prev", position="head + 1", stream="streams[1]",
                        version="stored + 1", k="1")});
        PERFORM pg_notify('{NOTIFY_CHANNEL}', (head + 1)::text);
        RETURN head + 1;
    END IF;
    FOR s IN 1 .. cardinality(streams) LOOP
        {VERSION.format(stream="streams[s]")} INTO stored;
        IF NOT FOUND THEN
            stored := 0;
        END IF;
        IF expected[s] <> {ANY_VERSION} AND expected[s] <> stored THEN
            RETURN NULL;
        END IF;
        versions[s] := stored;
    END LOOP;
    FOR k IN 1 .. count LOOP
        s := owner[k];
        versions[s] := versions[s] + 1;
        row_versions[k] := versions[s];
        row_streams[k] := streams[s];
        prevs[k] := prev;
        prev := {HASH.format(prev="prev", position="head + k", stream="streams[s]",
                             version="versions[s]", k="k")};
        hashes[k] := prev;
    END LOOP;
    INSERT INTO {TABLE_NAME} ({COLUMNS})
        SELECT head + n, r_stream, r_version, r_id, r_type, r_schema, when_, r_payload,
               r_metadata, r_prev, r_hash
        FROM unnest(row_streams, row_versions, ids, types, schemas, payloads, metadata, prevs,
                    hashes) WITH ORDINALITY
             AS u(r_stream, r_version, r_id, r_type, r_schema, r_payload, r_metadata, r_prev,
                  r_hash, n);
    PERFORM pg_notify('{NOTIFY_CHANNEL}', (head + count)::text);
    RETURN head + 1;
END $$
"""
DROP = f"DROP FUNCTION IF EXISTS {FUNCTION}({ARGUMENTS})"


def call(driver: Any, when: dt.datetime, streams: Sequence[str], expected: Sequence[int],
         owner: Sequence[int], events: Sequence[tuple[Any, ...]]) -> int | None:
    """The function's result on a psycopg connection in autocommit (see
    `StoreDialect.append_in_one_call` for the arguments); prepared on first use."""
    columns = list(zip(*events, strict=True))
    row = driver.execute(CALL, (when, list(streams), list(expected), list(owner),
                                *map(list, columns)), prepare=True).fetchone()
    return None if row is None else row[0]
