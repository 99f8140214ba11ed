"""Inferred names: `chronicle check` warns about people and places no quote names, never fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from chronicle.loader import check_files
from chronicle.loader.inferred import inferred_names
from chronicle.loader.sources import given_files, read_files
from tests.conftest import REPO, run_cli

NOWHERE = "postgresql+psycopg://x@127.0.0.1:1/x"
NO_CONFIG = {"CHRONICLE_CONFIG": ""}


def milestone_file(*, people: str = "", places: str = "", notes: str = "",
                   quote: str = "Secretary of State James Baker visited Mongolia in August 1990.",
                   ) -> str:
    """One milestone: line 2 id, 3 title, 4 date, 5 summary, 6 tags, then people, places."""
    lines = [
        "milestones:",
        '  - id: "visit-baker"',
        '    title: "James Baker visits Mongolia"',
        '    date: "1990-08"',
        '    summary: "James Baker visited Mongolia."',
        '    tags: ["visits"]',
        *([f"    people: [{people}]"] if people else []),
        *([f"    places: [{places}]"] if places else []),
        "    sources:",
        '      - title: "Mongolia–United States relations (encyclopedia article)"',
        '        file: "000_389149d6423ab54b.txt"',
        f'        quote: "{quote}"',
        *([f'    notes: "{notes}"'] if notes else []),
    ]
    return "\n".join(lines) + "\n"


def warnings_for(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "one.yaml"
    path.write_text(text, encoding="utf-8")
    files, problems = given_files([path], tmp_path)
    checked = read_files(files, problems)
    assert checked.problems == []
    return [str(warning) for warning in inferred_names(checked.milestones)]


@pytest.mark.parametrize(("people", "places", "quote"), [
    # a role in parentheses is not part of the name, and one word of it is enough
    ('"James Baker (US Secretary of State)"', "", None),
    # a place is its first part; the rest only says where that is
    ("", '"Mongolia, Asia"', None),
    # diacritics and the romanizations of Mongolian ө and ү
    ('"Jambyn Batmönkh (Chairman)"', "", "Chairman Batmunkh received him."),
    ('"Battsereg Batmunkh"', "", "He met Batmönkh."),
    ('"Ukhnaagiin Khürelsükh"', "", "President Khurelsukh Ukhna attended."),
    # punctuation and case do not matter
    ('"Richard L. Williams"', '"Washington, D.C."', "WILLIAMS, in washington."),
])
def test_a_name_the_quote_carries_in_any_usual_spelling_is_not_inferred(
        tmp_path: Path, people: str, places: str, quote: str | None) -> None:
    text = milestone_file(people=people, places=places, **({"quote": quote} if quote else {}))
    assert warnings_for(tmp_path, text) == []


def test_each_name_no_quote_carries_is_a_warning_at_its_field(tmp_path: Path) -> None:
    text = milestone_file(people='"James Baker", "George Shultz (US Secretary of State)"',
                          places='"Ulaanbaatar", "Washington, D.C."',
                          quote="James Baker visited Mongolia in Ulaanbaatar.")
    assert warnings_for(tmp_path, text) == [
        "one.yaml:7: people[1]: 'George Shultz (US Secretary of State)' is named in no quote "
        "of visit-baker: an inferred name (say in its notes where it comes from)",
        "one.yaml:8: places[1]: 'Washington, D.C.' is named in no quote of visit-baker: an "
        "inferred name (say in its notes where it comes from)",
    ]


def test_a_word_must_match_whole_and_initials_match_nothing(tmp_path: Path) -> None:
    text = milestone_file(people='"L. Bak"', places='"Kabul"',
                          quote="Secretary Baker flew to Kabuls via L. airport.")
    assert [w.split(": ")[1] for w in warnings_for(tmp_path, text)] == ["people[0]", "places[0]"]


def test_the_warning_says_when_the_notes_already_mention_the_name(tmp_path: Path) -> None:
    text = milestone_file(places='"Ulaanbaatar"',
                          notes="The place is inferred: the quote names no city; Ulaanbaatar is "
                                "the capital.")
    [warning] = warnings_for(tmp_path, text)
    assert warning.endswith("an inferred name (the notes mention it)")


def test_check_prints_warnings_and_still_succeeds(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(milestone_file(places='"Ulaanbaatar"'), encoding="utf-8")
    result = run_cli("--database-url", NOWHERE, "check", str(tmp_path), cwd=tmp_path,
                     env=NO_CONFIG)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "warning: one.yaml:7: places[0]: 'Ulaanbaatar' is named in no quote of visit-baker: an "
        "inferred name (say in its notes where it comes from)",
        "1 file, 1 milestones: no problems",
    ]
    assert check_files([tmp_path]) == []  # a warning is no problem: the same file loads


def test_every_inferred_name_of_the_data_set_is_explained_in_its_notes() -> None:
    checked = read_files(*given_files([REPO / "events"], REPO))
    assert checked.problems == []
    unexplained = [str(w) for w in inferred_names(checked.milestones)
                   if not w.message.endswith("(the notes mention it)")]
    assert unexplained == []
