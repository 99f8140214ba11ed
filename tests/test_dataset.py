"""Checks the curated milestone data set in events/*.yaml against its sources.

Uses only PyYAML and the standard library so it runs before (and independently of)
the chronicle loader: the data set must be sound on its own terms.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.skip_policy import in_ci

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"
DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"

REQUIRED_FIELDS = ("id", "title", "date", "summary", "tags", "sources")
REQUIRED_SOURCE_FIELDS = ("title", "file", "quote")
KNOWN_FIELDS = {
    *REQUIRED_FIELDS,
    "circa",
    "date_caveat",
    "moved_from",
    "anniversary_of",
    "anniversary",
    "anniversary_posts",
    "people",
    "places",
    "notes",
    "reason",
    "retracted",
    "translations",
}
KNOWN_SOURCE_FIELDS = {*REQUIRED_SOURCE_FIELDS, "url"}
TAGS = {
    "diplomacy",
    "visits",
    "agreements",
    "embassies",
    "defense",
    "exercises",
    "peacekeeping",
    "development",
    "education",
    "culture",
    "migration",
    "trade",
    "economy",
    "early-contacts",
    "health",
    "governance",
}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
POINT_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
FILE_RE = re.compile(r"^\d{2}-[a-z0-9-]+\.yaml$")
MIN_MILESTONES = 60
MAX_ID_LENGTH = 80


def seeds_dir() -> Path:
    """The seeds folder sits beside the repo; CHRONICLE_SEEDS_DIR overrides it."""
    override = os.environ.get("CHRONICLE_SEEDS_DIR")
    return Path(override) if override else DEFAULT_SEEDS_DIR


def collapse(text: str) -> str:
    """Quotes are compared with runs of whitespace collapsed, as the brief specifies."""
    return " ".join(text.split())


def load_milestones() -> list[tuple[str, dict[str, Any]]]:
    """Every milestone paired with the name of the file it came from."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(EVENTS_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(document, dict), f"{path.name}: top level must be a mapping"
        milestones = document.get("milestones")
        assert isinstance(milestones, list), f"{path.name}: 'milestones' must be a list"
        found.extend((path.name, item) for item in milestones)
    return found


def parse_point(text: str) -> tuple[dt.date, dt.date]:
    """First and last calendar day covered by a YYYY, YYYY-MM or YYYY-MM-DD string."""
    match = POINT_RE.match(text)
    if match is None:
        raise ValueError(f"not YYYY, YYYY-MM or YYYY-MM-DD: {text!r}")
    year, month, day = match.groups()
    if month is None:
        return dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)
    if day is None:
        last = calendar.monthrange(int(year), int(month))[1]
        return dt.date(int(year), int(month), 1), dt.date(int(year), int(month), last)
    exact = dt.date(int(year), int(month), int(day))
    return exact, exact


def parse_date(text: str) -> tuple[dt.date, dt.date]:
    """First and last day of a milestone date, a single point or a START/END range."""
    if "/" not in text:
        return parse_point(text)
    start_text, end_text = text.split("/", 1)
    start_first, start_last = parse_point(start_text)
    end_first, end_last = parse_point(end_text)
    if end_first <= start_last:
        raise ValueError(f"range must end after its start is over: {text!r}")
    return start_first, end_last


MILESTONES = load_milestones() if EVENTS_DIR.is_dir() else []
IDS = [str(item.get("id", f"{name}#{index}")) for index, (name, item) in enumerate(MILESTONES)]
# Without the seeds the quote checks collapse into one case, so they skip with one line.
SEEDS_PRESENT = seeds_dir().is_dir()
QUOTE_CASES = MILESTONES if SEEDS_PRESENT else [pytest.param("", {}, id="seeds-absent")]


@pytest.fixture(scope="module")
def seeds() -> Path:
    """The source documents; absent, the quote checks skip, except in CI where they fail."""
    folder = seeds_dir()
    if not folder.is_dir():
        problem = (f"seeds folder {folder} is absent, so the {len(MILESTONES)} quote checks "
                   "cannot run (set CHRONICLE_SEEDS_DIR)")
        if in_ci():
            pytest.fail(f"CI requires the source documents: {problem}", pytrace=False)
        pytest.skip(problem)
    return folder


@pytest.fixture(scope="module")
def seed_texts(seeds: Path) -> dict[str, str]:
    return {
        path.name: collapse(path.read_text(encoding="utf-8"))
        for path in seeds.iterdir()
        if path.is_file()
    }


def test_parse_date_accepts_every_precision_and_rejects_bad_dates() -> None:
    assert parse_date("1987") == (dt.date(1987, 1, 1), dt.date(1987, 12, 31))
    assert parse_date("1988-02") == (dt.date(1988, 2, 1), dt.date(1988, 2, 29))
    assert parse_date("1987-01-27") == (dt.date(1987, 1, 27), dt.date(1987, 1, 27))
    assert parse_date("2003-08/2008-10") == (dt.date(2003, 8, 1), dt.date(2008, 10, 31))
    for bad in (
        "1987-02-30",
        "1987-13",
        "87",
        "1987-1-27",
        "2008/2003",
        "2019/2019",
        "2019/2019-08",
        "",
    ):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_data_set_is_large_enough() -> None:
    assert len(MILESTONES) >= MIN_MILESTONES, f"only {len(MILESTONES)} milestones"


def test_event_file_names_follow_the_convention() -> None:
    names = [path.name for path in EVENTS_DIR.glob("*.yaml")]
    assert names, "no events/*.yaml files"
    assert all(FILE_RE.match(name) for name in names), names


def test_ids_are_unique_slugs_across_files() -> None:
    ids = [item.get("id") for _, item in MILESTONES]
    bad = [
        value
        for value in ids
        if not isinstance(value, str) or not SLUG_RE.match(value) or len(value) > MAX_ID_LENGTH
    ]
    assert not bad, f"ids that are not slugs of at most {MAX_ID_LENGTH} chars: {bad}"
    duplicates = sorted({value for value in ids if ids.count(value) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_establishment_of_relations_is_january_27_1987() -> None:
    matches = [
        item for _, item in MILESTONES if item.get("id") == "diplomatic-relations-established"
    ]
    assert len(matches) == 1
    milestone = matches[0]
    assert milestone["date"] == "1987-01-27"
    assert milestone["tags"] == ["diplomacy"]
    expected = "diplomatic relations between the United States and Mongolia"
    assert milestone["anniversary_of"] == expected


@pytest.mark.parametrize(("file_name", "milestone"), MILESTONES, ids=IDS)
def test_milestone_fields(file_name: str, milestone: dict[str, Any]) -> None:
    missing = [field for field in REQUIRED_FIELDS if field not in milestone]
    assert not missing, f"{file_name}: missing {missing}"
    unknown = set(milestone) - KNOWN_FIELDS
    assert not unknown, f"{file_name}: unknown fields {unknown}"
    title = milestone["title"]
    assert isinstance(title, str) and title.strip()
    assert len(title) <= 120 and "\n" not in title and not title.endswith(".")
    assert isinstance(milestone["summary"], str) and milestone["summary"].strip()
    for optional in ("anniversary_of", "notes", "reason", "retracted"):
        if optional in milestone:
            assert isinstance(milestone[optional], str) and milestone[optional].strip()
    if "circa" in milestone:
        assert milestone["circa"] is True
    for listed in ("people", "places"):
        if listed in milestone:
            values = milestone[listed]
            assert isinstance(values, list) and values
            assert all(isinstance(value, str) and value.strip() for value in values)


@pytest.mark.parametrize(("file_name", "milestone"), MILESTONES, ids=IDS)
def test_milestone_date(file_name: str, milestone: dict[str, Any]) -> None:
    date = milestone.get("date")
    assert isinstance(date, str), f"{file_name}: date must be a quoted string, got {date!r}"
    first, last = parse_date(date)
    assert first <= last
    if "anniversary_of" in milestone:
        assert POINT_RE.match(date) and date.count("-") == 2, "anniversaries need a day"


@pytest.mark.parametrize(("file_name", "milestone"), MILESTONES, ids=IDS)
def test_milestone_tags(file_name: str, milestone: dict[str, Any]) -> None:
    tags = milestone.get("tags")
    assert isinstance(tags, list) and 1 <= len(tags) <= 3, f"{file_name}: 1–3 tags"
    assert len(set(tags)) == len(tags)
    unknown = set(tags) - TAGS
    assert not unknown, f"{file_name}: tags outside the vocabulary {unknown}"


@pytest.mark.parametrize(("file_name", "milestone"), MILESTONES, ids=IDS)
def test_milestone_sources(file_name: str, milestone: dict[str, Any]) -> None:
    sources = milestone.get("sources")
    assert isinstance(sources, list) and sources, f"{file_name}: needs at least one source"
    for source in sources:
        missing = [field for field in REQUIRED_SOURCE_FIELDS if not source.get(field)]
        assert not missing, f"{file_name}: source missing {missing}"
        assert set(source) <= KNOWN_SOURCE_FIELDS, f"unknown source fields {set(source)}"


@pytest.mark.parametrize(("file_name", "milestone"), QUOTE_CASES,
                         ids=IDS if SEEDS_PRESENT else None)
def test_milestone_sources_quote_their_files(
    file_name: str, milestone: dict[str, Any], seed_texts: dict[str, str]
) -> None:
    for source in milestone["sources"]:
        assert source["file"] in seed_texts, f"no seed file {source['file']}"
        quote = collapse(str(source["quote"]))
        assert quote in seed_texts[source["file"]], f"not verbatim in {source['file']}: {quote}"
