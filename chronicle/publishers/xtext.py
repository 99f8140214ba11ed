"""How X counts a text: its *weighted* length, by ``twitter-text`` (the library X's clients use).

A URL counts 23, CJK characters, emoji and most scripts above U+10FF (e.g. the traditional
Mongolian script) count 2, Latin, Cyrillic and most punctuation count 1. A text X would refuse
for another reason (characters it rejects, empty) counts as over any limit, so a limit check
never lets through what X would answer 400 to.

The library is imported on first use, not with this module: its import compiles some 270
regular expressions and loads ``pkg_resources`` (about 0.7 s of CPU), which every ``chronicle``
command paid through the posting modules, though few of them count a post.
"""

from __future__ import annotations

import functools
import re
from types import ModuleType
from typing import Any, cast

from chronicle.publishers.base import TextLimit

__all__ = ["X_MAX_WEIGHT", "X_TEXT_LIMIT", "rejected_characters", "url_entities",
           "weighted_length", "x_measure"]

X_MAX_WEIGHT = 280


@functools.cache
def _twitter_text() -> ModuleType:
    import twitter_text  # on first use: see the module

    return cast(ModuleType, twitter_text)


@functools.cache
def rejected_characters() -> re.Pattern[str]:
    """The characters X refuses in a post (twitter-text's ``invalid_chars``)."""
    from twitter_text.regexp.invalid_chars import invalid_chars

    return invalid_chars  # type: ignore[no-any-return]


def url_entities(text: str) -> list[dict[str, Any]]:
    """twitter-text's URLs of `text`, each with its ``url`` and code-point ``indices``."""
    return list(_twitter_text().extract_urls_with_indices(text))


def weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (URLs 23, CJK/emoji 2)."""
    return int(_twitter_text().parse_tweet(text).weightedLength)


def x_measure(text: str) -> int:
    """The weighted length, or one more than X takes when X would refuse the text anyway."""
    parsed = _twitter_text().parse_tweet(text)
    if not parsed.valid and parsed.weightedLength <= X_MAX_WEIGHT:
        return X_MAX_WEIGHT + 1
    return int(parsed.weightedLength)


X_TEXT_LIMIT = TextLimit(max_length=X_MAX_WEIGHT, measure=x_measure)
