"""Historical dates, counts and ordinals in words, per language, from CLDR through Babel.

English keeps the exact words `HistoricalDate.words()` has always produced ("27 January 1987",
"27–29 July 2019", "c. 1899"), because feeds are byte-compared across releases; its month names
come from CLDR too (see chronicle.dates). Mongolian uses CLDR's own `mn` skeletons ("1987 оны
нэгдүгээр сарын 27", a narrow no-break space binding the year to "оны"); its ranges are
composed from them because CLDR's `mn` interval formats fall back to Roman-numeral months
("VII/30 – VIII/02"). Any other language Babel knows gets CLDR's skeletons and interval
formats unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date, format_interval, format_skeleton
from num2words import num2words

from chronicle.dates import DatePoint, HistoricalDate, Precision

__all__ = [
    "anniversary_variables",
    "anniversary_words",
    "date_words",
    "full_date_words",
    "month_day_words",
    "ordinal",
    "point_words",
    "years_words",
]

_SKELETONS = {Precision.DAY: "yMMMMd", Precision.MONTH: "yMMMM", Precision.YEAR: "y"}


@dataclass(frozen=True, slots=True)
class _Style:
    """How one language writes a date point, a day of the year, and "circa"."""

    patterns: dict[Precision, str] | None      # CLDR pattern per precision; None: skeletons
    month_day: str | None                      # day and month without the year
    circa: str
    ranges: Callable[[DatePoint, DatePoint, str], str] | None = None


def _format(point: DatePoint, pattern_or_skeleton: str, language: str, *, skeleton: bool) -> str:
    day = point.first_day()
    if skeleton:
        return format_skeleton(pattern_or_skeleton, day, locale=language)
    return format_date(day, pattern_or_skeleton, locale=language)


def point_words(point: DatePoint, language: str = "en") -> str:
    """One date point: "27 January 1987" / "1987 оны нэгдүгээр сарын 27"."""
    if language == "en":
        return point.words()
    style = _style(language)
    if style.patterns is not None:
        return _format(point, style.patterns[point.precision], language, skeleton=False)
    return _format(point, _SKELETONS[point.precision], language, skeleton=True)


@functools.lru_cache(maxsize=4096)
def date_words(when: HistoricalDate, language: str = "en") -> str:
    """A historical date in words: points, ranges with shared parts said once, circa."""
    if language == "en":
        return when.words()
    style = _style(language)
    if when.end is None:
        text = point_words(when.start, language)
    elif style.ranges is not None:
        text = style.ranges(when.start, when.end, language)
    else:
        text = _cldr_range(when.start, when.end, language)
    return style.circa.format(text) if when.circa else text


def month_day_words(month: int, day: int, language: str = "en") -> str:
    """A day of the year without the year, as anniversaries say it: "January 27"."""
    style = _style(language)
    moment = date(2000, month, day)  # a leap year, so 29 February has a day to stand on
    if style.month_day is not None:
        return format_date(moment, style.month_day, locale=language)
    return format_skeleton("MMMMd", moment, locale=language)


def full_date_words(day: date, language: str = "en") -> str:
    """A calendar day with its year, in the language's usual order."""
    return point_words(DatePoint(day.year, day.month, day.day), language)


@functools.lru_cache(maxsize=1024)
def ordinal(number: int, language: str = "en") -> str:
    """ "40th" in English; "40 дэх" / "30 дахь" in Mongolian (the suffix follows the numeral's
    last spoken word: front vowels take дэх, back vowels дахь). Kept: num2words takes a
    fraction of a millisecond, and the home page of a large chronicle asks for ~100."""
    if language == "mn":
        return f"{number} {_mn_ordinal_suffix(number)}"
    return str(num2words(number, to="ordinal_num", lang=language if language != "en" else "en"))


def years_words(number: int, language: str = "en") -> str:
    """A count of years: "40 years", "1 year"; "40 жил" (a counted noun stays singular)."""
    if language == "mn":
        return f"{number} жил"
    return f"{number} year" if number == 1 else f"{number} years"


def anniversary_words(number: int, language: str = "en") -> str:
    """ "40th anniversary"; "40 жилийн ой"."""
    if language == "mn":
        return f"{number} жилийн ой"
    return f"{ordinal(number, language)} anniversary"


def anniversary_variables(*, on: date, since: HistoricalDate, years: int, title: str,
                          language: str = "en") -> dict[str, object]:
    """The variables of an anniversary template (the shared contract), in `language`.

    `date` is the day of the post without the year, `full_date` the same day with its year,
    `year` the historical year; the link is never a variable (the post adds it).
    """
    return {"years": years, "ordinal": ordinal(years, language),
            "date": month_day_words(on.month, on.day, language),
            "full_date": full_date_words(on, language), "year": since.start.year,
            "title": title}


# -- Mongolian ---------------------------------------------------------------------------

# The last spoken word of a numeral decides the suffix: 1 нэг, 4 дөрөв, 9 ес, 40 дөч, 90 ер are
# front-vowel words (дэх); all other units, tens, зуу (100) and мянга (1000) are back-vowel (дахь).
_MN_FRONT_UNITS = frozenset({1, 4, 9})
_MN_FRONT_TENS = frozenset({4, 9})


def _mn_ordinal_suffix(number: int) -> str:
    if number % 10:
        return "дэх" if number % 10 in _MN_FRONT_UNITS else "дахь"
    if number % 100:
        return "дэх" if (number // 10) % 10 in _MN_FRONT_TENS else "дахь"
    return "дахь"


def _mn_ranges(start: DatePoint, end: DatePoint, language: str) -> str:
    """Shared year (and month) said once: "2019 оны долдугаар сарын 27–29"."""
    both_days = start.precision is Precision.DAY and end.precision is Precision.DAY
    if start.year == end.year and both_days and start.month == end.month:
        return f"{point_words(start, language)}–{end.day}"
    if start.year == end.year and both_days:
        assert end.month is not None and end.day is not None
        return f"{point_words(start, language)} – {month_day_words(end.month, end.day, language)}"
    both_months = start.precision is Precision.MONTH and end.precision is Precision.MONTH
    if start.year == end.year and both_months:
        month = format_date(end.first_day(), "MMMM", locale=language)
        return f"{point_words(start, language)} – {month}"
    left, right = point_words(start, language), point_words(end, language)
    joiner = " – " if " " in left or " " in right else "–"
    return f"{left}{joiner}{right}"


def _cldr_range(start: DatePoint, end: DatePoint, language: str) -> str:
    if start.precision is not end.precision:
        return f"{point_words(start, language)} – {point_words(end, language)}"
    return str(format_interval(start.first_day(), end.first_day(),
                               _SKELETONS[start.precision], locale=language))


_STYLES = {
    "en": _Style(None, "MMMM d", "c. {}"),
    "mn": _Style(None, None, "ойролцоогоор {}", _mn_ranges),
}
_GENERIC = _Style(None, None, "c. {}")


def _style(language: str) -> _Style:
    return _STYLES.get(language, _GENERIC)
