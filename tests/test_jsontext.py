"""orjson may write a payload or a hash link only where its bytes are the json module's.

Stored payloads and the hash chain are defined by `json.dumps` (chronicle/store/jsontext.py):
these compare the fast paths with it over arbitrary values, the ones orjson writes otherwise
(floats, NaN, 1e-05) or refuses (big ints, lone surrogates, non-str keys) included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronicle.store.jsontext import Unwritable, canonical_json_text, compact_array

# Text the way it reaches a payload: any code point, lone surrogates, control characters
# (\b, \f, \u001f, DEL), non-BMP; and keys of the same.
TEXT = st.text(alphabet=st.characters(), max_size=12)
PLAIN_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
LEAVES = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
          | st.floats() | st.sampled_from([1e-05, 1e16, 1e-7, -0.0, 5e-324, 1.5e300]) | TEXT)
KEYS = TEXT | st.integers(-3, 3) | st.booleans() | st.none() | st.floats(-2, 2)
JSON = st.recursive(
    LEAVES,
    lambda inner: (st.lists(inner, max_size=4) | st.tuples(inner, inner)
                   | st.dictionaries(TEXT, inner, max_size=4)
                   | st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=25)


def documented(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same_outcome(value: object) -> None:
    """canonical_json_text gives json.dumps's text, or raises what json.dumps raises."""
    try:
        expected = documented(value)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            canonical_json_text(value)
        return
    assert canonical_json_text(value) == expected


@given(value=st.dictionaries(TEXT, JSON, max_size=6))
def test_a_payload_s_text_is_json_dumps_s(value: dict[Any, Any]) -> None:
    same_outcome(value)


@given(value=JSON)
def test_any_value_s_text_is_json_dumps_s(value: object) -> None:
    same_outcome(value)


@given(value=st.dictionaries(PLAIN_TEXT, st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | PLAIN_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(PLAIN_TEXT, inner, max_size=4),
    max_leaves=30), max_size=6))
def test_values_orjson_writes_are_written_as_json_does(value: dict[str, Any]) -> None:
    """The values the fast path takes (no floats, 64-bit ints, valid text) at full breadth."""
    assert canonical_json_text(value) == documented(value)


class Colour(enum.Enum):
    RED = 1e-05


class Level(int, enum.Enum):
    HIGH = 3


class Name(enum.StrEnum):
    ODD = "5"


class Text(str):
    def __lt__(self, other: object) -> bool:      # sorts backwards: json.dumps asks it
        return str.__gt__(self, other)   # type: ignore[operator]


class Number(int):
    pass


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [
    {"f": 1e-05}, {"f": math.nan}, {"f": math.inf}, {"f": -math.inf}, {"f": 1e16},
    {"big": 2**64}, {"small": -2**63 - 1}, {"s": "\ud800"}, {"\udfff": 1},
    {"id": uuid.UUID(int=1)}, {"c": Colour.RED}, {"l": Level.HIGH}, {"n": Name.ODD},
    {Text("a"): 1, Text("b"): 2}, {"t": Text("x")}, {"n": Number(7)}, {"p": Point(1)},
    {"d": dt.date(2026, 1, 2)}, {"when": dt.datetime(2026, 1, 2, tzinfo=dt.UTC)},
    {1: "int key"}, {True: "bool key"}, {None: "none key"}, {1.5: "float key"},
    {"tuple": (1, "a")}, {"bytes": b"x"}, {"set": {1}},
    {"deep": json.loads("[" * 300 + "]" * 300)},
    {"esc": "\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\"\\/ \U0001f600"},
])
def test_what_orjson_writes_otherwise_or_refuses_is_written_as_json_does(value: Any) -> None:
    same_outcome(value)


@given(fields=st.lists(st.integers(-2**63, 2**64 - 1) | st.uuids() | PLAIN_TEXT, max_size=10))
def test_a_link_s_array_is_json_dumps_s(fields: list[Any]) -> None:
    """UUIDs written as their text: the hash chain takes an event id as `str(uuid)`."""
    texts = [str(f) if isinstance(f, uuid.UUID) else f for f in fields]
    expected = json.dumps(texts, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert compact_array(fields) == expected


@pytest.mark.parametrize("field", ["\ud800", 2**64, -2**63 - 1])
def test_a_link_orjson_cannot_write_is_refused(field: object) -> None:
    with pytest.raises(Unwritable):
        compact_array(["x", field])
