"""Canonical JSON text, and a hash link's JSON array, with orjson where its bytes are json's.

Stored payloads and every chain hash depend on exactly the bytes of `json.dumps(value,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)`. orjson writes those very bytes
for str, int, bool, None, and lists and str-keyed dicts of them, in about a fifth of the time,
but not for everything: a float may differ (`0.00001` for json's `1e-05`, `null` for `NaN`),
and it writes what json refuses (UUIDs, enums, dataclasses, datetimes). So a value goes to
orjson only after a walk (`_plain_items`) finds nothing but those types; whatever orjson
refuses then (a key that is not exactly a str, an int beyond 64 bits, a lone surrogate,
nesting past its limit) the json module writes, as it always did. tests/test_jsontext.py
compares the two over arbitrary values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as quote
from typing import Any

import orjson

__all__ = ["Unwritable", "canonical_json_text", "compact_array", "quote"]

Unwritable = orjson.JSONEncodeError
"""What `compact_array` raises for a value orjson cannot write as json would (a TypeError)."""

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# The C encoder `_CANONICAL.encode` builds on every call, built once. No circular-reference
# markers: a shared markers dict would be wrong across threads, and a payload is data decoded
# from YAML or JSON (a cycle would end in RecursionError).
_C_CANONICAL = (c_make_encoder(None, _CANONICAL.default, quote, None, ":", ",", True, False,
                               True) if c_make_encoder is not None else None)
_SORTED = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps
_NONE = type(None)


def canonical_json_text(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`."""
    if type(value) is dict and _plain_items(value.values()):
        try:
            return _dumps(value, option=_SORTED).decode()
        except Unwritable:
            pass
    if _C_CANONICAL is None or isinstance(value, str):
        return _CANONICAL.encode(value)
    return "".join(_C_CANONICAL(value, 0))


def _plain_items(items: Iterable[Any]) -> bool:
    """Only str, int, bool and None in `items`, in dicts and lists (exactly those types: a
    subclass may write itself otherwise). Keys are orjson's to refuse (it takes exact str keys
    only). A dict's values are walked here directly, one frame per container: this walk was
    half of encoding a payload."""
    for item in items:
        kind = type(item)
        if kind is str or kind is _NONE or kind is int or kind is bool:
            continue
        if kind is dict:
            if not _plain_items(item.values()):
                return False
        elif kind is not list or not _plain_items(item):
            return False
    return True


compact_array: Callable[[list[Any]], bytes] = orjson.dumps
"""UTF-8 of `json.dumps(items, separators=(",", ":"), ensure_ascii=False)`, where each item is
exactly a str, an int or a uuid.UUID (written as its `str`): the caller checks the types.
Raises Unwritable for what json would write but orjson cannot (a lone surrogate, an int beyond
64 bits). orjson's own function, not a wrapper: it is called once per appended event."""
