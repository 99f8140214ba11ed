"""Every kind of bad milestone file, checked in-process: each problem as file:line: field: message.

`CASES` is shared with the database and CLI tests, which check that the same files are refused
whole and leave the log exactly as it was.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest

from chronicle.loader import MAX_FILE_BYTES, FileProblem, check_files
from chronicle.loader.problems import field_name
from chronicle.loader.yamlread import implicit_kind, parse_text

BASE = """\
milestones:
  - id: "peace-corps-arrives"
    title: "The first Peace Corps volunteers arrive in Mongolia"
    date: "1991-08"
    summary: "The first Peace Corps volunteers arrived in Mongolia in August 1991."
    tags: ["education"]
    sources:
      - title: "Mongolia–United States relations (encyclopedia article)"
        file: "000_389149d6423ab54b.txt"
        quote: "The first Peace Corps volunteers arrived in 1991."
"""
# Lines of BASE: 1 milestones, 2 id, 3 title, 4 date, 5 summary, 6 tags, 7 sources,
# 8 source title, 9 source file, 10 quote.


def variant(name: str, *edits: tuple[str, str]) -> str:
    """BASE with its own id (so cases can share a folder) and each (old, new) edit applied."""
    text = BASE.replace('"peace-corps-arrives"', f'"{name}"')
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur once in the base milestone"
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Case:
    """Files to write and the problems expected: (file, line, field, part of the message)."""

    name: str
    files: dict[str, str | bytes]
    expected: list[tuple[str, int, str, str]]


def _case(name: str, text: str | bytes, *expected: tuple[int, str, str]) -> Case:
    file = f"{name}.yaml"
    return Case(name, {file: text}, [(file, line, fld, msg) for line, fld, msg in expected])


_NOT_UTF8 = variant("not-utf8").encode().replace(b"first Peace", b"first P\xe9ace", 1)
_BAD_BYTE_OFFSET = _NOT_UTF8.index(b"\xe9")
_OVERSIZED = variant("oversized") + "# " + "x" * MAX_FILE_BYTES + "\n"

CASES = [
    _case("invalid-yaml", variant("invalid-yaml", ('"1991-08"\n', '"1991-08" x\n')),
          (4, "yaml", "invalid YAML: ")),  # the wording is libyaml's or PyYAML's
    _case("unknown-field", variant("unknown-field", ("    title:", "    titel:")),
          (2, "title", "is required but missing"),
          (3, "titel", "unknown field 'titel' (did you mean 'title'?)")),
    _case("missing-title-and-source", variant(
        "missing-title-and-source",
        ('    title: "The first Peace Corps volunteers arrive in Mongolia"\n', ""),
        (BASE[BASE.index("    sources:"):], "")),
        (2, "title", "is required but missing"), (2, "sources", "is required but missing")),
    _case("impossible-date", variant("impossible-date", ('"1991-08"', '"1987-02-30"')),
          (4, "date", "1987-02-30: February 1987 has no day 30")),
    _case("end-before-start", variant("end-before-start", ('"1991-08"', '"1990/1989"')),
          (4, "date", "1990/1989: the end is before the start")),
    Case("duplicate-id", {"duplicate-a.yaml": variant("duplicate"),
                          "duplicate-b.yaml": variant("duplicate")},
         [("duplicate-b.yaml", 2, "id",
           "'duplicate' is also the id of the milestone at {prefix}duplicate-a.yaml:2")]),
    _case("control-characters", variant(
        "control-characters", ("volunteers arrive in", "volunteers\x07arrive in"),
        ("arrived in 1991.", "arrived\\x01in 1991.")),
        (3, "title", "contains a control character (U+0007 at column 45)"),
        (10, "sources[0].quote", "contains a control character (U+0001")),
    _case("invalid-unicode", variant("invalid-unicode", ("in August 1991.", "in \\uFFFE 1991.")),
          (5, "summary", "contains a noncharacter (U+FFFE")),
    _case("not-utf8", _NOT_UTF8,
          (3, "encoding", f"not UTF-8: byte 0xe9 at offset {_BAD_BYTE_OFFSET} "
           "(line 3, column 24)")),
    _case("oversized", _OVERSIZED,
          (1, "file", f"is {len(_OVERSIZED.encode())} bytes; the limit is 1048576 bytes (1 MiB)")),
    _case("yaml-tags", variant(
        "yaml-tags",
        ('title: "The first Peace Corps volunteers arrive in Mongolia"',
         'title: !!python/object/apply:os.system ["echo pwned"]'),
        ('summary: "', 'summary: !custom "')),
        (3, "title", "YAML tag !!python/object/apply:os.system is not allowed"),
        (5, "summary", "YAML tag !custom is not allowed")),
    _case("anchors-and-aliases", variant(
        "anchors-and-aliases", ('    tags: ["education"]\n',
                                '    tags: ["education"]\n    people: &who ["A. Person"]\n'
                                '    places: *who\n')),
        (7, "people", "YAML anchor &who is not allowed"),
        (8, "places", "YAML alias *who is not allowed")),
    _case("repeated-key", variant(
        "repeated-key", ('    date: "1991-08"\n', '    date: "1991-08"\n    title: "Other"\n')),
        (5, "title", "repeated key 'title' (first at line 3); YAML would silently keep only "
         "the last one")),
    _case("yaml-1-1-surprises", variant(
        "yaml-1-1-surprises",
        ('title: "The first Peace Corps volunteers arrive in Mongolia"', "title: no"),
        ('summary: "The first Peace Corps volunteers arrived in Mongolia in August 1991."',
         "summary: 1:30"),
        ('    tags: ["education"]\n',
         '    tags: ["education"]\n    people: [0x10, 1e3]\n    places: [on]\n    notes: ~\n')),
        (3, "title", 'unquoted no is read as a boolean by YAML readers; if you mean the text, '
         'quote it: "no"'),
        (5, "summary", "unquoted 1:30 is read as a number"),
        (7, "people[0]", "unquoted 0x10 is read as a number"),
        (7, "people[1]", "unquoted 1e3 is read as a number"),
        (8, "places[0]", "unquoted on is read as a boolean"),
        (9, "notes", "unquoted ~ is read as null by YAML readers: leave the field out")),
    _case("circa-yes", variant("circa-yes", ('"1991-08"\n', '"1991-08"\n    circa: yes\n')),
          (5, "circa", "must be true or false, unquoted, not yes")),
    _case("circa-quoted",
          variant("circa-quoted", ('"1991-08"\n', '"1991-08"\n    circa: "true"\n')),
          (5, "circa", 'must be true or false, unquoted, not "true"')),
    _case("nested-source", variant(
        "nested-source", ('        file: "000_389149d6423ab54b.txt"\n', ""),
        ('quote: "The first Peace Corps volunteers arrived in 1991."', 'quote: "  "')),
        (8, "sources[0]", "needs a url or a file"),
        (9, "sources[0].quote", "must not be blank")),
    _case("source-not-a-mapping", variant(
        "source-not-a-mapping", ("      - title:", '      - "just text"\n      - title:'),
        ('quote: "The first Peace Corps volunteers arrived in 1991."', 'quote: "  "')),
        (8, "sources[0]", "must be a mapping: title, file or url, quote"),
        (11, "sources[1].quote", "must not be blank")),
    _case("bad-reason", variant("bad-reason", ("    tags:", '    reason: "fixed\\x02"\n    tags:')),
          (6, "reason", "contains a control character (U+0002 at position 5)")),
    _case("tags", variant("tags", ('["education"]', '["eduction", "trade", "economy", "health"]')),
          (6, "tags", "needs 1 to 3 tags, not 4"),
          (6, "tags[0]", "'eduction' is not a tag of the vocabulary (did you mean 'education'?)")),
    _case("circa-prefix", variant("circa-prefix", ('"1991-08"', '"c. 1899"')),
          (4, "date", "write the date without 'c. ' and add circa: true")),
    _case("not-a-slug", variant("not-a-slug", ('id: "not-a-slug"', 'id: "Peace_Corps"')),
          (2, "id", "'Peace_Corps' is not a slug")),
    _case("title-rules",
          variant("title-rules", ('in Mongolia"\n', "in Mongolia" + "!" * 80 + '."\n')),
          (3, "title", "is 132 characters long; at most 120"),
          (3, "title", "must not end with a period"),
          (3, "title", "has a word of weight 89 (\"Mongolia!!!!!!!!!!!!…\"); at most 40")),
    _case("anniversary",
          variant("anniversary", ("    tags:", '    anniversary_of: "arrivals"\n    tags:')),
          (6, "anniversary_of", "needs a single-day date (YYYY-MM-DD)")),
    _case("mixed-precision", variant("mixed-precision", ('"1991-08"', '"2003-08/2004"')),
          (4, "date", "2003-08/2004: use the same precision on both ends of a range")),
    _case("tab-indented",
          variant("tab-indented", ('    tags: ["education"]', '\ttags: ["education"]')),
          (6, "yaml", "invalid YAML: YAML forbids tabs for indentation; indent with spaces")),
    _case("empty-file", "# nothing here yet\n", (1, "file", "is empty; expected 'milestones:'")),
    _case("not-a-mapping", "- id: x\n",
          (1, "(document)", "the file must be a mapping with one key, 'milestones:'")),
]


def write_case_files(folder: Path, cases: list[Case]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        for name, content in case.files.items():
            target = folder / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="")
    return folder


def unmatched(problems: list[FileProblem], expected: list[tuple[str, int, str, str]],
              prefix: str = "") -> list[str]:
    """Expected problems not found, and found problems not expected; empty when they agree.

    `prefix` is the folder the case files were written to, as problems name them.
    """
    left = list(problems)
    missing = []
    for file, line, fld, fragment in expected:
        message = fragment.replace("{prefix}", prefix)
        match = next((p for p in left if (p.file, p.line, p.field) == (prefix + file, line, fld)
                      and message in p.message), None)
        if match is None:
            missing.append(f"expected {prefix}{file}:{line}: {fld}: {message}")
        else:
            left.remove(match)
    return missing + [f"unexpected {p}" for p in left]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_file_is_reported_at_its_line(case: Case, tmp_path: Path) -> None:
    folder = write_case_files(tmp_path / "cases", [case])
    problems = check_files([folder], base_dir=folder)
    assert unmatched(problems, case.expected) == []


def test_every_problem_of_every_file_is_listed_in_one_pass(tmp_path: Path) -> None:
    folder = write_case_files(tmp_path / "cases", CASES)
    problems = check_files([folder], base_dir=folder)
    assert unmatched(problems, [e for case in CASES for e in case.expected]) == []
    files = [p.file for p in problems]
    assert files == sorted(files), "problems are grouped by file, in file order"


def test_a_lone_surrogate_escape_is_refused(tmp_path: Path) -> None:
    """libyaml refuses the escape itself, PyYAML's own parser lets the domain refuse the text."""
    (tmp_path / "s.yaml").write_text(variant("s", ("in August", "in \\ud800")), encoding="utf-8")
    (problem,) = check_files([tmp_path], base_dir=tmp_path)
    assert problem.line == 5
    assert ("invalid Unicode character escape" in problem.message
            or "contains a lone surrogate (U+D800" in problem.message)


def test_shipped_data_set_has_no_problems() -> None:
    assert check_files([Path("events")]) == []


def test_the_base_milestone_is_valid(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    assert check_files([tmp_path]) == []


@pytest.mark.parametrize("edit", [
    ('date: "1991-08"', "date: 1991-08-02"),  # an unquoted date is kept as the text it is
    ('date: "1991-08"', "date: 1991"),
    ('title: "The first Peace Corps volunteers arrive in Mongolia"',
     "title: The first Peace Corps volunteers arrive in Mongolia"),
    ('date: "1991-08"', 'date: "1899"\n    circa: true'),
    ('date: "1991-08"', 'date: "1991-08"\n    circa: false'),
    ('summary: "', "summary: >-\n      "),
], ids=["unquoted-day", "unquoted-year", "plain-title", "circa-true", "circa-false", "folded"])
def test_unambiguous_unquoted_values_are_accepted(edit: tuple[str, str], tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(variant("ok", edit), encoding="utf-8")
    assert check_files([tmp_path]) == []


def test_alias_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\nmilestones: []\n", "utf-8")
    tracemalloc.start()
    problems = check_files([tmp_path], base_dir=tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 1024 * 1024, f"{peak:,} bytes: 9**10 items were expanded"
    shown = [str(p) for p in problems]
    assert shown[0] == "bomb.yaml:1: a0: YAML anchor &a0 is not allowed; write values out in full"
    assert "bomb.yaml:2: a1[0]: YAML alias *a0 is not allowed; write the value out in full" in shown
    assert len(shown) == 10 + 9 * 9, "every anchor and every alias is named, once"


def test_libyaml_and_pure_python_parsers_read_the_same(tmp_path: Path) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(Path("events").glob("*.yaml"))]
    texts += [text for case in CASES for text in case.files.values()
              if isinstance(text, str) and case.name not in ("invalid-yaml", "oversized")]
    for text in texts:
        fast, pure = parse_text(text, "f.yaml"), parse_text(text, "f.yaml", pure_python=True)
        assert (fast.root, fast.problems, fast.refused) == (pure.root, pure.problems, pure.refused)


def test_deep_nesting_is_refused_not_a_stack_overflow(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("milestones: " + "[" * 100_000 + "]" * 100_000, "utf-8")
    assert [str(p) for p in check_files([tmp_path], base_dir=tmp_path)] == [
        "deep.yaml:1: yaml: invalid YAML: values nested more than 20 levels deep"]


@pytest.mark.parametrize("pure_python", [False, True])
def test_nesting_refusal_is_ours_whatever_the_parser_says(pure_python: bool) -> None:
    """libyaml stops at 1000 levels with its own words; PyYAML would overflow the stack."""
    for depth in (21, 1001, 50_000):
        text = "milestones:\n  - tags: " + "[" * depth + "]" * depth + "\n"
        assert [str(p) for p in parse_text(text, "f.yaml", pure_python=pure_python).problems
                ] == ["f.yaml:2: yaml: invalid YAML: values nested more than 20 levels deep"]
    quoted = 'milestones:\n  - title: "' + "[" * 30 + '" # {{{{\n    bad: "x" y\n'
    (problem,) = parse_text(quoted, "f.yaml", pure_python=pure_python).problems
    assert problem.line == 3 and "nested" not in problem.message, "quoted text is not nesting"


def test_problem_format_and_missing_paths(tmp_path: Path) -> None:
    problems = check_files([tmp_path / "nowhere.yaml", tmp_path])
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'nowhere.yaml'}: file: no such file or directory",
        f"{tmp_path}: file: the directory holds no .yaml files",
    ]
    assert [str(p) for p in check_files([])] == ["(no paths): file: no files given"]


def test_field_names_are_relative_to_their_milestone() -> None:
    assert field_name(("milestones", 3, "sources", 0, "quote")) == "sources[0].quote"
    assert field_name(("milestones", 3)) == "milestones[3]"
    assert field_name(("milestones",)) == "milestones"
    assert field_name(()) == "(document)"


@pytest.mark.parametrize(("text", "kind"), [
    ("no", "a boolean"), ("On", "a boolean"), ("y", "a boolean"), ("1:30", "a number"),
    ("0x10", "a number"), ("1e3", "a number"), ("0o17", "a number"), ("~", "null (no value)"),
    ("null", "null (no value)"), ("2019-07-30", "a date"), ("Ulaanbaatar", None),
    ("1990/1995", None),
])
def test_implicit_kinds_of_unquoted_text(text: str, kind: str | None) -> None:
    assert implicit_kind(text) == kind
