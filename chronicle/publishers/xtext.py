"""How X counts a text: its *weighted* length, by ``twitter-text`` (the library X's clients use).

A URL counts 23, CJK characters, emoji and most scripts above U+10FF (e.g. the traditional
Mongolian script) count 2, Latin, Cyrillic and most punctuation count 1. A text X would refuse
for another reason (characters it rejects, empty) counts as over any limit, so a limit check
never lets through what X would answer 400 to.
"""

from __future__ import annotations

from twitter_text import parse_tweet

from chronicle.publishers.base import TextLimit

__all__ = ["X_MAX_WEIGHT", "X_TEXT_LIMIT", "weighted_length", "x_measure"]

X_MAX_WEIGHT = 280


def weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (URLs 23, CJK/emoji 2)."""
    return int(parse_tweet(text).weightedLength)


def x_measure(text: str) -> int:
    """The weighted length, or one more than X takes when X would refuse the text anyway."""
    parsed = parse_tweet(text)
    if not parsed.valid and parsed.weightedLength <= X_MAX_WEIGHT:
        return X_MAX_WEIGHT + 1
    return int(parsed.weightedLength)


X_TEXT_LIMIT = TextLimit(max_length=X_MAX_WEIGHT, measure=x_measure)
