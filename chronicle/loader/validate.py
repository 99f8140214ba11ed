"""From read YAML to milestones: every problem of every file, each at the line of its field.

Checks the file format of events/README.md (field names, types, quoting, dates, tags) and then
every invariant of `Milestone.validate()`, mapping each domain problem ("sources[0].quote") to
the line it came from. A place already reported is not reported again by a later check.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from chronicle.dates import HistoricalDate, InvalidDate, Precision
from chronicle.domain import AnniversaryText, Milestone, Problem, Source
from chronicle.fieldchecks import forbidden_character
from chronicle.loader.fileformat import (
    ANNIVERSARY_KEYS,
    ANNIVERSARY_REQUIRED,
    FILE_KEYS,
    MAX_ANNIVERSARY_OF_WEIGHT,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    MAX_TITLE_WORD_WEIGHT,
    MILESTONE_KEYS,
    MILESTONE_REQUIRED,
    MIN_TAGS,
    SOURCE_KEYS,
    SOURCE_REQUIRED,
    TAGS,
)
from chronicle.loader.problems import STOP_AFTER, FileProblem, Path_, field_name
from chronicle.loader.yamlread import Document, Map, Scalar, Seq, Value, implicit_kind
from chronicle.publishers.xtext import weighted_length  # X: the strictest channel
from chronicle.translations import Translation

# Stand-ins for values already reported, so the domain can still check everything else.
_PLACEHOLDER_DATE = HistoricalDate.parse("1000")
_STAND_IN_SOURCE = Source(title="(reported)", quote="(reported)", file="(reported)")
_DOMAIN_FIELD_PART = re.compile(r"([A-Za-z_]+)|\[([0-9]+)\]")
_CIRCA_PREFIXES = ("c. ", "circa ")


@dataclass(frozen=True, slots=True)
class FileMilestone:
    """A milestone as a file states it, with what the file asks beyond recording it."""

    milestone: Milestone
    reason: str | None
    retracted: str | None
    file: str
    line: int
    field_lines: dict[str, int]
    moved_from: str | None = None

    def line_of(self, field: str) -> int:
        return self.field_lines.get(field, self.line)


@dataclass
class Checked:
    """All files checked: their milestones (usable only when `problems` is empty)."""

    milestones: list[FileMilestone]
    problems: list[FileProblem]
    files: list[str] = field(default_factory=list)


class _Report:
    """One document's problems; refusals by the reader silence later checks of that place."""

    def __init__(self, document: Document) -> None:
        self.file = document.file
        self.problems = list(document.problems)
        self.refused = set(document.refused)
        self.reported = set(document.refused)

    def add(self, path: Path_, line: int, message: str) -> None:
        if not _covered(path, self.refused):
            self.problems.append(FileProblem(self.file, line, field_name(path), message))
            self.reported.add(path)

    def add_domain(self, path: Path_, line: int, message: str) -> None:
        """A domain problem, unless the format checks already said something about the place."""
        if not _covered(path, self.reported):
            self.add(path, line, message)


def _covered(path: Path_, places: set[Path_]) -> bool:
    return any(path[:n] in places for n in range(len(path) + 1))


def check_documents(documents: Sequence[Document]) -> Checked:
    """Check every document and ids across them; problems sorted by file, then line."""
    milestones: list[FileMilestone] = []
    problems: list[FileProblem] = []
    for document in documents:
        found, report = _check_document(document, STOP_AFTER - len(problems))
        milestones += found
        problems += report.problems
        if len(problems) >= STOP_AFTER:
            break
    problems += _duplicate_ids(milestones)
    order = {document.file: index for index, document in enumerate(documents)}
    problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line))
    return Checked(milestones, problems[:STOP_AFTER], [document.file for document in documents])


def _duplicate_ids(milestones: list[FileMilestone]) -> list[FileProblem]:
    first: dict[str, FileMilestone] = {}
    problems = []
    for entry in milestones:
        key = entry.milestone.id
        if not isinstance(key, str) or not key:
            continue
        if key in first:
            other = first[key]
            problems.append(FileProblem(
                entry.file, entry.line_of("id"), "id", f"'{key}' is also the id of the milestone "
                f"at {other.file}:{other.line_of('id')}; ids must be unique across all files"))
        else:
            first[key] = entry
    return problems


def _check_document(document: Document, budget: int) -> tuple[list[FileMilestone], _Report]:
    """One file's milestones and problems; stops at the milestone that exceeds `budget`."""
    report = _Report(document)
    root = document.root
    if root is None:
        return [], report
    if not isinstance(root, Map):
        report.add((), root.line, "the file must be a mapping with one key, 'milestones:'")
        return [], report
    _unknown_keys(report, root, (), FILE_KEYS)
    entry = root.entries.get("milestones")
    if entry is None:
        report.add(("milestones",), root.line, "is missing: the file's one key is 'milestones:'")
        return [], report
    if not isinstance(entry.value, Seq):
        report.add(("milestones",), entry.key_line, "must be a list of milestones ('- id: …')")
        return [], report
    found = []
    for index, item in enumerate(entry.value.items):
        milestone = _MilestoneChecker(report, item, ("milestones", index)).check()
        if milestone is not None:
            found.append(milestone)
        if len(report.problems) >= budget:
            break
    return found, report


def _unknown_keys(report: _Report, mapping: Map, path: Path_, known: Sequence[str]) -> None:
    for key, entry in mapping.entries.items():
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
        report.add((*path, key), entry.key_line, f"unknown field '{key}' ({hint})")


def _missing_keys(report: _Report, mapping: Map, path: Path_, required: Sequence[str]) -> None:
    for key in required:
        if key not in mapping.entries:
            report.add((*path, key), mapping.line, "is required but missing")


def _lines(value: Value, path: Path_, line: int, into: dict[Path_, int]) -> dict[Path_, int]:
    """The line of every place under `path`: a field's key line, a list item's first line."""
    into[path] = line
    if isinstance(value, Map):
        for key, entry in value.entries.items():
            _lines(entry.value, (*path, key), entry.key_line, into)
    elif isinstance(value, Seq):
        for index, item in enumerate(value.items):
            _lines(item, (*path, index), item.line, into)
    return into


def _domain_path(field: str) -> Path_:
    """ "sources[0].quote" -> ("sources", 0, "quote")."""
    return tuple(name or int(index) for name, index in _DOMAIN_FIELD_PART.findall(field))


def _as_text(report: _Report, value: Value, path: Path_) -> str | None:
    """A scalar's text, refusing unquoted values other YAML readers would turn into non-text."""
    if not isinstance(value, Scalar):
        shape = "a list" if isinstance(value, Seq) else "a mapping"
        report.add(path, value.line, f"must be text, not {shape}")
        return None
    if value.plain and value.text == "":
        report.add(path, value.line, "has no value; write the text in double quotes, "
                   "or leave the field out")
        return None
    kind = implicit_kind(value.text) if value.plain else None
    if kind is not None and kind.startswith("null"):
        report.add(path, value.line, f"unquoted {value.text} is read as null by YAML readers: "
                   f"leave the field out, or if you mean the text, quote it: \"{value.text}\"")
        return None
    if kind is not None:
        report.add(path, value.line, f"unquoted {value.text} is read as {kind} by YAML "
                   f"readers; if you mean the text, quote it: \"{value.text}\"")
        return None
    return value.text


def _is_plain_name(name: str) -> bool:
    """A file name without a folder: no separator, not "." nor "..", not hidden."""
    return not re.search(r"[/\\\x00]", name) and not name.startswith(".") and bool(name.strip())


def _prose_problem(text: str) -> str | None:
    """The rule of revision and retraction reasons: not blank, nothing invisible."""
    if not text.strip():
        return "must not be blank"
    return forbidden_character(text, multiline=True)


def _suggest_tag(tag: str) -> str:
    close = difflib.get_close_matches(tag, TAGS, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" (the vocabulary: {', '.join(TAGS)})"


class _MilestoneChecker:
    """Checks one milestone entry of a file and builds its `FileMilestone`."""

    def __init__(self, report: _Report, item: Value, path: Path_) -> None:
        self.report = report
        self.item = item
        self.path = path

    def check(self) -> FileMilestone | None:
        item = self.item
        if not isinstance(item, Map):
            self.report.add(self.path, item.line, "must be a mapping of fields ('id: …')")
            return None
        self.lines = _lines(item, self.path, item.line, {})
        _unknown_keys(self.report, item, self.path, MILESTONE_KEYS)
        _missing_keys(self.report, item, self.path, MILESTONE_REQUIRED)
        milestone = self._milestone(item)
        for problem in milestone.validate():
            self._domain_problem(problem)
        field_lines = {field_name(path): line for path, line in self.lines.items()}
        return FileMilestone(milestone, self._prose("reason"), self._prose("retracted"),
                             self.report.file, item.line, field_lines, self._text("moved_from"))

    def _milestone(self, item: Map) -> Milestone:
        title = self._text("title")
        if title is not None:
            self._title_rules(title)
        summary = self._text("summary")
        if summary is not None and not summary.strip():
            self._add(("summary",), "must not be blank")
        date = self._date()
        anniversary_of = self._text("anniversary_of")
        if anniversary_of is not None and date is not None and (
                date.is_range or date.precision is not Precision.DAY):
            self._add(("anniversary_of",), "needs a single-day date (YYYY-MM-DD): yearly "
                      "posts are sent on a day")
        if anniversary_of is not None and (
                weight := weighted_length(anniversary_of)) > MAX_ANNIVERSARY_OF_WEIGHT:
            self._add(("anniversary_of",), f"weighs {weight} in a post (X counts 2 for wide "
                      f"characters); at most {MAX_ANNIVERSARY_OF_WEIGHT}, or no channel could "
                      "ever send its anniversary post")
        return Milestone(
            id=self._text("id") or "", title=title or "", date=date or _PLACEHOLDER_DATE,
            date_caveat=self._text("date_caveat"),
            summary=summary or "", tags=self._tags(), people=self._names("people"),
            places=self._names("places"), sources=self._sources(), notes=self._text("notes"),
            anniversary_of=anniversary_of, anniversary=self._anniversary(),
            anniversary_posts=self._flag("anniversary_posts", default=True),
            translations=self._translations(date))

    def _translations(self, date: HistoricalDate | None) -> tuple[Translation, ...]:
        from chronicle.loader.translations import read_translations  # it imports this module

        return read_translations(self, date)

    # -- reporting -------------------------------------------------------------------

    def _line(self, parts: Path_) -> int:
        path = (*self.path, *parts)
        while path not in self.lines and len(path) > len(self.path):
            path = path[:-1]
        return self.lines.get(path, self.item.line)

    def _add(self, parts: Path_, message: str) -> None:
        self.report.add((*self.path, *parts), self._line(parts), message)

    def _domain_problem(self, problem: Problem) -> None:
        parts = _domain_path(problem.field)
        self.report.add_domain((*self.path, *parts), self._line(parts), problem.message)

    # -- values ----------------------------------------------------------------------

    def _value(self, key: str) -> Value | None:
        assert isinstance(self.item, Map)
        entry = self.item.entries.get(key)
        return None if entry is None else entry.value

    def _text(self, key: str) -> str | None:
        value = self._value(key)
        return None if value is None else _as_text(self.report, value, (*self.path, key))

    def _prose(self, key: str) -> str | None:
        text = self._text(key)
        problem = None if text is None else _prose_problem(text)
        if problem is not None:
            self._add((key,), problem)
        return text

    def _title_rules(self, title: str) -> None:
        if len(title) > MAX_TITLE_LENGTH:
            self._add(("title",), f"is {len(title)} characters long; at most {MAX_TITLE_LENGTH}")
        if title.rstrip().endswith("."):
            self._add(("title",), "must not end with a period")
        # Only a word of more than half the limit's characters can weigh more than the limit.
        long_words = [w for w in title.split() if 2 * len(w) > MAX_TITLE_WORD_WEIGHT]
        heaviest = max(long_words, key=weighted_length, default="")
        if heaviest and weighted_length(heaviest) > MAX_TITLE_WORD_WEIGHT:
            self._add(("title",), f"has a word of weight {weighted_length(heaviest)} "
                      f"(\"{heaviest[:20]}…\"); at most {MAX_TITLE_WORD_WEIGHT}, so that a "
                      "post can cut the title after a word")

    def _list(self, key: str) -> list[tuple[Path_, Value]]:
        value = self._value(key)
        if value is None:
            return []
        if not isinstance(value, Seq):
            self._add((key,), f"must be a list, like {key}: [\"…\"]")
            return []
        return [((key, index), item) for index, item in enumerate(value.items)]

    def _text_list(self, key: str) -> list[str]:
        texts = []
        for parts, item in self._list(key):
            text = _as_text(self.report, item, (*self.path, *parts))
            if text is None:  # reported; a stand-in unique to the item keeps the indices
                text = item.text if isinstance(item, Scalar) else f"(item {parts[-1]})"
            texts.append(text)
        return texts

    def _names(self, key: str) -> tuple[str, ...]:
        names = self._text_list(key)
        value = self._value(key)
        if isinstance(value, Seq) and not value.items:
            self._add((key,), "is an empty list; leave the field out instead")
        return tuple(names)

    def _tags(self) -> tuple[str, ...]:
        tags = self._text_list("tags")
        for index, tag in enumerate(tags):
            if (*self.path, "tags", index) not in self.report.reported and tag not in TAGS:
                self._add(("tags", index), f"'{tag}' is not a tag of the vocabulary"
                          f"{_suggest_tag(tag)}")
        if isinstance(self._value("tags"), Seq) and not MIN_TAGS <= len(tags) <= MAX_TAGS:
            self._add(("tags",), f"needs {MIN_TAGS} to {MAX_TAGS} tags, not {len(tags)}")
        return tuple(tags)

    def _circa(self) -> bool:
        return self._flag("circa", default=False)

    def _flag(self, key: str, *, default: bool) -> bool:
        value = self._value(key)
        if value is None:
            return default
        if isinstance(value, Scalar) and value.plain and value.text in ("true", "false"):
            return value.text == "true"
        shown = f"\"{value.text}\"" if isinstance(value, Scalar) and not value.plain else (
            value.text if isinstance(value, Scalar) else "a list or mapping")
        self._add((key,), f"must be true or false, unquoted, not {shown}")
        return default

    def _anniversary(self) -> AnniversaryText | None:
        value = self._value("anniversary")
        if value is None:
            return None
        path = (*self.path, "anniversary")
        if not isinstance(value, Map):
            self.report.add(path, value.line, "must be a mapping: text, and round if needed")
            return None
        _unknown_keys(self.report, value, path, ANNIVERSARY_KEYS)
        _missing_keys(self.report, value, path, ANNIVERSARY_REQUIRED)
        texts = {key: _as_text(self.report, entry.value, (*path, key))
                 for key, entry in value.entries.items() if key in ANNIVERSARY_KEYS}
        text = texts.get("text")  # None: reported above; a stand-in lets the rest be checked
        return AnniversaryText(text="(reported)" if text is None else text,
                               round=texts.get("round"))

    def _date(self) -> HistoricalDate | None:
        circa = self._circa()
        value = self._value("date")
        if value is None:
            return None
        if not isinstance(value, Scalar) or (value.plain and not value.text):
            self._add(("date",), "must be a quoted date: \"YYYY\", \"YYYY-MM\", \"YYYY-MM-DD\" "
                      "or \"START/END\"")
            return None
        if value.text.startswith(_CIRCA_PREFIXES):
            self._add(("date",), f"write the date without '{value.text.split()[0]} ' and add "
                      "circa: true")
            return None
        try:
            date = HistoricalDate.parse(value.text, circa=circa)
        except InvalidDate as error:
            self._add(("date",), str(error))
            return None
        if date.end is not None and date.end.precision is not date.start.precision:
            self._add(("date",), f"{value.text}: use the same precision on both ends of a range")
        return date

    def _sources(self) -> tuple[Source, ...]:
        sources = []
        for parts, item in self._list("sources"):
            path = (*self.path, *parts)
            if not isinstance(item, Map):
                self.report.add(path, item.line, "must be a mapping: title, file or url, quote")
                sources.append(_STAND_IN_SOURCE)  # keeps the indices of the sources after it
                continue
            _unknown_keys(self.report, item, path, SOURCE_KEYS)
            _missing_keys(self.report, item, path, SOURCE_REQUIRED)
            texts = {key: _as_text(self.report, entry.value, (*path, key))
                     for key, entry in item.entries.items() if key in SOURCE_KEYS}
            file = texts.get("file")
            if file is not None and not _is_plain_name(file):
                self.report.add((*path, "file"), self._line((*parts, "file")),
                                f"{file!r} must be the name of a file in the sources folder "
                                "(seeds_dir), not a path")
            sources.append(Source(title=texts.get("title") or "", quote=texts.get("quote") or "",
                                  url=texts.get("url"), file=texts.get("file")))
        return tuple(sources)
