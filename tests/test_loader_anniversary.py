"""A milestone's own anniversary text and its opt-out, through the loader: checked at file:line,
recorded, revised and read back."""

from __future__ import annotations

from pathlib import Path

from chronicle.domain import AnniversaryText, Milestone
from chronicle.loader import check_files, check_sources
from tests.test_posting_support import settings_for

DAY = """\
milestones:
  - id: "relations"
    title: "The United States and Mongolia establish diplomatic relations"
    date: "1987-01-27"
{extra}    summary: "Relations were established."
    tags: ["diplomacy"]
    sources:
      - title: "A source"
        file: "000_389149d6423ab54b.txt"
        quote: "A quote."
"""


def problems(tmp_path: Path, extra: str, *, date: str = "1987-01-27") -> list[str]:
    (tmp_path / "m.yaml").write_text(DAY.format(extra=extra).replace("1987-01-27", date),
                                     encoding="utf-8")
    return [str(p) for p in check_files([tmp_path], base_dir=tmp_path)]


def loaded(tmp_path: Path, extra: str) -> Milestone:
    (tmp_path / "m.yaml").write_text(DAY.format(extra=extra), encoding="utf-8")
    checked = check_sources(settings_for(tmp_path, "sqlite://"), [tmp_path])
    assert checked.problems == []
    (entry,) = checked.milestones
    return entry.milestone


def test_an_own_text_and_an_opt_out_are_read(tmp_path: Path) -> None:
    milestone = loaded(tmp_path, '    anniversary:\n      text: "{{ years }} years ago today."\n'
                                 '      round: "The {{ ordinal }} anniversary."\n'
                                 '    anniversary_posts: false\n')
    assert milestone.anniversary == AnniversaryText(text="{{ years }} years ago today.",
                                                    round="The {{ ordinal }} anniversary.")
    assert not milestone.anniversary_posts and not milestone.posts_yearly
    payload = milestone.to_payload()
    assert Milestone.from_payload(payload) == milestone
    assert payload["anniversary"] == {"text": "{{ years }} years ago today.",
                                      "round": "The {{ ordinal }} anniversary."}


def test_older_payloads_without_the_fields_read_as_posting_with_the_generic_text(
        tmp_path: Path) -> None:
    payload = loaded(tmp_path, "").to_payload()
    del payload["anniversary"], payload["anniversary_posts"]
    milestone = Milestone.from_payload(payload)
    assert milestone.anniversary is None and milestone.posts_yearly


def test_bad_anniversary_fields_are_refused_at_their_line(tmp_path: Path) -> None:
    assert problems(tmp_path, '    anniversary:\n      text: "{{ yeras }} years"\n') == [
        "m.yaml:6: anniversary.text: uses unknown variable(s) yeras "
        "(known: years, ordinal, date, full_date, year, title)"]
    assert problems(tmp_path, '    anniversary:\n      text: "See https://x.mn/a"\n') == [
        "m.yaml:6: anniversary.text: must not contain a link: the post appends "
        "the milestone's link itself"]
    assert problems(tmp_path, '    anniversary:\n      round: "{{ years }}"\n') == [
        "m.yaml:6: anniversary.text: is required but missing"]
    assert problems(tmp_path, '    anniversary: "text"\n') == [
        "m.yaml:5: anniversary: must be a mapping: text, and round if needed"]
    assert problems(tmp_path, '    anniversary_posts: "no"\n') == [
        'm.yaml:5: anniversary_posts: must be true or false, unquoted, not "no"']
    assert problems(tmp_path, '    anniversary:\n      text: "{{ years }} years"\n',
                    date="1987-01") == [
        "m.yaml:5: anniversary: needs a date known to the day: yearly posts are "
        "sent on a day"]
