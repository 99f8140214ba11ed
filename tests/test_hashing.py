"""The chain hash is SHA-256 of a documented JSON array: the fast writer must give its bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from chronicle.store.hashing import canonical_json, chain_hash

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


def documented_hash(fields: list[object]) -> str:
    """The definition in chronicle/store/hashing.py's docstring, spelt out with json.dumps."""
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@given(prev=TEXT, position=st.integers(1, 2**62), stream=TEXT, version=st.integers(1, 2**31),
       kind=TEXT, schema=st.integers(1, 99), payload=st.dictionaries(TEXT, TEXT, max_size=4),
       metadata=st.dictionaries(TEXT, st.integers(), max_size=3),
       moment=st.datetimes(timezones=st.just(dt.UTC)))
def test_chain_hash_is_sha256_of_the_documented_array(
        prev: str, position: int, stream: str, version: int, kind: str, schema: int,
        payload: dict[str, str], metadata: dict[str, int], moment: dt.datetime) -> None:
    event_id = uuid.uuid4()
    payload_json, metadata_json = canonical_json(payload), canonical_json(metadata)
    assert payload_json == json.dumps(payload, sort_keys=True, separators=(",", ":"),
                                      ensure_ascii=False)
    expected = documented_hash([prev, position, stream, version, str(event_id), kind, schema,
                                moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), payload_json,
                                metadata_json])
    assert chain_hash(prev_hash=prev, position=position, stream_id=stream,
                      stream_version=version, event_id=event_id, type_=kind,
                      schema_version=schema, recorded_at=moment, payload_json=payload_json,
                      metadata_json=metadata_json) == expected


def test_a_known_row_keeps_its_hash() -> None:
    """Pinned from the store as first released: stored logs must keep verifying."""
    got = chain_hash(prev_hash="0" * 64, position=1, stream_id="milestone-x", stream_version=1,
                     event_id=uuid.UUID("0190d7c2-6f1e-7a3b-9c41-5d2e8f7a6b10"),
                     type_="MilestoneRecorded", schema_version=2,
                     recorded_at=dt.datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=dt.UTC),
                     payload_json='{"title":"Ülaanbaatar \\"quoted\\"\\n"}', metadata_json="{}")
    assert got == "f84602087348c0137b2d1f06b65883c6a7f82d39a2483c458ecb2655401fc9d3"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20)


@given(value=JSON)
def test_canonical_json_is_json_dumps_with_sorted_keys(value: object) -> None:
    """The prebuilt C encoder must give the bytes json.dumps gives, floats and nesting included."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == expected  # type: ignore[arg-type]
