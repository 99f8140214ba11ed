"""How a quoted passage reads: the same text in pages, feeds and the search index."""

from __future__ import annotations

import re

_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")


def readable_quote(text: str) -> str:
    """A quote as a reader reads it: table rows ("| May 1990 | Name | Office | Place |") become
    "May 1990 — Name, Office, Place", one per line; other text is left as it is."""
    lines = text.splitlines()
    rows = [_TABLE_ROW.match(line) for line in lines]
    if not lines or not all(rows):
        return text
    readable = []
    for row in rows:
        assert row is not None
        cells = [cell.strip() for cell in row[1].split("|") if cell.strip()]
        readable.append(f"{cells[0]} — {', '.join(cells[1:])}" if len(cells) > 1
                        else "".join(cells))
    return "\n".join(readable)
