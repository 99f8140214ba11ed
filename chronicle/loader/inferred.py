"""Inferred names: people and places of a milestone that none of its quotes names.

A name the quotes do not carry was inferred by whoever wrote the milestone (a place from
context, a person from another passage). That may be right, but an editor should see it and
say so in the milestone's notes, so `chronicle check` warns about each one without failing.

Matching is deliberately forgiving, so that a warning means the name is really absent: a
role in parentheses is dropped ("James Baker (US Secretary of State)" is "James Baker"), any
one word of a person's name is enough ("Baker"), a place is its first comma-separated part
("White House Treaty Room, Washington, D.C." is found by "White House Treaty Room"), and
diacritics and the romanizations of Mongolian ө/ү do not matter (Batmönkh, Batmonkh and
Batmunkh are one name).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from chronicle.loader.problems import FileProblem
from chronicle.loader.validate import FileMilestone

_PARENTHESES = re.compile(r"\([^()]*\)")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_MIN_WORD = 3  # initials ("L.") and particles ("de", "of") identify no one
# Mongolian ө and ү are romanized ö/o/u and ü/u; each spelling of a name yields every reading.
_ROMANIZATIONS = ({"ö": "o", "ө": "o", "ü": "u", "ү": "u"},
                  {"ö": "u", "ө": "u", "ü": "u", "ү": "u"})


def _readings(text: str) -> set[str]:
    """The text lowercased, without diacritics or punctuation, once per romanization."""
    readings = set()
    for table in _ROMANIZATIONS:
        folded = "".join(table.get(char, char) for char in text.casefold())
        plain = "".join(char for char in unicodedata.normalize("NFKD", folded)
                        if not unicodedata.combining(char))
        readings.add(" " + " ".join(_NOT_WORD.sub(" ", plain).split()) + " ")
    return readings


def _found(phrases: Iterable[str], quotes: set[str]) -> bool:
    """Whether any phrase occurs as whole words in any reading of any quote."""
    return any(f" {phrase} " in quote for phrase in phrases for quote in quotes)


def _person_words(name: str) -> set[str]:
    bare = _PARENTHESES.sub(" ", name)
    return {word for reading in _readings(bare) for word in reading.split()
            if len(word) >= _MIN_WORD}


def _place_phrases(place: str) -> set[str]:
    first = _PARENTHESES.sub(" ", place).split(",")[0]
    return {reading.strip() for reading in _readings(first)} - {""}


def inferred_names(milestones: Sequence[FileMilestone]) -> list[FileProblem]:
    """A warning for each person or place that no quote of its milestone names."""
    warnings = []
    for entry in milestones:
        milestone = entry.milestone
        quotes = {reading for source in milestone.sources for reading in _readings(source.quote)}
        notes = _readings(milestone.notes or "")
        for key, names, phrases in (("people", milestone.people, _person_words),
                                    ("places", milestone.places, _place_phrases)):
            for index, name in enumerate(names):
                if _found(phrases(name), quotes):
                    continue
                said = ("the notes mention it" if _found(phrases(name), notes)
                        else "say in its notes where it comes from")
                warnings.append(FileProblem(
                    entry.file, entry.line_of(key), f"{key}[{index}]",
                    f"'{name}' is named in no quote of {milestone.id}: an inferred name ({said})"))
    return warnings
