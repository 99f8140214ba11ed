"""The words of the site's interface (pages and feeds) per language: a small gettext catalogue.

The templates and the feed catalogue write their interface text in English, as gettext
message ids (`_("Sources")`); a language's catalogue (`chronicle/uitext/mn.py`, a plain dict
from English message to its translation) gives the words its readers see. English is the
identity. A message a catalogue lacks falls back to English; `tests/test_pages_mn.py` checks
the shipped catalogue covers every message the templates use. Adding a language is adding a
module here beside `mn.py` and naming its code in `feed.languages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["SOURCE_LANGUAGE", "UiText", "language_name", "language_prefix", "ui_text"]

SOURCE_LANGUAGE = "en"


def language_prefix(language: str) -> str:
    """Where a language's pages and feeds live: English at the root, others under /<code>."""
    return "" if language == SOURCE_LANGUAGE else f"/{language}"


@lru_cache(maxsize=16)
def language_name(language: str) -> str:
    """The language's own name for itself, for the language switch: "English", "Монгол"."""
    from babel import Locale

    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


@dataclass(frozen=True, slots=True)
class UiText:
    """gettext and ngettext over one language's catalogue (newstyle: `%(name)s` variables)."""

    language: str
    messages: Mapping[str, str]

    def lookup(self, message: str) -> str:
        """The translation of `message`, unformatted (Jinja's newstyle gettext formats it)."""
        return self.messages.get(message, message)

    def nlookup(self, singular: str, plural: str, n: int) -> str:
        """Mongolian, like the other languages shipped, keeps one form for every count, so a
        catalogue holds the plural message only; English chooses by `n`."""
        english = singular if n == 1 else plural
        return self.messages.get(plural, english) if self.messages else english

    def gettext(self, message: str, **variables: Any) -> str:
        text = self.lookup(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        return self.nlookup(singular, plural, n) % {"num": n, **variables}


@lru_cache(maxsize=16)
def ui_text(language: str) -> UiText:
    """The catalogue of `language` (empty for English, and for a language without a module)."""
    if language == SOURCE_LANGUAGE:
        return UiText(language, {})
    return UiText(language, _catalogues().get(language, {}))


def _catalogues() -> dict[str, dict[str, Any]]:
    """Every shipped catalogue; a new language is a module beside this one and a line here."""
    from chronicle.uitext import mn  # the catalogue imports nothing back

    return {"mn": mn.MESSAGES}
