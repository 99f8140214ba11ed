"""A milestone's text as a reader of one language meets it, English standing in where needed.

Every face that shows text (CLI, pages, feeds, posts) asks here, so the fallback rule is one
rule: a field without a translation is shown in English and named in `fallbacks`, so the face
can mark it (`[en]` in a terminal, `lang="en"` in HTML). Quotes are never localised.
"""

from __future__ import annotations

from dataclasses import dataclass

from chronicle.datewords import date_words
from chronicle.domain import Milestone
from chronicle.translations import LANGUAGE_RE, SOURCE_LANGUAGE

__all__ = ["LocalizedMilestone", "UnknownLanguage", "check_language", "localize"]


class UnknownLanguage(ValueError):
    """A language code that is malformed or that Babel has no locale data for."""


def check_language(language: str) -> str:
    """The code itself when the chronicle can speak it (dates need Babel's locale data)."""
    if language == SOURCE_LANGUAGE:
        return language
    from babel import localedata

    if not LANGUAGE_RE.fullmatch(language) or not localedata.exists(language):
        raise UnknownLanguage(f"{language!r} is not a language code Babel knows "
                              "(e.g. en, mn)")
    return language


@dataclass(frozen=True, slots=True)
class LocalizedMilestone:
    """Title, summary, notes and date of a milestone in `language`; `fallbacks` are in English."""

    language: str
    title: str
    summary: str
    notes: str | None
    date_words: str
    fallbacks: tuple[str, ...]
    reviewed: bool | None       # None for English (the source text) and for a full fallback
    translator: str | None

    def marked(self, field: str, text: str) -> str:
        """`text` with a "[en] " mark when `field` fell back to English."""
        return f"[en] {text}" if field in self.fallbacks else text


def localize(milestone: Milestone, language: str) -> LocalizedMilestone:
    """The milestone for a reader of `language`; English for any field not translated."""
    dates = milestone.with_caveat(date_words(milestone.date, language))
    if language == SOURCE_LANGUAGE:
        return LocalizedMilestone(language, milestone.title, milestone.summary, milestone.notes,
                                  dates, (), None, None)
    translation = milestone.translation(language)
    if translation is None:
        fallbacks = tuple(name for name, value in (
            ("title", milestone.title), ("summary", milestone.summary),
            ("notes", milestone.notes)) if value)
        return LocalizedMilestone(language, milestone.title, milestone.summary, milestone.notes,
                                  dates, fallbacks, None, None)
    missing: list[str] = []
    summary = translation.summary
    if not summary and milestone.summary:
        summary = milestone.summary
        missing.append("summary")
    notes = translation.notes
    if notes is None and milestone.notes:
        notes = milestone.notes
        missing.append("notes")
    return LocalizedMilestone(language, translation.title, summary, notes, dates,
                              tuple(missing), translation.reviewed, translation.translator)
