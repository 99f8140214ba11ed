"""Historical dates: fuzzy (day, month or year), possibly ranges, possibly "circa".

A milestone's date says when something happened, which sources often know only to the
month or year. `HistoricalDate` keeps that precision instead of inventing a day, so
feeds can say "April 1988" and the anniversary engine can skip what has no day.
No process locale, no I/O, safe to share between threads; words in other languages than
English are in chronicle.datewords.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

__all__ = ["DatePoint", "HistoricalDate", "InvalidDate", "Precision"]

MIN_YEAR = 1000
MAX_YEAR = 2999



@functools.cache
def month_names() -> tuple[str, ...]:
    """CLDR's English month names through Babel, not strftime("%B") (the process locale).

    Read on first use: Babel's import and locale data cost ~0.1 s, which a process that never
    says a date should not pay. English words keep their own order here ("27 January 1987");
    every other language's words come from chronicle.datewords.
    """
    from babel.dates import get_month_names

    return tuple(str(name) for _, name in sorted(get_month_names("wide", locale="en").items()))


def __getattr__(name: str) -> Any:
    """`MONTH_NAMES`, the tuple of `month_names()`, for the modules that import it."""
    if name == "MONTH_NAMES":
        return month_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

CIRCA_PREFIXES = ("c. ", "circa ")
FORMAT_HINT = "expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"
# [0-9], not \d: \d also matches other scripts' digits, which int() would accept.
_POINT_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


class InvalidDate(ValueError):
    """A date text or value that is not a valid historical date; the message says why."""


class Precision(StrEnum):
    """How much of a date point is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"

    @property
    def rank(self) -> int:
        """Finer first: for the same first day, a day sorts before its month and year."""
        return _PRECISION_RANK[self]


_PRECISION_RANK = {Precision.DAY: 0, Precision.MONTH: 1, Precision.YEAR: 2}


def _point_problem(year: int, month: int | None, day: int | None) -> str | None:
    """The reason a (year, month, day) is not a valid point, or None when it is."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        return f"year {year} is not between {MIN_YEAR} and {MAX_YEAR}"
    if month is None:
        return None if day is None else "a day needs a month"
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    if day is None:
        return None
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"{month_names()[month - 1]} {year} has no day {day}"
    return None


@dataclass(frozen=True, slots=True)
class DatePoint:
    """One end of a historical date: a year, a month of a year, or a day."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        problem = _point_problem(self.year, self.month, self.day)
        if problem is not None:
            raise InvalidDate(f"{self._raw_iso()}: {problem}")

    def _raw_iso(self) -> str:
        parts = [f"{self.year:04d}"]
        parts += [f"{n:02d}" for n in (self.month, self.day) if n is not None]
        return "-".join(parts)

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        return Precision.YEAR if self.month is None else Precision.MONTH

    def iso(self) -> str:
        return self._raw_iso()

    def words(self, *, with_year: bool = True) -> str:
        """English words: "27 January 1987", "April 1988", "1862" (year dropped on request)."""
        parts: list[str] = []
        if self.day is not None:
            parts.append(str(self.day))
        if self.month is not None:
            parts.append(month_names()[self.month - 1])
        if with_year or not parts:
            parts.append(str(self.year))
        return " ".join(parts)

    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date:
        if self.day is not None:
            return self.first_day()
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])


def _parse_point(part: str, text: str) -> DatePoint:
    """Parse one side of a date; errors name the whole text the user wrote."""
    match = _POINT_RE.fullmatch(part)
    if match is None:
        raise InvalidDate(f"{text!r}: {FORMAT_HINT}")
    year, month, day = (None if g is None else int(g) for g in match.groups())
    assert year is not None  # the pattern requires it
    problem = _point_problem(year, month, day)
    if problem is not None:
        raise InvalidDate(f"{text}: {problem}")
    return DatePoint(year, month, day)


def _range_problem(start: DatePoint, end: DatePoint) -> str | None:
    """A range must end strictly after its start is over: no overlap, no empty range."""
    if end.first_day() > start.last_day():
        return None
    if end.last_day() < start.first_day():
        return "the end is before the start"
    if end == start:
        return f"the start and the end are the same; write {start.iso()} alone"
    return "the end overlaps the start"


@dataclass(frozen=True, slots=True, repr=False)
class HistoricalDate:
    """A day, month or year, or a range between two of them, optionally "circa".

    Ordered for a timeline by `sort_key()`: first day, then precision (day, month,
    year), then last day, then the end's precision, then circa. The end's precision
    is there so that ordering agrees with equality ("2003-08/2004" and
    "2003-08/2004-12" share a last day but are different dates).
    """

    start: DatePoint
    end: DatePoint | None = None
    circa: bool = False

    def __post_init__(self) -> None:
        if self.end is not None:
            problem = _range_problem(self.start, self.end)
            if problem is not None:
                raise InvalidDate(f"{self.iso()}: {problem}")

    # -- construction -------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, *, circa: bool = False) -> HistoricalDate:
        """Parse "1987-01-27", "1988-04", "1862", "START/END", optionally "c. "/"circa "."""
        if not isinstance(text, str):
            raise InvalidDate(
                f"{text!r}: expected the date as text (quote it in YAML), got {type(text).__name__}"
            )
        body = text
        for prefix in CIRCA_PREFIXES:
            if body.startswith(prefix):
                body, circa = body[len(prefix) :], True
                break
        parts = body.split("/")
        if len(parts) > 2:
            raise InvalidDate(f"{text!r}: {FORMAT_HINT}")
        start = _parse_point(parts[0], text)
        end = _parse_point(parts[1], text) if len(parts) == 2 else None
        if end is not None:
            problem = _range_problem(start, end)
            if problem is not None:
                raise InvalidDate(f"{text}: {problem}")
        return cls(start, end, circa)

    @classmethod
    def from_date(cls, day: date, *, circa: bool = False) -> HistoricalDate:
        """A day-precision date; YAML readers hand unquoted 1987-01-27 over as a date."""
        return cls(DatePoint(day.year, day.month, day.day), None, circa)

    # -- text ---------------------------------------------------------------------

    def iso(self) -> str:
        """Canonical text without circa: "1987-01-27", "1988-04", "1990/1995"."""
        if self.end is None:
            return self.start.iso()
        return f"{self.start.iso()}/{self.end.iso()}"

    def iso_start(self) -> str:
        return self.start.iso()

    def iso_end(self) -> str | None:
        return None if self.end is None else self.end.iso()

    def __str__(self) -> str:
        return f"c. {self.iso()}" if self.circa else self.iso()

    def __repr__(self) -> str:
        return f"HistoricalDate.parse({str(self)!r})"

    def words(self) -> str:
        """English words, ranges with shared parts said once: "27–29 July 2019"."""
        text = self.start.words() if self.end is None else _range_words(self.start, self.end)
        return f"c. {text}" if self.circa else text

    # -- calendar -----------------------------------------------------------------

    @property
    def precision(self) -> Precision:
        """The precision of the start."""
        return self.start.precision

    @property
    def is_range(self) -> bool:
        return self.end is not None

    def first_day(self) -> date:
        return self.start.first_day()

    def last_day(self) -> date:
        return (self.end or self.start).last_day()

    def month_day(self) -> tuple[int, int] | None:
        """(month, day) of the first day when the start is a known day; anniversaries use it."""
        if self.start.month is None or self.start.day is None:
            return None
        return (self.start.month, self.start.day)

    def years_since(self, on: date) -> int | None:
        """Completed years from the start to `on`; None unless the start is a day.

        A 29 February start completes a year on 1 March in common years.
        Raises ValueError when `on` is before the start.
        """
        month_day = self.month_day()
        if month_day is None:
            return None
        start = self.first_day()
        if on < start:
            raise ValueError(f"{on.isoformat()} is before {self.iso_start()}")
        return on.year - start.year - ((on.month, on.day) < month_day)

    # -- ordering -----------------------------------------------------------------

    def sort_key(self) -> tuple[date, int, date, int, bool]:
        end_rank = -1 if self.end is None else self.end.precision.rank
        return (self.first_day(), self.precision.rank, self.last_day(), end_rank, self.circa)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, HistoricalDate):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, HistoricalDate):
            return NotImplemented
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, HistoricalDate):
            return NotImplemented
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, HistoricalDate):
            return NotImplemented
        return self.sort_key() >= other.sort_key()

    # -- JSON ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.iso_start(),
            "end": self.iso_end(),
            "precision": self.precision.value,
            "circa": self.circa,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoricalDate:
        """Inverse of `to_json`; a stored precision that disagrees with the date is refused."""
        try:
            start, end = data["date"], data.get("end")
        except (KeyError, TypeError, AttributeError) as error:
            raise InvalidDate(f"{data!r}: expected a mapping with a 'date' key") from error
        circa = data.get("circa", False)
        if not isinstance(circa, bool):
            raise InvalidDate(f"{data!r}: 'circa' must be true or false")
        text = start if end is None else f"{start}/{end}"
        if not isinstance(text, str):
            raise InvalidDate(f"{data!r}: 'date' must be text")
        parsed = cls.parse(text, circa=circa)
        precision = data.get("precision", parsed.precision.value)
        if precision != parsed.precision.value:
            raise InvalidDate(
                f"{text}: stored precision {precision!r} disagrees with the date "
                f"({parsed.precision.value})"
            )
        return parsed


def _range_words(start: DatePoint, end: DatePoint) -> str:
    """Say a shared year (and month) once, after the range of the parts that differ."""
    left, right, shared = start.words(), end.words(), ""
    if start.year == end.year and start.precision == end.precision:
        shared = f" {start.year}"
        left, right = start.words(with_year=False), end.words(with_year=False)
        if start.precision is Precision.DAY and start.month == end.month:
            shared = f" {DatePoint(end.year, end.month).words()}"
            left, right = str(start.day), str(end.day)
    # Single words take a closed en dash ("1990–1995"), phrases a spaced one.
    joiner = " – " if " " in left or " " in right else "–"
    return f"{left}{joiner}{right}{shared}"


def date_from_json_cached(data: dict[str, Any]) -> HistoricalDate:
    """`HistoricalDate.from_json`, parsed once per distinct stored value.

    A replay of a long log meets the same few thousand dates again and again; the dates are
    immutable, so one parsed instance can be shared. Unusual values take the uncached path.
    """
    try:
        key = (data["date"], data.get("end"), data.get("precision"), data.get("circa", False))
        if type(key[3]) is bool:   # 1 == True: a non-bool circa must reach the check
            return _from_json_key(key)
    except (KeyError, TypeError, AttributeError):
        pass
    return HistoricalDate.from_json(data)


@functools.lru_cache(maxsize=65536)
def _from_json_key(key: tuple[Any, Any, Any, Any]) -> HistoricalDate:
    start, end, precision, circa = key
    data: dict[str, Any] = {"date": start, "circa": circa}
    if end is not None:
        data["end"] = end
    if precision is not None:
        data["precision"] = precision
    return HistoricalDate.from_json(data)
