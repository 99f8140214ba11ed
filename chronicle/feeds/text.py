"""Text that is safe in every feed format: XML 1.0 characters only, HTML escaped once.

The domain already refuses control characters in milestones, but feeds also carry settings,
post texts and whatever a future source hands them; lxml refuses to serialise a forbidden
character, so one bad character would take every feed down. They are stripped here instead.
"""

from __future__ import annotations

import html
import re

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Everything else (C0 controls, lone surrogates, U+FFFE, U+FFFF) cannot appear in a document.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLANK_LINES = re.compile(r"\n\s*\n")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (and that UTF-8 cannot encode)."""
    return _NOT_XML_CHAR.sub("", text)


def xml_safe_or_none(text: str | None) -> str | None:
    return None if text is None else xml_safe(text)


def escape(text: str) -> str:
    """HTML-escaped, XML-safe text for content_html (quotes too: it may land in attributes)."""
    return html.escape(xml_safe(text), quote=True)


def paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs: blank lines split paragraphs, single newlines break lines."""
    parts = [part.strip() for part in _BLANK_LINES.split(xml_safe(text).replace("\r\n", "\n"))]
    return "".join(f"<p>{escape(part).replace(chr(10), '<br/>')}</p>" for part in parts if part)


def is_web_url(url: str | None) -> bool:
    """Only http(s) addresses become links: never javascript:, data: or relative ones."""
    return bool(url) and re.match(r"(?i)https?://[^\s]+\Z", url or "") is not None
