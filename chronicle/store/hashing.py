"""The hash chain that makes the log tamper-evident: each row's hash covers the previous hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Mapping[str, Any]) -> str:
    """One text per JSON value, so hashes do not depend on key order or spacing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_recorded_at(moment: dt.datetime) -> str:
    """Microsecond UTC text: both databases keep microseconds, so the hash survives a round trip."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_hash(
    *,
    prev_hash: str,
    position: int,
    stream_id: str,
    stream_version: int,
    event_id: uuid.UUID,
    type_: str,
    schema_version: int,
    recorded_at: dt.datetime,
    payload_json: str,
    metadata_json: str,
) -> str:
    fields = [
        prev_hash,
        position,
        stream_id,
        stream_version,
        str(event_id),
        type_,
        schema_version,
        format_recorded_at(recorded_at),
        payload_json,
        metadata_json,
    ]
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_hash(row: Mapping[str, Any]) -> str:
    """The hash a log row must carry, from its columns (as named in the table)."""
    return chain_hash(
        prev_hash=row["prev_hash"], position=row["position"], stream_id=row["stream_id"],
        stream_version=row["stream_version"], event_id=row["event_id"], type_=row["type"],
        schema_version=row["schema_version"], recorded_at=row["recorded_at"],
        payload_json=row["payload"], metadata_json=row["metadata"],
    )
