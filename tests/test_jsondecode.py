"""jsondecode.loads is json.loads: the same value (type, order, every float bit) or the same error.

A replay decodes payloads with it (chronicle/store/jsondecode.py); orjson alone would turn big
integers into floats, parse floats its own way and refuse what json accepts.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chronicle.store.jsondecode import loads, loads_for_text
from chronicle.store.jsontext import canonical_json_text

TEXT = st.text(alphabet=st.characters(), max_size=12)   # lone surrogates and controls too
LEAVES = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
          | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1])
          | st.floats() | st.sampled_from([1e-05, 1e16, -0.0, 5e-324, 1.5e300, 0.1]) | TEXT)
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(TEXT, inner, max_size=4), max_leaves=25)
DUMPS = st.sampled_from([
    json.dumps,
    functools.partial(json.dumps, ensure_ascii=False),
    functools.partial(json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    functools.partial(json.dumps, indent=2),
])


def same_as_json(text: str) -> None:
    """The decoded value's repr is json's (repr tells 1 from 1.0 and True, -0.0 from 0.0, nan
    from None, and shows key order), or both raise json's error."""
    try:
        expected: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)):
            loads(text)
        return
    assert repr(loads(text)) == repr(expected)


@given(value=JSON, dumps=DUMPS)
def test_any_json_text_decodes_as_json_loads_decodes_it(value: object, dumps: Any) -> None:
    same_as_json(dumps(value))


@given(value=st.dictionaries(TEXT, JSON, max_size=6))
def test_a_canonical_payload_decodes_as_json_loads_decodes_it(value: dict[str, Any]) -> None:
    same_as_json(canonical_json_text(value))


@given(text=st.text(alphabet=st.sampled_from('{}[]:,"\\ -.0123456789eEuNaIfinity\ud800'),
                    max_size=30))
@example(text="123456789012345678901234567890")
@example(text='{"a":18446744073709551616,"b":[-9223372036854775809]}')
@example(text="[NaN, Infinity, -Infinity, 1e400]")
@example(text='{"a":1,"b":2,"a":3}')
@example(text='"\\ud800"')
@example(text='\ufeff{"a":1}')
@example(text='["\x01"]')
@example(text="[1,]")
@example(text='{"a": 0.1, "b": 1E2}')
@example(text="[" * 2000 + "]" * 2000)
@example(text="[" * 900 + "1.5" + "]" * 900)
def test_any_text_decodes_or_fails_as_json_loads(text: str) -> None:
    same_as_json(text)


def test_the_texts_orjson_reads_otherwise_keep_json_s_values() -> None:
    assert loads("123456789012345678901234567890") == 123456789012345678901234567890
    assert type(loads('{"n":[18446744073709551616]}')["n"][0]) is int
    assert repr(loads("[NaN, -Infinity]")) == "[nan, -inf]"
    assert loads('"\\ud800"') == "\ud800"


def _texts(value: Any) -> Any:
    """`value` with every number left out: what a reader of its texts sees."""
    if isinstance(value, dict):
        return {key: _texts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_texts(item) for item in value]
    return None if isinstance(value, int | float) and not isinstance(value, bool) else value


@given(value=JSON, dumps=DUMPS)
@example(value={"t": "\ud800", "n": 2**64, "f": float("nan"), "l": [1e400, "x"]}, dumps=json.dumps)
def test_loads_for_text_keeps_json_s_texts(value: object, dumps: Any) -> None:
    """Its strings, booleans, nulls and structure are json's; only numbers may differ."""
    text = dumps(value)
    assert repr(_texts(loads_for_text(text))) == repr(_texts(json.loads(text)))
