"""The loader never silently overwrites: ids copied into another file, and leftover reasons.

Real logs (SQLite and PostgreSQL); each refusal leaves the log exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chronicle.config import Settings
from chronicle.loader import LoadError, load_sources
from chronicle.repository import MilestoneRepository
from chronicle.store import SqlEventStore
from tests.test_loader_load import dump, edit, new_events
from tests.test_loader_validation import variant

TITLE = 'title: "The first Peace Corps volunteers arrive in Mongolia"'


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(base_dir=tmp_path, sources=["events/*.yaml"], database_url=db_url)


@pytest.fixture
def events(tmp_path: Path) -> Path:
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "first.yaml").write_text(variant("first"), encoding="utf-8")
    (folder / "second.yaml").write_text(variant("second"), encoding="utf-8")
    return folder


def refusal(store: SqlEventStore, settings: Settings, *paths: Path) -> str:
    """The one problem a load refuses with; the log is left as it was."""
    before = dump(store)
    with pytest.raises(LoadError) as refused:
        load_sources(store, settings, list(paths) or None, partial=bool(paths))
    assert dump(store) == before
    (problem,) = refused.value.problems
    return str(problem)


def test_a_copied_block_in_another_file_is_refused_not_a_revision(
        store: SqlEventStore, settings: Settings, events: Path, tmp_path: Path) -> None:
    load_sources(store, settings)
    dup = tmp_path / "dup.yaml"
    dup.write_text(variant("first", (TITLE, 'title: "Something else entirely"')), "utf-8")
    assert refusal(store, settings, dup) == (
        "dup.yaml:2: id: already defined in events/first.yaml:2; to move the milestone here on "
        'purpose, add moved_from: "events/first.yaml" (and remove it from events/first.yaml)')
    assert MilestoneRepository(store).get("first").milestone.title.startswith("The first")


def test_an_explicit_move_is_accepted_and_remembered(
        store: SqlEventStore, settings: Settings, events: Path) -> None:
    load_sources(store, settings)
    (events / "first.yaml").unlink()
    moved = events / "moved.yaml"
    moved.write_text(variant("first", ("    tags:", '    moved_from: "events/second.yaml"\n'
                                                    "    tags:")), "utf-8")
    assert refusal(store, settings) == (
        "events/moved.yaml:6: moved_from: 'first' was last loaded from events/first.yaml, not "
        'events/second.yaml: write moved_from: "events/first.yaml"')
    edit(moved, '"events/second.yaml"', '"events/first.yaml"')
    edit(moved, TITLE, 'title: "The first Peace Corps volunteers reach Mongolia"')
    head = store.head()
    report = load_sources(store, settings)
    assert (report.revised, report.unchanged) == (1, 1)
    (event,) = new_events(store, head)
    assert event.metadata["source_file"] == "events/moved.yaml"
    assert load_sources(store, settings).changes == (), "the move is remembered"


def test_a_reason_belongs_to_one_revision(store: SqlEventStore, settings: Settings,
                                          events: Path) -> None:
    file = events / "first.yaml"
    load_sources(store, settings)
    edit(file, '"1991-08"', '"1991-09"')
    edit(file, "    tags:", '    reason: "The source says September"\n    tags:')
    load_sources(store, settings)
    assert load_sources(store, settings).changes == (), "the reason may stay in place"

    edit(file, TITLE, 'title: "The first Peace Corps volunteers reach Mongolia"')
    assert refusal(store, settings) == (
        'events/first.yaml:6: reason: "The source says September" is the reason of the previous '
        "revision of 'first'; replace it with why this change was made")
    edit(file, 'title: "The first Peace Corps volunteers reach Mongolia"', TITLE)

    edit(file, '"The source says September"', '"Typo fixed"')
    assert refusal(store, settings) == (
        "events/first.yaml:6: reason: nothing else changed in 'first', so this reason would be "
        "recorded nowhere: change the milestone too, or put back its last revision's reason "
        '"The source says September"')

    edit(file, TITLE, 'title: "The first Peace Corps volunteers reach Mongolia"')
    head = store.head()
    load_sources(store, settings)
    (event,) = new_events(store, head)
    assert event.payload["reason"] == "Typo fixed"
