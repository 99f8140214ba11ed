"""Counting a post the way Mastodon and Bluesky count it: grapheme clusters, not code points.

An emoji flag (two code points), a family emoji joined by ZWJs, or a letter with combining
marks is one grapheme; Python's ``len`` counts code points and would refuse texts the
channels accept. ``regex``'s ``\\X`` follows Unicode's extended grapheme cluster rules
(UAX #29), as Ruby's ``each_grapheme_cluster`` (Mastodon) and the ``Intl.Segmenter`` of
Bluesky's apps do.
"""

from __future__ import annotations

import regex

from chronicle.publishers.xtext import url_entities

__all__ = ["graphemes", "mastodon_length", "urls_with_spans"]

_GRAPHEME = regex.compile(r"\X")
# @user@domain counts as @user (Mastodon's account mention with a domain).
_REMOTE_MENTION = regex.compile(r"(?<![\w/])(@\w+)@[\w.-]+\w", regex.UNICODE)


def graphemes(text: str) -> int:
    """The number of extended grapheme clusters in `text`."""
    return len(_GRAPHEME.findall(text))


def urls_with_spans(text: str) -> list[tuple[str, int, int]]:
    """Every http(s) URL in `text` with its code-point span (end exclusive)."""
    found = []
    for entity in url_entities(text):
        url = str(entity["url"])
        start, end = (int(i) for i in entity["indices"])
        if url.lower().startswith(("http://", "https://")):
            found.append((url, start, end))
    return found


def mastodon_length(text: str, *, url_chars: int = 23) -> int:
    """Mastodon's count: graphemes, every http(s) URL as `url_chars`, @user@domain as @user."""
    pieces: list[str] = []
    cursor = 0
    urls = urls_with_spans(text)
    for _url, start, end in urls:
        pieces.append(text[cursor:start])
        cursor = end
    pieces.append(text[cursor:])
    rest = _REMOTE_MENTION.sub(r"\1", "".join(pieces))
    return graphemes(rest) + url_chars * len(urls)
