"""Field checks shared by the domain's invariants: text that can go into feeds, XML and posts.

Each check returns every `Problem` it finds, naming the field ("title", "sources[0].quote"),
so the loader can point at the offending line instead of stopping at the first error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG_LENGTH = 80


class Problem(NamedTuple):
    """One broken invariant: the field ("title", "sources[0].quote") and what is wrong."""

    field: str
    message: str


def is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Embeddings, overrides and isolates: they reorder what a reader sees ("Trojan Source")."""
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
"""Invisible characters that make two texts look the same and hide words from search."""
JOINERS = frozenset("\u200c\u200d")
"""ZWNJ and ZWJ also shape emoji sequences (👩‍👩‍👧) and scripts: allowed inside a cluster."""


def _joins(text: str, index: int) -> bool:
    """A joiner between two visible characters, as in an emoji sequence or a word."""
    if text[index] not in JOINERS or index == 0 or index == len(text) - 1:
        return False
    return all(not c.isspace() and c not in ZERO_WIDTH for c in (text[index - 1], text[index + 1]))


def forbidden_character(text: str, *, multiline: bool) -> str | None:
    """Describe the first character that cannot go into feeds, XML or a post, if any."""
    for index, char in enumerate(text):
        if char.isprintable() or (multiline and char in "\n\t"):
            continue  # printable excludes every class below; most text stops here
        category = unicodedata.category(char)
        where = f"U+{ord(char):04X} at position {index}"
        if not multiline and (char in "\n\r\x85" or category in ("Zl", "Zp")):
            return f"must be a single line (line break {where})"
        if category == "Cc":
            return f"contains a control character ({where})"
        if char in BIDI_CONTROLS:
            return f"contains a bidirectional control character ({where}); remove it"
        if char in ZERO_WIDTH and not _joins(text, index):
            return f"contains an invisible zero-width character ({where}); remove it"
        if category == "Cs":
            return f"contains a lone surrogate ({where})"
        if is_noncharacter(ord(char)):
            return f"contains a noncharacter ({where})"
    return None


def text_problems(
    name: str,
    value: object,
    *,
    multiline: bool = False,
    required: bool = False,
    optional: bool = False,
    max_length: int | None = None,
) -> list[Problem]:
    """Problems of one text field; `optional` allows None, `required` forbids blank."""
    if value is None and optional:
        return []
    if not isinstance(value, str):
        return [Problem(name, f"must be text, not {type(value).__name__}")]
    problems = []
    if required and not value.strip():
        problems.append(Problem(name, "must not be blank"))
    if max_length is not None and len(value) > max_length:
        problems.append(Problem(name, f"is {len(value)} characters long; at most {max_length}"))
    forbidden = forbidden_character(value, multiline=multiline)
    if forbidden:
        problems.append(Problem(name, forbidden))
    return problems


def slug_problems(name: str, value: object) -> list[Problem]:
    problems = text_problems(name, value, max_length=MAX_SLUG_LENGTH)
    if not problems and not SLUG_RE.fullmatch(str(value)):
        problems.append(
            Problem(
                name,
                f"{value!r} is not a slug: lower-case a-z, digits and single hyphens "
                "between them, like 'peace-corps-1991'",
            )
        )
    return problems


def list_problems(
    name: str, value: object, check: Callable[[str, object], list[Problem]]
) -> list[Problem]:
    """Check every item of a tuple field, naming items as "tags[2]"."""
    if not isinstance(value, tuple):
        return [Problem(name, f"must be a list, not {type(value).__name__}")]
    problems = [p for i, item in enumerate(value) for p in check(f"{name}[{i}]", item)]
    seen: set[str] = set()
    for item in value:
        if isinstance(item, str):
            if item in seen:
                problems.append(Problem(name, f"{item!r} is listed twice"))
            seen.add(item)
    return problems


def name_problems(name: str, value: object) -> list[Problem]:
    return text_problems(name, value, required=True)


def url_problems(name: str, value: object) -> list[Problem]:
    problems = text_problems(name, value, optional=True, required=True)
    if problems or value is None:
        return problems
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in str(value):
        return [Problem(name, f"{value!r} is not an absolute http(s) URL")]
    return []
