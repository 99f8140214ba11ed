"""Request heads read without the parser: the plainest shape only, everything else to httptools.

Through httptools, a request calls back into Python for the message, its URL and each header,
and uvicorn builds a scope, a request cycle with its asyncio.Event and a keep-alive timer:
most of what a 304 costs. A document request has the plainest shape, read here with one
regular expression: GET or HEAD of a plain path (no query, no percent-escape), HTTP/1.1, headers
of token names and printable values, none that asks for a body, an upgrade, a 100-continue or
a connection setting, and nothing after the head. The shape is narrower than what httptools
accepts, never wider, so a request's answer does not depend on which of the two read it.
"""

from __future__ import annotations

import re

PlainRequest = tuple[str, str, bytes | None, bytes | None]
"""method, path, the first If-None-Match, the last If-Modified-Since (None: absent)."""

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_HEAD = re.compile(
    rb"(GET|HEAD) (/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*) HTTP/1\.1"
    rb"((?:\r\n" + _TOKEN + rb"+:[\t\x20-\x7e]*)*)\r\n\r\n")
"""The head, its header lines each behind "\\r\\n" (so "\\n" + a name starts a line)."""
_ASKS_MORE = re.compile(
    rb"\n(?:content-length|transfer-encoding|connection|proxy-connection|upgrade|expect):")
"""Headers the parser acts on (llhttp reads Proxy-Connection as Connection)."""
_NONE_MATCH = b"\nif-none-match:"
_MODIFIED_SINCE = b"\nif-modified-since:"


def plain_request(data: bytes) -> PlainRequest | None:
    """`data` read as one request head of the plainest shape; None when it is not one."""
    head = _HEAD.fullmatch(data)
    if head is None:
        return None
    method, path, lines = head.groups()
    lowered = lines.lower()
    if _ASKS_MORE.search(lowered):
        return None
    # The first If-None-Match decides; without one, the last If-Modified-Since (is_fresh).
    none_match = modified_since = None
    at = lowered.find(_NONE_MATCH)
    if at >= 0:
        none_match = _value(lines, at + len(_NONE_MATCH))
    else:
        at = lowered.rfind(_MODIFIED_SINCE)
        if at >= 0:
            modified_since = _value(lines, at + len(_MODIFIED_SINCE))
    return method.decode(), path.decode(), none_match, modified_since


def _value(lines: bytes, start: int) -> bytes:
    """The header value from `start` to its line's end, without the whitespace around it."""
    end = lines.find(b"\r", start)
    return lines[start:end if end >= 0 else None].strip(b" \t")
