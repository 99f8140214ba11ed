"""HistoricalDate: parsing, canonical text, words, ordering, JSON."""

import calendar
import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronicle.dates import DatePoint, HistoricalDate, InvalidDate, Precision

# -- strategies ----------------------------------------------------------------------

years = st.integers(1000, 2999)


@st.composite
def points(draw: st.DrawFn) -> DatePoint:
    year = draw(years)
    precision = draw(st.sampled_from(Precision))
    if precision is Precision.YEAR:
        return DatePoint(year)
    month = draw(st.integers(1, 12))
    if precision is Precision.MONTH:
        return DatePoint(year, month)
    return DatePoint(year, month, draw(st.integers(1, calendar.monthrange(year, month)[1])))


def disjoint(a: DatePoint, b: DatePoint) -> tuple[DatePoint, DatePoint] | None:
    """The two points earliest first when neither overlaps the other, else None."""
    if a.last_day() < b.first_day():
        return a, b
    if b.last_day() < a.first_day():
        return b, a
    return None


@st.composite
def ordered_pairs(draw: st.DrawFn) -> tuple[DatePoint, DatePoint]:
    pair = draw(st.tuples(points(), points()).map(lambda ab: disjoint(*ab)).filter(bool))
    assert pair is not None
    return pair


@st.composite
def historical_dates(draw: st.DrawFn) -> HistoricalDate:
    circa = draw(st.booleans())
    if draw(st.booleans()):
        return HistoricalDate(draw(points()), None, circa)
    start, end = draw(ordered_pairs())
    return HistoricalDate(start, end, circa)


# -- properties ----------------------------------------------------------------------


@given(historical_dates())
def test_str_round_trips_through_parse(date):
    assert HistoricalDate.parse(str(date)) == date


@given(historical_dates())
def test_iso_parses_back_without_circa(date):
    parsed = HistoricalDate.parse(date.iso())
    assert parsed.circa is False
    assert (parsed.start, parsed.end) == (date.start, date.end)


@given(historical_dates())
def test_json_round_trips(date):
    assert HistoricalDate.from_json(date.to_json()) == date


@given(historical_dates())
def test_words_contains_the_years(date):
    words = date.words()
    assert str(date.start.year) in words
    if date.end is not None:
        assert str(date.end.year) in words
    assert words.startswith("c. ") == date.circa


@given(historical_dates())
def test_first_day_not_after_last_day(date):
    assert date.first_day() <= date.last_day()
    assert date.first_day() == date.start.first_day()


@given(historical_dates(), historical_dates())
def test_ordering_is_total_and_agrees_with_equality(a, b):
    assert sum([a < b, a == b, a > b]) == 1
    assert (a <= b) == (a < b or a == b)
    assert (a >= b) == (a > b or a == b)
    assert (a == b) == (a.sort_key() == b.sort_key())
    if a < b:
        assert a.first_day() <= b.first_day()


@given(st.lists(historical_dates(), min_size=2, max_size=12))
def test_sorting_orders_by_first_day_and_is_transitive(dates):
    ordered = sorted(dates)
    assert [d.first_day() for d in ordered] == sorted(d.first_day() for d in dates)
    for a, b in itertools.combinations(ordered, 2):
        assert a <= b


@given(historical_dates())
def test_month_day_only_for_day_precision(date):
    if date.precision is Precision.DAY:
        assert date.month_day() == (date.first_day().month, date.first_day().day)
    else:
        assert date.month_day() is None


# -- invalid dates -------------------------------------------------------------------


@st.composite
def impossible_days(draw: st.DrawFn) -> tuple[int, int, int]:
    year, month = draw(years), draw(st.integers(1, 12))
    return year, month, draw(st.integers(calendar.monthrange(year, month)[1] + 1, 99))


@given(impossible_days())
def test_impossible_day_is_refused_with_its_month(ymd):
    year, month, day = ymd
    text = f"{year:04d}-{month:02d}-{day:02d}"
    name = calendar.month_name[month]  # tests may use the locale; the code may not
    with pytest.raises(InvalidDate, match=f"^{text}: {name} {year} has no day {day}$"):
        HistoricalDate.parse(text)


@given(years.filter(lambda y: not calendar.isleap(y)))
def test_29_february_in_common_years_is_refused(year):
    with pytest.raises(InvalidDate, match=f"February {year} has no day 29"):
        HistoricalDate.parse(f"{year}-02-29")


@given(years.filter(calendar.isleap))
def test_29_february_in_leap_years_is_accepted(year):
    assert HistoricalDate.parse(f"{year}-02-29").month_day() == (2, 29)


@given(years, st.sampled_from([0, *range(13, 100)]))
def test_impossible_month_is_refused(year, month):
    with pytest.raises(InvalidDate, match=f"there is no month {month}$"):
        HistoricalDate.parse(f"{year}-{month:02d}")


@given(ordered_pairs())
def test_end_before_start_is_refused(pair):
    start, end = pair
    text = f"{end.iso()}/{start.iso()}"
    with pytest.raises(InvalidDate, match=f"^{text}: the end is before the start$"):
        HistoricalDate.parse(text)


# -- examples ------------------------------------------------------------------------

WORDS = [
    ("1987-01-27", "27 January 1987"),
    ("1988-04", "April 1988"),
    ("1862", "1862"),
    ("2019-07-30/2019-08-02", "30 July – 2 August 2019"),
    ("2019-07-27/2019-07-29", "27–29 July 2019"),
    ("2003-08/2008-10", "August 2003 – October 2008"),
    ("2019-07/2019-10", "July–October 2019"),
    ("1990/1995", "1990–1995"),
    ("2003-08/2004", "August 2003 – 2004"),
    ("2019-12-30/2020-01-02", "30 December 2019 – 2 January 2020"),
    ("c. 1899", "c. 1899"),
    ("circa 1988-04", "c. April 1988"),
]


@pytest.mark.parametrize(("text", "words"), WORDS)
def test_words_examples(text, words):
    assert HistoricalDate.parse(text).words() == words


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1987-02-30", "1987-02-30: February 1987 has no day 30"),
        ("2019-08-02/2019-07-30", "2019-08-02/2019-07-30: the end is before the start"),
        ("87-1-27", "'87-1-27': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        ("1988-13", "1988-13: there is no month 13"),
        ("0999", "0999: year 999 is not between 1000 and 2999"),
        ("3000-01", "3000-01: year 3000 is not between 1000 and 2999"),
        ("2019/2019-03", "2019/2019-03: the end overlaps the start"),
        ("1990/1990", "1990/1990: the start and the end are the same; write 1990 alone"),
        ("1987-1-27", "'1987-1-27': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        (" 1987", "' 1987': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        ("1990 / 1995", "'1990 / 1995': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        ("1987-01-27T10:00", "'1987-01-27T10:00': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        ("1990/1991/1992", "'1990/1991/1992': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        ("1990/", "'1990/': expected YYYY, YYYY-MM, YYYY-MM-DD or START/END"),
        ("\u0661\u0669\u0668\u0667", "expected YYYY"),  # Arabic-Indic digits
        ("c.1899", "expected YYYY"),
        ("", "expected YYYY"),
    ],
)
def test_invalid_examples(text, message):
    with pytest.raises(InvalidDate) as error:
        HistoricalDate.parse(text)
    assert message in str(error.value)


def test_non_text_is_refused_with_a_hint():
    with pytest.raises(InvalidDate, match="quote it in YAML"):
        HistoricalDate.parse(1862)  # type: ignore[arg-type]


def test_circa_prefixes_and_keyword():
    assert HistoricalDate.parse("c. 1899") == HistoricalDate.parse("1899", circa=True)
    assert HistoricalDate.parse("circa 1899").circa is True
    assert str(HistoricalDate.parse("circa 1899")) == "c. 1899"
    assert HistoricalDate.parse("1899").circa is False


def test_attributes():
    date = HistoricalDate.parse("c. 2003-08/2004")
    assert date.start == DatePoint(2003, 8)
    assert date.end == DatePoint(2004)
    assert date.precision is Precision.MONTH
    assert date.is_range and date.circa
    assert (date.iso(), date.iso_start(), date.iso_end()) == ("2003-08/2004", "2003-08", "2004")
    assert (date.first_day(), date.last_day()) == (dt.date(2003, 8, 1), dt.date(2004, 12, 31))
    single = HistoricalDate.parse("1988-04")
    assert not single.is_range and single.iso_end() is None
    assert single.last_day() == dt.date(1988, 4, 30)


def test_month_day_of_a_range_is_its_first_day():
    assert HistoricalDate.parse("2019-07-30/2019-08-02").month_day() == (7, 30)
    assert HistoricalDate.parse("2003-08/2004").month_day() is None


def test_years_since():
    relations = HistoricalDate.parse("1987-01-27")
    assert relations.years_since(dt.date(2027, 1, 27)) == 40
    assert relations.years_since(dt.date(2027, 1, 26)) == 39
    assert relations.years_since(dt.date(1987, 1, 27)) == 0
    leap = HistoricalDate.parse("2000-02-29")
    assert leap.years_since(dt.date(2001, 2, 28)) == 0
    assert leap.years_since(dt.date(2001, 3, 1)) == 1
    assert HistoricalDate.parse("1988-04").years_since(dt.date(2020, 1, 1)) is None
    with pytest.raises(ValueError, match="before"):
        relations.years_since(dt.date(1986, 1, 1))


def test_sorting_a_timeline():
    texts = ["1988", "1988-04", "1988-04-01", "c. 1988-04-01", "1987-01-27/1987-02", "1862"]
    ordered = sorted(HistoricalDate.parse(t) for t in texts)
    assert [str(d) for d in ordered] == [
        "1862",
        "1987-01-27/1987-02",
        "1988",
        "1988-04-01",
        "c. 1988-04-01",
        "1988-04",
    ]


def test_ranges_with_same_last_day_still_order_consistently():
    a, b = HistoricalDate.parse("2003-08/2004"), HistoricalDate.parse("2003-08/2004-12")
    assert a != b
    assert (a < b) != (b < a)


def test_json_shape_and_refusals():
    date = HistoricalDate.parse("c. 2019-07-30/2019-08-02")
    assert date.to_json() == {
        "date": "2019-07-30",
        "end": "2019-08-02",
        "precision": "day",
        "circa": True,
    }
    assert HistoricalDate.from_json({"date": "1862"}) == HistoricalDate.parse("1862")
    with pytest.raises(InvalidDate, match="disagrees"):
        HistoricalDate.from_json({"date": "1862", "precision": "day"})
    with pytest.raises(InvalidDate, match="'date' key"):
        HistoricalDate.from_json({"end": "1862"})
    with pytest.raises(InvalidDate, match="circa"):
        HistoricalDate.from_json({"date": "1862", "circa": "yes"})


def test_from_date():
    assert HistoricalDate.from_date(dt.date(1987, 1, 27)) == HistoricalDate.parse("1987-01-27")


def test_constructor_validates_too():
    with pytest.raises(InvalidDate, match="February 2023 has no day 29"):
        DatePoint(2023, 2, 29)
    with pytest.raises(InvalidDate, match="the end is before the start"):
        HistoricalDate(DatePoint(2000), DatePoint(1999))


def test_dates_are_immutable_and_hashable():
    date = HistoricalDate.parse("1987-01-27")
    with pytest.raises(AttributeError):
        date.circa = True  # type: ignore[misc]
    assert len({date, HistoricalDate.parse("1987-01-27")}) == 1
