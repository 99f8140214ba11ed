"""The JSON Schema of milestone files agrees with the shipped data, the README and the validator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from chronicle.loader import check_files, json_schema
from chronicle.loader.fileformat import MILESTONE_KEYS, SOURCE_KEYS, TAGS
from tests.conftest import REPO
from tests.test_loader_validation import variant

README = (REPO / "events" / "README.md").read_text(encoding="utf-8")
VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert json_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("path", sorted((REPO / "events").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_file_matches_the_schema(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [error.message for error in VALIDATOR.iter_errors(document)] == []


def _readme_table_fields(heading: str) -> set[str]:
    """Field names of the README table that follows `heading`."""
    section = README[README.index(heading):]
    table = section[:section.index("\n\n", section.index("| ---"))]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE))


def test_fields_and_tags_match_the_readme() -> None:
    assert _readme_table_fields("## Fields") == set(MILESTONE_KEYS)
    assert _readme_table_fields("Each entry of `sources` has") == set(SOURCE_KEYS)
    vocabulary = README[README.index("## Tags"):README.index("## Sources and quotes")]
    assert set(re.findall(r"`([a-z-]+)`", vocabulary)) == set(TAGS)


BAD_FOR_BOTH = [
    ("unknown field", ("    title:", "    titel:")),
    ("tag outside the vocabulary", ('["education"]', '["eduction"]')),
    ("four tags", ('["education"]', '["education", "trade", "economy", "health"]')),
    ("date format", ('"1991-08"', '"1991-8"')),
    ("title with a period", ('in Mongolia"', 'in Mongolia."')),
    ("id not a slug", ('id: "bad"', 'id: "Bad_Id"')),
    ("source without file or url", ('        file: "000_389149d6423ab54b.txt"\n', "")),
    ("circa as text", ('    date: "1991-08"\n', '    date: "1991-08"\n    circa: "yes"\n')),
    ("blank summary", ('summary: "The first Peace Corps volunteers arrived in Mongolia in August '
                       '1991."', 'summary: " "')),
]


@pytest.mark.parametrize(("name", "edit"), BAD_FOR_BOTH, ids=[n for n, _ in BAD_FOR_BOTH])
def test_what_the_validator_refuses_the_schema_refuses(name: str, edit: tuple[str, str],
                                                       tmp_path: Path) -> None:
    text = variant("bad", edit)
    document: Any = yaml.safe_load(text)
    assert list(VALIDATOR.iter_errors(document)), f"the schema accepts: {name}"
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    assert check_files([tmp_path]), f"the validator accepts: {name}"
    good: Any = yaml.safe_load(variant("good"))
    assert list(VALIDATOR.iter_errors(good)) == []
