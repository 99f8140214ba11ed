"""Bounded work for any input, and input that cannot mislead: floods, loops, odd names, quotes.

Each test feeds what an attacker or a careless edit would, through the same functions `check`
and `load` use (`check_sources` reads the configured sources, quotes included).
"""

from __future__ import annotations

import os
import sys
import tracemalloc
from pathlib import Path

import pytest

from chronicle.config import Settings
from chronicle.loader import FileProblem, check_files, check_sources, format_problems
from chronicle.loader.problems import MAX_LISTED, STOP_AFTER
from chronicle.loader.yamlread import MAX_FILE_BYTES
from tests.test_loader_validation import BASE, variant

SEED = "000_389149d6423ab54b.txt"
SEED_TEXT = ("Relations began in 1987.\nThe first   Peace Corps\nvolunteers arrived in 1991. "
             "More followed.\n")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def settings(tmp_path: Path, *, seeds: bool = True) -> Settings:
    if seeds:
        write(tmp_path / "seeds", SEED, SEED_TEXT)
    return Settings(base_dir=tmp_path, sources=["events/**/*.yaml"], seeds_dir=Path("seeds"))


def shown(settings: Settings) -> list[str]:
    return [str(p) for p in check_sources(settings).problems]


def test_a_flood_of_empty_milestones_is_quick_small_and_listed_briefly(tmp_path: Path) -> None:
    flood = "milestones:\n" + "- {}\n" * 30_000  # 6 problems each: 180,000 without a stop
    write(tmp_path, "flood.yaml", flood)
    # Quick by construction: checking stops after STOP_AFTER problems (no wall-clock timer
    # here: speed is the bench's business); the memory peak is deterministic.
    tracemalloc.start()
    problems = check_files([tmp_path], base_dir=tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(problems) == STOP_AFTER
    assert peak < 200 * 1024 * 1024, peak
    lines = format_problems(problems).splitlines()
    assert len(lines) == MAX_LISTED + 2
    assert lines[-2] == f"… and {STOP_AFTER - MAX_LISTED} more"
    assert lines[-1] == (f"{STOP_AFTER} problems or more (checking stopped there) in 1 file; "
                         "nothing was loaded")


def test_a_megabyte_of_empty_milestones_is_refused_as_a_whole(tmp_path: Path) -> None:
    write(tmp_path, "flood.yaml", "milestones:\n" + "- {}\n" * ((MAX_FILE_BYTES - 20) // 5))
    (problem,) = check_files([tmp_path], base_dir=tmp_path)
    assert problem.field == "file" and "more than 50000 values; split it" in problem.message


def test_a_short_list_of_problems_is_listed_in_full() -> None:
    problems = [FileProblem("a.yaml", n, "title", "x") for n in range(1, MAX_LISTED + 1)]
    text = format_problems(problems)
    assert "more" not in text and text.endswith(f"{MAX_LISTED} problems in 1 file; "
                                                "nothing was loaded")


def test_recursive_globs_do_not_follow_symlinked_folders(tmp_path: Path) -> None:
    events = tmp_path / "events"
    write(events / "era", "a.yaml", variant("in-a-subfolder"))
    (events / "era" / "loop").symlink_to(events, target_is_directory=True)
    (events / "self").symlink_to(".", target_is_directory=True)
    checked = check_sources(settings(tmp_path))  # terminates (pytest-timeout guards a loop)
    assert checked.files == ["events/era/a.yaml"]
    assert [m.milestone.id for m in checked.milestones] == ["in-a-subfolder"]


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse such names")
def test_a_file_name_that_is_not_utf8_is_refused_by_check_and_load(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    (events / os.fsdecode(b"caf\xe9.yaml")).write_text(variant("latin-1-name"), "utf-8")
    expected = ["events/caf\ufffd.yaml: file: the file name is not UTF-8; rename the file"]
    assert shown(settings(tmp_path)) == expected
    assert [str(p) for p in check_files([events], base_dir=tmp_path)] == expected


def test_a_source_file_must_be_a_plain_name_in_the_sources_folder(tmp_path: Path) -> None:
    traversal = variant("traversal", (f'file: "{SEED}"', 'file: "../../../../etc/passwd"'))
    write(tmp_path / "events", "a.yaml", traversal)
    assert shown(settings(tmp_path)) == [
        "events/a.yaml:9: sources[0].file: '../../../../etc/passwd' must be the name of a file "
        "in the sources folder (seeds_dir), not a path"]


def test_every_quote_is_looked_up_in_its_source_whitespace_collapsed(tmp_path: Path) -> None:
    invented = variant("invented", ("The first Peace Corps volunteers arrived in 1991.",
                                    "An invented sentence."))
    missing = variant("missing", (SEED, "999_missing.txt"))
    write(tmp_path / "events", "a.yaml", BASE + invented.removeprefix("milestones:\n")
          + missing.removeprefix("milestones:\n"))
    problems = shown(settings(tmp_path))
    assert problems == [
        f"events/a.yaml:19: sources[0].quote: is not in {SEED}: copy it character for "
        "character (only runs of whitespace may differ)",
        f"events/a.yaml:27: sources[0].file: no file '999_missing.txt' in the sources folder "
        f"{(tmp_path / 'seeds').resolve()}"], "BASE's quote is found across a line break"


def test_quotes_are_not_checked_when_the_sources_folder_is_absent(tmp_path: Path) -> None:
    write(tmp_path / "events", "a.yaml", variant("no-seeds", ("arrived in 1991.", "invented.")))
    assert shown(settings(tmp_path, seeds=False)) == []


@pytest.mark.parametrize(("char", "kind"), [
    ("\u202e", "a bidirectional control character"), ("\u2066", "a bidirectional control"),
    ("\u200b", "an invisible zero-width character"), ("\u200d", "an invisible zero-width"),
    ("\u2060", "an invisible zero-width"), ("\ufeff", "an invisible zero-width"),
])
def test_bidi_controls_and_zero_width_characters_are_refused_at_their_line(
        char: str, kind: str, tmp_path: Path) -> None:
    text = variant("invisible", ("arrive in Mongolia", f"arrive in {char}Mongolia"),
                   ("arrived in Mongolia", f"arrived in{char} Mongolia"),
                   ('tags: ["education"]', f'tags: ["education"]\n    people: ["A{char} B"]'))
    write(tmp_path, "a.yaml", text)
    problems = [(p.line, p.field, p.message) for p in check_files([tmp_path], base_dir=tmp_path)]
    code = f"U+{ord(char):04X}"
    assert problems == [
        (3, "title", f"contains {kind}" + problems[0][2].split(kind, 1)[1]),
        (5, "summary", f"contains {kind}" + problems[1][2].split(kind, 1)[1]),
        (7, "people[0]", f"contains {kind}" + problems[2][2].split(kind, 1)[1]),
    ]
    assert all(code in message and message.endswith("remove it") for _, _, message in problems)


def test_joiners_inside_an_emoji_sequence_or_a_word_are_text(tmp_path: Path) -> None:
    text = variant("joined", ("arrive in Mongolia", "arrive in Mongolia 👩\u200d👩\u200d👧"),
                   ("arrived in Mongolia", "arrived in Mong\u200dolia"))
    write(tmp_path, "a.yaml", text)
    assert check_files([tmp_path], base_dir=tmp_path) == []


def test_anniversary_of_and_title_words_leave_room_for_every_channel(tmp_path: Path) -> None:
    day = ('"1991-08"', '"1991-08-01"')
    write(tmp_path, "a.yaml", variant(
        "too-long", day, ("    tags:", f'    anniversary_of: "{"a" * 101}"\n    tags:')))
    write(tmp_path, "b.yaml", variant(
        "wide", day, ("    tags:", f'    anniversary_of: "{"蒙" * 51}"\n    tags:')))
    write(tmp_path, "c.yaml", variant(
        "long-word", ('volunteers arrive in Mongolia"',
                      'volunteers-and-their-first-long-years-of-service arrive in Mongolia"')))
    write(tmp_path, "d.yaml", variant(
        "fits", day, ("    tags:", f'    anniversary_of: "{"a b " * 25}"\n    tags:'),
        ('volunteers arrive in Mongolia"',
         'volunteers-and-their-first-long-year arrive in Mongolia"')))
    assert [str(p) for p in check_files([tmp_path], base_dir=tmp_path)] == [
        "a.yaml:6: anniversary_of: weighs 101 in a post (X counts 2 for wide characters); at "
        "most 100, or no channel could ever send its anniversary post",
        "b.yaml:6: anniversary_of: weighs 102 in a post (X counts 2 for wide characters); at "
        "most 100, or no channel could ever send its anniversary post",
        'c.yaml:3: title: has a word of weight 48 ("volunteers-and-their…"); at most 40, so '
        "that a post can cut the title after a word",
    ]
