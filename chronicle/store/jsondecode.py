"""`json.loads`, with orjson where its result is json's: a replay decodes millions of payloads.

orjson decodes a payload in about half the time (the 200,000 payloads of the bench's log: 1.8 s
of CPU against json's 3.5 s, plus 0.3 s for the walk below), and gives the same value for every
JSON text except three kinds, which this module sends to the json module:
- numbers it reads otherwise: an integer beyond 64 bits becomes a float
  (`123456789012345678901234567890` → 1.2345678901234568e+29), and a float literal is parsed
  by its own routine. Both leave a float in orjson's result, which a walk (`_has_float`;
  a regular expression over the text took 0.9–1.1 s) finds: any float there, and json
  decodes the text again;
- texts it refuses that json accepts (NaN and Infinity literals, 1e400, escaped lone
  surrogates): orjson raises, and json decodes (or raises its own error, as it always did);
- nesting deeper than the walk may recurse: json decodes.
tests/test_jsondecode.py compares the two over arbitrary texts and values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["loads", "loads_for_text"]

_orjson_loads = orjson.loads
_json_loads = json.loads
_Refused = orjson.JSONDecodeError


def loads(text: str) -> Any:
    """`json.loads(text)`: the same value, or the same error."""
    try:
        value = _orjson_loads(text)
    except _Refused:
        return _json_loads(text)
    kind = type(value)
    try:
        if kind is float or ((kind is dict or kind is list) and _has_float(value)):
            return _json_loads(text)
    except RecursionError:
        return _json_loads(text)
    return value


def loads_for_text(text: str) -> Any:
    """A value whose strings, lists, dicts, booleans and nulls are `json.loads(text)`'s, for a
    reader of those only (a search body): its numbers may be orjson's (see the module), so the
    walk for floats is skipped (half of a search body's decoding at a rebuild's end)."""
    try:
        return _orjson_loads(text)
    except _Refused:
        return _json_loads(text)


def _has_float(value: dict[str, Any] | list[Any]) -> bool:
    """Whether a float is anywhere inside (orjson's result: dicts, lists and JSON scalars)."""
    items: Iterable[Any] = value.values() if type(value) is dict else value
    for item in items:
        kind = type(item)
        if kind is float:
            return True
        if (kind is dict or kind is list) and _has_float(item):
            return True
    return False
