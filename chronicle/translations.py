"""A milestone's text in other languages: title, summary, notes and anniversary templates.

English is the milestone's own text; a translation adds the same facts in another language,
with who translated it and whether a second reader reviewed it. Quotes are never translated:
they stay in their source's language. Pure Python like the rest of the domain.

Payload (JSON-safe): `{"mn": {"title", "summary", "notes", "anniversary", "translator",
"reviewed"}}`, every key present; `anniversary` is null or `{"text", "round"}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chronicle.anniversary_text import AnniversaryText, MalformedAnniversary
from chronicle.fieldchecks import Problem, text_problems

__all__ = [
    "SHIPPED_LANGUAGES",
    "AnniversaryText",
    "Translation",
    "translations_from_payload",
    "translations_payload",
    "translations_problems",
]

SHIPPED_LANGUAGES: tuple[str, ...] = ("mn",)
"""Languages the data set carries; any code Babel has locale data for may be added."""

SOURCE_LANGUAGE = "en"
LANGUAGE_RE = re.compile(r"[a-z]{2,3}")
MAX_TITLE_LENGTH = 200          # the domain's bound; the file format's is stricter

_TRANSLATION_KEYS = ("title", "summary", "notes", "anniversary", "translator", "reviewed")


class MalformedTranslation(ValueError):
    """A stored translation payload without the shape this code reads."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Translation:
    """A milestone's text in one language; `reviewed` once a second reader checked it."""

    language: str
    title: str
    translator: str
    summary: str = ""
    notes: str | None = None
    anniversary: AnniversaryText | None = None
    reviewed: bool = False

    def problems(self) -> list[Problem]:
        """Every broken invariant, named "translations.mn.title" and so on."""
        name = f"translations.{self.language}"
        found = _language_problems(name, self.language)
        found += text_problems(f"{name}.title", self.title, required=True,
                               max_length=MAX_TITLE_LENGTH)
        found += text_problems(f"{name}.summary", self.summary, multiline=True)
        found += text_problems(f"{name}.notes", self.notes, optional=True, multiline=True)
        found += text_problems(f"{name}.translator", self.translator, required=True)
        if not isinstance(self.reviewed, bool):
            found.append(Problem(f"{name}.reviewed", "must be true or false"))
        if self.anniversary is not None:
            if isinstance(self.anniversary, AnniversaryText):
                found += self.anniversary.problems(f"{name}.anniversary")
            else:
                found.append(Problem(f"{name}.anniversary", "must be a text and a round text"))
        return found

    def to_payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "summary": self.summary,
            "notes": self.notes,
            "anniversary": None if self.anniversary is None else self.anniversary.to_payload(),
            "translator": self.translator,
            "reviewed": self.reviewed,
        }

    @classmethod
    def from_payload(cls, language: str, data: object) -> Translation:
        mapping = _mapping(f"translation {language!r}", data, _TRANSLATION_KEYS)
        missing = [key for key in ("title", "translator") if key not in mapping]
        if missing:
            raise MalformedTranslation(
                f"translation {language!r} payload lacks {', '.join(missing)}")
        anniversary = mapping.get("anniversary")
        try:
            text = None if anniversary is None else AnniversaryText.from_payload(anniversary)
        except MalformedAnniversary as error:
            raise MalformedTranslation(str(error)) from error
        return cls(
            language=language, title=mapping["title"], translator=mapping["translator"],
            summary=mapping.get("summary", ""), notes=mapping.get("notes"),
            anniversary=text,
            reviewed=mapping.get("reviewed", False))


def translations_payload(translations: Iterable[Translation]) -> dict[str, Any]:
    return {t.language: t.to_payload() for t in translations}


def translations_from_payload(data: object) -> tuple[Translation, ...]:
    """Inverse of `translations_payload`, ordered by language code."""
    if data is None:
        return ()
    if not isinstance(data, Mapping):
        raise MalformedTranslation(f"translations must be an object, not {type(data).__name__}")
    return tuple(Translation.from_payload(lang, data[lang]) for lang in sorted(data))


def translations_problems(translations: object) -> list[Problem]:
    if not isinstance(translations, tuple):
        return [Problem("translations", f"must be a tuple, not {type(translations).__name__}")]
    found: list[Problem] = []
    seen: set[str] = set()
    for translation in translations:
        if not isinstance(translation, Translation):
            found.append(Problem("translations", "holds something that is not a Translation"))
            continue
        if translation.language in seen:
            found.append(Problem(f"translations.{translation.language}", "is given twice"))
        seen.add(translation.language)
        found += translation.problems()
    return found


def _language_problems(name: str, language: object) -> list[Problem]:
    if not isinstance(language, str) or not LANGUAGE_RE.fullmatch(language):
        return [Problem(name, f"{language!r} is not a language code like 'mn'")]
    if language == SOURCE_LANGUAGE:
        return [Problem(name, "English is the milestone's own text, not a translation")]
    from babel import localedata  # locale data: only read when a translation is checked

    if not localedata.exists(language):
        return [Problem(name, f"{language!r} is a language Babel has no locale data for")]
    return []


def _mapping(what: str, data: object, known: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MalformedTranslation(f"{what} payload must be an object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise MalformedTranslation(f"{what} payload has unknown field(s): {', '.join(unknown)}")
    return data
