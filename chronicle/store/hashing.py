"""The hash chain that makes the log tamper-evident: each row's hash covers the previous hash.

A row's hash is SHA-256 of the JSON array
`[prev_hash, position, stream_id, stream_version, event_id, type, schema_version, recorded_at,
payload, metadata]` (compact separators, UTF-8, non-ASCII kept): the bytes `json.dumps` gives,
written by one orjson call where those are provably the same (chronicle/store/jsontext.py),
else text by text with the json module's own C escaper.

Keyed mode: with `CHRONICLE_LOG_KEY` in the environment when a log is started, every hash is
HMAC-SHA-256 of the same bytes under that key, and the first row's prev_hash is the key's own
genesis (`genesis_hash`). The mode is thus written in the log itself: a row 1 whose prev_hash
is not all zeros belongs to a keyed log, and only the right key reproduces its genesis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chronicle.store.jsontext import Unwritable, canonical_json_text, compact_array
from chronicle.store.jsontext import quote as _quote
from chronicle.store.records import NewEvent

GENESIS_HASH = "0" * 64
KEY_VARIABLE = "CHRONICLE_LOG_KEY"
_GENESIS_MESSAGE = b"chronicle log genesis"


def chain_key_from_env() -> bytes | None:
    """The chain key, from the environment only (never a file or a flag: it is a secret)."""
    value = os.environ.get(KEY_VARIABLE, "")
    return value.encode("utf-8") if value else None


def genesis_hash(key: bytes | None) -> str:
    """The prev_hash of row 1: zeros for a plain log, a MAC of a constant for a keyed one."""
    if key is None:
        return GENESIS_HASH
    return hmac.new(key, _GENESIS_MESSAGE, hashlib.sha256).hexdigest()


def is_keyed_genesis(prev_hash: str) -> bool:
    return prev_hash != GENESIS_HASH


class KeyMismatch(ValueError):
    """The key we hold cannot hash this log's chain (missing, or another key)."""


def key_for_log(first_prev_hash: str | None, key: bytes | None) -> bytes | None:
    """The key a log's chain is hashed with, from its row 1's prev_hash (None: plain).

    An empty log (None) is started in the mode of `key`; a plain log stays plain even if a key
    is held now. Raises KeyMismatch for a keyed log and no key or another key.
    """
    if first_prev_hash is None:
        return key
    if not is_keyed_genesis(first_prev_hash):
        return None
    if key is None:
        raise KeyMismatch(f"this log's hash chain is keyed (HMAC): set {KEY_VARIABLE}")
    if first_prev_hash != genesis_hash(key):
        raise KeyMismatch(f"{KEY_VARIABLE} is not the key this log was started with")
    return key


def canonical_json(value: Mapping[str, Any]) -> str:
    """One text per JSON value, so hashes do not depend on key order or spacing."""
    return canonical_json_text(value)


def event_texts(events: Iterable[NewEvent]) -> list[tuple[NewEvent, str, str]]:
    """Each event with its payload's and its metadata's canonical JSON.

    The events of one call usually share their metadata (the same loader run, the same
    file): a metadata equal to the event before's, both flat (text keys, text or null values:
    equality cannot confuse those as it does 1, 1.0 and True), reuses that text object instead
    of encoding it again (and `stream_hashes` its quoted form).
    """
    texts: list[tuple[NewEvent, str, str]] = []
    last: Mapping[str, Any] | None = None
    last_text, last_flat = "", None     # None: not known yet (a one-event call never asks)
    for event in events:
        metadata = event.metadata
        if metadata is not last:
            if last_flat is None and last is not None:
                last_flat = _flat(last)
            if not (last_flat and metadata == last and _flat(metadata)):
                last_text, last_flat = canonical_json_text(metadata), None
            last = metadata
        texts.append((event, canonical_json_text(event.payload), last_text))
    return texts


def _flat(value: Mapping[str, Any]) -> bool:
    """Text keys and text or null values: equal flat mappings have the same canonical JSON.

    A loop, not sets of types: asked once per event of a batch, and twice as fast."""
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if type(key) is not str or (type(item) is not str and item is not None):
            return False
    return True


def format_recorded_at(moment: dt.datetime) -> str:
    """Microsecond UTC text: both databases keep microseconds, so the hash survives a round trip."""
    return utc_text(moment, "Z")


def utc_text(moment: dt.datetime, zone: str) -> str:
    """`moment` in UTC as %Y-%m-%dT%H:%M:%S.%f followed by `zone` (isoformat is twice as fast
    as strftime and gives the same text from year 1000 on; %Y pads no earlier year)."""
    utc = moment.astimezone(dt.UTC)
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%f") + zone
    return utc.isoformat(timespec="microseconds")[:-6] + zone


def hash_text(prev_hash: str, position: int, stream_id: str, stream_version: int,
              event_id: str, type_: str, schema_version: int, recorded_at: str,
              payload_json: str, metadata_json: str, key: bytes | None = None) -> str:
    """The chain hash from the row's values as text (event id and time already formatted).

    Positional on purpose: verification calls it once per row. With `key`, HMAC.
    """
    return stream_hashes(prev_hash, int(position) - 1, stream_id, int(stream_version) - 1,
                         recorded_at, [(event_id, type_, schema_version, payload_json,
                                        metadata_json)], key)[0]


def stream_hashes(prev_hash: str, head: int, stream_id: str, version: int, recorded_at: str,
                  events: Sequence[tuple[str | uuid.UUID, str, int, str, str]],
                  key: bytes | None = None) -> list[str]:
    """`hash_text` of one stream's consecutive rows in one append, each over the one before.

    `events` are (event id, type, schema version, payload JSON, metadata JSON) of the rows at
    positions head + 1, ... and versions version + 1, ...; an event id is its text or the
    uuid.UUID itself (hashed as its text).
    """
    # A link whose fields are exactly str, int or UUID is written by orjson in one call (a
    # subclass or an enum might write itself otherwise); any other, or one orjson refuses, by
    # `_link_text`, as the json module writes it.
    plain = (type(prev_hash) is str and type(stream_id) is str and type(recorded_at) is str
             and type(head) is int and type(version) is int)
    mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
    sha256 = hashlib.sha256
    prev = prev_hash
    last_type: object = None
    last_schema: object = None
    schema, typed = 0, False
    delta = version - head     # a link's stream version is its position plus this
    hashes: list[str] = []
    for position, (event_id, type_, schema_version, payload_json, metadata_json) in enumerate(
            events, start=head + 1):
        if type_ is not last_type or schema_version is not last_schema:
            last_type, last_schema = type_, schema_version
            schema, typed = int(schema_version), plain and type(type_) is str
        fields: list[Any] = [prev, position, stream_id, position + delta, event_id, type_,
                             schema, recorded_at, payload_json, metadata_json]
        if (typed and type(payload_json) is str and type(metadata_json) is str
                and type(event_id) in _ID_TYPES):
            try:
                data = compact_array(fields)
            except Unwritable:
                data = _link_text(*fields).encode()
        else:
            data = _link_text(*fields).encode()
        if mac is None:
            prev = sha256(data).hexdigest()
        else:
            link = mac.copy()
            link.update(data)
            prev = link.hexdigest()
        hashes.append(prev)
    return hashes


_ID_TYPES = frozenset((str, uuid.UUID))


def _link_text(prev_hash: str, position: int, stream_id: str, version: int,
               event_id: str | uuid.UUID, type_: str, schema_version: int, recorded_at: str,
               payload_json: str, metadata_json: str) -> str:
    """A link as the json module writes it, each text quoted by its C escaper (which refuses
    anything but text, as json.dumps would)."""
    event_text = str(event_id) if isinstance(event_id, uuid.UUID) else event_id
    return (f"[{_quote(prev_hash)},{position},{_quote(stream_id)},{version},"
            f"{_quote(event_text)},{_quote(type_)},{schema_version},{_quote(recorded_at)},"
            f"{_quote(payload_json)},{_quote(metadata_json)}]")


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
    key: bytes | None = None,
) -> str:
    return hash_text(prev_hash, position, stream_id, stream_version, str(event_id), type_,
                     schema_version, format_recorded_at(recorded_at), payload_json,
                     metadata_json, key)


def row_hash(row: Mapping[str, Any], key: bytes | None = None) -> str:
    """The hash a log row must carry, from its columns (as named in the table)."""
    return chain_hash(key=key,
        prev_hash=row["prev_hash"], position=row["position"], stream_id=row["stream_id"],
        stream_version=row["stream_version"], event_id=row["event_id"], type_=row["type"],
        schema_version=row["schema_version"], recorded_at=row["recorded_at"],
        payload_json=row["payload"], metadata_json=row["metadata"],
    )
