"""The `translations:` block of a milestone entry, checked like the English fields.

`translations: {mn: {title, summary, notes, anniversary: {text, round}, translator, reviewed}}`.
The file-format rules (field names, quoting, one-line titles without a period, a boolean
`reviewed`) are checked here with the line of each field; the domain's invariants (control
characters, lengths, known language, template variables) come from `Milestone.validate()`.
"""

from __future__ import annotations

from typing import Protocol

from chronicle.dates import HistoricalDate, Precision
from chronicle.loader.fileformat import (
    ANNIVERSARY_KEYS,
    ANNIVERSARY_REQUIRED,
    MAX_TITLE_LENGTH,
    TRANSLATION_KEYS,
    TRANSLATION_REQUIRED,
)
from chronicle.loader.problems import Path_
from chronicle.loader.validate import _as_text, _missing_keys, _Report, _unknown_keys
from chronicle.loader.yamlread import Map, Scalar, Value
from chronicle.translations import LANGUAGE_RE, AnniversaryText, Translation

_TEXT_KEYS = ("title", "summary", "notes", "translator")


class _Checker(Protocol):
    """What this module needs of the milestone checker in chronicle.loader.validate."""

    report: _Report
    path: Path_

    def _value(self, key: str) -> Value | None: ...

    def _add(self, parts: Path_, message: str) -> None: ...


def read_translations(checker: _Checker, date: HistoricalDate | None
                      ) -> tuple[Translation, ...]:
    """The entry's translations, reporting every format problem at its line."""
    value = checker._value("translations")
    if value is None:
        return ()
    if not isinstance(value, Map):
        checker._add(("translations",), "must be a mapping of language codes to translations, "
                     "like translations: {mn: {title: \"…\", …}}")
        return ()
    found = []
    for language, entry in value.entries.items():
        if not LANGUAGE_RE.fullmatch(language):
            checker._add(("translations", language), f"'{language}' is not a language code "
                         "(two or three lower-case letters, like 'mn')")
            continue
        translation = _translation(checker, language, entry.value, date)
        if translation is not None:
            found.append(translation)
    return tuple(sorted(found, key=lambda t: t.language))


def _translation(checker: _Checker, language: str, value: Value, date: HistoricalDate | None
                 ) -> Translation | None:
    parts: Path_ = ("translations", language)
    path = (*checker.path, *parts)
    if not isinstance(value, Map):
        checker._add(parts, "must be a mapping: title, summary, translator, reviewed …")
        return None
    _unknown_keys(checker.report, value, path, TRANSLATION_KEYS)
    _missing_keys(checker.report, value, path, TRANSLATION_REQUIRED)
    texts = {key: _as_text(checker.report, value.entries[key].value, (*path, key))
             for key in _TEXT_KEYS if key in value.entries}
    title = texts.get("title")
    if title is not None:
        if len(title) > MAX_TITLE_LENGTH:
            checker._add((*parts, "title"),
                         f"is {len(title)} characters long; at most {MAX_TITLE_LENGTH}")
        if title.rstrip().endswith("."):
            checker._add((*parts, "title"), "must not end with a period")
    summary = texts.get("summary")
    if summary is not None and not summary.strip():
        checker._add((*parts, "summary"), "must not be blank")
    return Translation(
        language=language, title=title or "", translator=texts.get("translator") or "",
        summary=summary or "", notes=texts.get("notes"),
        anniversary=_anniversary(checker, value, parts, date),
        reviewed=_reviewed(checker, value, parts))


def _reviewed(checker: _Checker, value: Map, parts: Path_) -> bool:
    entry = value.entries.get("reviewed")
    if entry is None:
        return False  # reported as missing
    found = entry.value
    if isinstance(found, Scalar) and found.plain and found.text in ("true", "false"):
        return found.text == "true"
    shown = (f"\"{found.text}\"" if not found.plain else found.text) if isinstance(
        found, Scalar) else "a list or mapping"
    checker._add((*parts, "reviewed"), f"must be true or false, unquoted, not {shown}")
    return False


def _anniversary(checker: _Checker, value: Map, parts: Path_, date: HistoricalDate | None
                 ) -> AnniversaryText | None:
    entry = value.entries.get("anniversary")
    if entry is None:
        return None
    where: Path_ = (*parts, "anniversary")
    path = (*checker.path, *where)
    found = entry.value
    if not isinstance(found, Map):
        checker._add(where, "must be a mapping: text (and optionally round)")
        return None
    if date is not None and date.precision is not Precision.DAY:
        checker._add(where, "needs a date that starts on a day (YYYY-MM-DD): yearly posts are "
                     "sent on the first day")
    _unknown_keys(checker.report, found, path, ANNIVERSARY_KEYS)
    _missing_keys(checker.report, found, path, ANNIVERSARY_REQUIRED)
    texts = {key: _as_text(checker.report, found.entries[key].value, (*path, key))
             for key in ANNIVERSARY_KEYS if key in found.entries}
    return AnniversaryText(text=texts.get("text") or "", round=texts.get("round"))
