"""Dates, counts and ordinals in words, English and Mongolian, from CLDR through Babel."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date, format_skeleton
from hypothesis import given
from hypothesis import strategies as st

from chronicle.dates import MONTH_NAMES, DatePoint, HistoricalDate
from chronicle.datewords import (
    anniversary_words,
    date_words,
    full_date_words,
    month_day_words,
    ordinal,
    years_words,
)

# Every precision and range shape, with the English the feeds have always carried.
WORDS = [
    ("1987-01-27", "27 January 1987", "1987\u202fоны нэгдүгээр сарын 27"),
    ("1988-04", "April 1988", "1988\u202fоны дөрөвдүгээр сар"),
    ("1862", "1862", "1862"),
    ("2019-07-27/2019-07-29", "27–29 July 2019", "2019\u202fоны долоодугаар сарын 27–29"),
    ("2019-07-30/2019-08-02", "30 July – 2 August 2019",
     "2019\u202fоны долоодугаар сарын 30 – наймдугаар сарын 2"),
    ("2018-12-30/2019-01-02", "30 December 2018 – 2 January 2019",
     "2018\u202fоны арван хоёрдугаар сарын 30 – 2019\u202fоны нэгдүгээр сарын 2"),
    ("2003-03/2003-08", "March–August 2003", "2003\u202fоны гуравдугаар сар – наймдугаар сар"),
    ("2003-08/2008-10", "August 2003 – October 2008",
     "2003\u202fоны наймдугаар сар – 2008\u202fоны аравдугаар сар"),
    ("1990/1995", "1990–1995", "1990–1995"),
    ("c. 1899", "c. 1899", "ойролцоогоор 1899"),
    ("c. 1921-07", "c. July 1921", "ойролцоогоор 1921\u202fоны долоодугаар сар"),
]


@pytest.mark.parametrize(("text", "english", "mongolian"), WORDS, ids=[w[0] for w in WORDS])
def test_every_precision_in_both_languages(text: str, english: str, mongolian: str) -> None:
    when = HistoricalDate.parse(text)
    assert date_words(when, "en") == english == when.words()
    assert date_words(when, "mn") == mongolian


def test_english_month_names_are_cldr_s() -> None:
    cldr = tuple(format_date(dt.date(2000, m, 1), "MMMM", locale="en") for m in range(1, 13))
    assert cldr == MONTH_NAMES


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(2999, 12, 31)))
def test_a_day_in_mongolian_is_cldr_s_form(day: dt.date) -> None:
    when = HistoricalDate.from_date(day)
    cldr = format_skeleton("yMMMMd", day, locale="mn")
    assert date_words(when, "mn") == cldr == full_date_words(day, "mn")
    # CLDR binds the year to its case ending with a narrow no-break space
    assert cldr.startswith(f"{day.year}\u202fоны ") and cldr.endswith(f"сарын {day.day}")
    assert full_date_words(day, "en") == when.words()


def test_another_language_gets_cldr_s_forms() -> None:
    assert date_words(HistoricalDate.parse("1987-01-27"), "de") == "27. Januar 1987"
    assert date_words(HistoricalDate.parse("2019-07-27/2019-07-29"), "de") == "27.–29. Juli 2019"


@pytest.mark.parametrize(("month", "day", "english", "mongolian"), [
    (1, 27, "January 27", "нэгдүгээр сарын 27"),
    (2, 29, "February 29", "хоёрдугаар сарын 29"),
    (12, 1, "December 1", "арван хоёрдугаар сарын 1"),
])
def test_the_day_of_the_year(month: int, day: int, english: str, mongolian: str) -> None:
    assert month_day_words(month, day, "en") == english
    assert month_day_words(month, day, "mn") == mongolian


@pytest.mark.parametrize(("number", "english", "mongolian"), [
    (1, "1st", "1 дэх"), (2, "2nd", "2 дахь"), (4, "4th", "4 дэх"), (9, "9th", "9 дэх"),
    (10, "10th", "10 дахь"), (11, "11th", "11 дэх"), (25, "25th", "25 дахь"),
    (30, "30th", "30 дахь"), (39, "39th", "39 дэх"), (40, "40th", "40 дэх"),
    (50, "50th", "50 дахь"), (90, "90th", "90 дэх"), (100, "100th", "100 дахь"),
    (101, "101st", "101 дэх"), (1000, "1000th", "1000 дахь"),
])
def test_ordinals(number: int, english: str, mongolian: str) -> None:
    assert ordinal(number, "en") == english
    assert ordinal(number, "mn") == mongolian


def test_counts_and_anniversaries() -> None:
    assert years_words(40, "en") == "40 years"
    assert years_words(1, "en") == "1 year"
    assert years_words(40, "mn") == "40 жил"
    assert years_words(1, "mn") == "1 жил"
    assert anniversary_words(40, "en") == "40th anniversary"
    assert anniversary_words(40, "mn") == "40 жилийн ой"


def test_a_point_keeps_its_english_words() -> None:
    assert DatePoint(1987, 1, 27).words(with_year=False) == "27 January"
