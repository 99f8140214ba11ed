"""PostgreSQL: the append as one server-side function call (see chronicle/store/pgappend.py).

A single-event append took four round trips and now takes one; SQLite has nothing to create.
Frozen: the function exactly as this revision created it (its reads were rewritten in 0005).

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CREATE = r"""
CREATE OR REPLACE FUNCTION chronicle_events_append(when_ timestamptz, streams text[], expected int[], owner int[], ids uuid[], types text[], schemas int[], payloads text[], metadata text[]) RETURNS bigint
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    head bigint := 0;
    prev text := '0000000000000000000000000000000000000000000000000000000000000000';
    head_at timestamptz;
    versions int[] := '{}';
    stored int;
    stamp text;
    count int := cardinality(ids);
    row_versions int[] := '{}';
    row_streams text[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
    s int;
    k int;
BEGIN
    LOCK TABLE chronicle_events IN EXCLUSIVE MODE;
    SELECT position, hash, recorded_at INTO head, prev, head_at
        FROM chronicle_events ORDER BY position DESC LIMIT 1;
    IF NOT FOUND THEN
        head := 0;
        prev := '0000000000000000000000000000000000000000000000000000000000000000';
    END IF;
    FOR s IN 1 .. cardinality(streams) LOOP
        SELECT coalesce(max(stream_version), 0) INTO stored
            FROM chronicle_events WHERE stream_id = streams[s];
        IF expected[s] <> -1 AND expected[s] <> stored THEN
            RETURN NULL;
        END IF;
        versions[s] := stored;
    END LOOP;
    -- Never before the head: recorded times stay ordered along the log.
    IF head_at IS NOT NULL AND head_at > when_ THEN
        when_ := head_at;
    END IF;
    stamp := to_char(when_ AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    FOR k IN 1 .. count LOOP
        s := owner[k];
        versions[s] := versions[s] + 1;
        row_versions[k] := versions[s];
        row_streams[k] := streams[s];
        prevs[k] := prev;
        prev := encode(sha256(convert_to(concat(
            '[', to_json(prev), ',', head + k, ',', to_json(streams[s]), ',', versions[s], ',',
            to_json(ids[k]::text), ',', to_json(types[k]), ',', schemas[k], ',', to_json(stamp),
            ',', to_json(payloads[k]), ',', to_json(metadata[k]), ']'), 'UTF8')), 'hex');
        hashes[k] := prev;
    END LOOP;
    INSERT INTO chronicle_events (position, stream_id, stream_version, event_id, type,
                              schema_version, recorded_at, payload, metadata, prev_hash, hash)
        SELECT head + n, r_stream, r_version, r_id, r_type, r_schema, when_, r_payload,
               r_metadata, r_prev, r_hash
        FROM unnest(row_streams, row_versions, ids, types, schemas, payloads, metadata, prevs,
                    hashes) WITH ORDINALITY
             AS u(r_stream, r_version, r_id, r_type, r_schema, r_payload, r_metadata, r_prev,
                  r_hash, n);
    PERFORM pg_notify('chronicle_events', (head + count)::text);
    RETURN head + 1;
END $$
"""
DROP = "DROP FUNCTION IF EXISTS chronicle_events_append(when_ timestamptz, streams text[], expected int[], owner int[], ids uuid[], types text[], schemas int[], payloads text[], metadata text[])"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(CREATE)  # as written: no bind-parameter parsing


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(DROP)
