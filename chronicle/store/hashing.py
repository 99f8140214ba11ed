"""The hash chain that makes the log tamper-evident: each row's hash covers the previous hash.

A row's hash is SHA-256 of the JSON array
`[prev_hash, position, stream_id, stream_version, event_id, type, schema_version, recorded_at,
payload, metadata]` (compact separators, UTF-8, non-ASCII kept). The array is written here
string by string with the json module's own C escaper: the same bytes `json.dumps` would give,
without building an encoder per row on the append path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _quote
from typing import Any

GENESIS_HASH = "0" * 64
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# The C encoder `_CANONICAL.encode` builds on every call, built once (half the time per event).
# No circular-reference markers: a shared markers dict would be wrong across threads, and a
# payload is data decoded from YAML or JSON (a cycle would end in RecursionError).
_C_CANONICAL = (c_make_encoder(None, _CANONICAL.default, _quote, None, ":", ",", True, False,
                               True) if c_make_encoder is not None else None)


def canonical_json_text(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`."""
    if _C_CANONICAL is None or isinstance(value, str):
        return _CANONICAL.encode(value)
    return "".join(_C_CANONICAL(value, 0))


def canonical_json(value: Mapping[str, Any]) -> str:
    """One text per JSON value, so hashes do not depend on key order or spacing."""
    return canonical_json_text(value)


def format_recorded_at(moment: dt.datetime) -> str:
    """Microsecond UTC text: both databases keep microseconds, so the hash survives a round trip."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_text(prev_hash: str, position: int, stream_id: str, stream_version: int,
              event_id: str, type_: str, schema_version: int, recorded_at: str,
              payload_json: str, metadata_json: str) -> str:
    """The chain hash from the row's values as text (event id and time already formatted).

    Positional on purpose: the store calls it once per appended event.
    """
    text = (f"[{_quote(prev_hash)},{int(position)},{_quote(stream_id)},{int(stream_version)},"
            f"{_quote(event_id)},{_quote(type_)},{int(schema_version)},{_quote(recorded_at)},"
            f"{_quote(payload_json)},{_quote(metadata_json)}]")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    return hash_text(prev_hash, position, stream_id, stream_version, str(event_id), type_,
                     schema_version, format_recorded_at(recorded_at), payload_json,
                     metadata_json)


def row_hash(row: Mapping[str, Any]) -> str:
    """The hash a log row must carry, from its columns (as named in the table)."""
    return chain_hash(
        prev_hash=row["prev_hash"], position=row["position"], stream_id=row["stream_id"],
        stream_version=row["stream_version"], event_id=row["event_id"], type_=row["type"],
        schema_version=row["schema_version"], recorded_at=row["recorded_at"],
        payload_json=row["payload"], metadata_json=row["metadata"],
    )
