"""Loading milestone files into a real log (SQLite and PostgreSQL): what is appended, what not."""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from chronicle import __version__
from chronicle.config import Settings
from chronicle.loader import LoadError, load_sources
from chronicle.repository import MilestoneRepository
from chronicle.store import SqlEventStore
from tests.conftest import REPO
from tests.test_loader_validation import CASES, unmatched, variant, write_case_files

EVENTS = REPO / "events"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(base_dir=tmp_path, sources=["events/*.yaml"], database_url=db_url)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the shipped data set, at the configured sources, free to edit."""
    target = tmp_path / "events"
    target.mkdir()
    for path in EVENTS.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Two milestones, one file each, at the configured sources."""
    target = tmp_path / "events"
    target.mkdir()
    for name in ("first", "second"):
        (target / f"{name}.yaml").write_text(variant(name), encoding="utf-8")
    return target


def dump(store: SqlEventStore) -> tuple[int, list[tuple[Any, ...]]]:
    """The whole log as it is: head and every row's content."""
    rows = [(e.position, e.stream_id, e.stream_version, e.type, e.payload, e.metadata, e.hash)
            for e in store.iter_all()]
    return store.head(), rows


def file_milestones(folder: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Milestones by id as plain PyYAML reads them (file name, fields): an independent count."""
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["milestones"]:
            found[item["id"]] = (path.name, item)
    return found


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def add_field(path: Path, milestone_id: str, line: str) -> None:
    """Add a field line right after a milestone's id line."""
    edit(path, f"  - id: {milestone_id}\n", f"  - id: {milestone_id}\n    {line}\n")


def drop_milestone(path: Path, milestone_id: str) -> int:
    """Remove a milestone's block from its file; returns the line it started on."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(f"  - id: {milestone_id}\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - id: ")),
               len(lines))
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")
    return start + 1


def new_events(store: SqlEventStore, after: int) -> list[Any]:
    return list(store.iter_all(after=after))


def test_shipped_data_set_loads_on_a_fresh_database_once(store: SqlEventStore, settings: Settings,
                                                    data: Path) -> None:
    expected = file_milestones(data)
    report = load_sources(store, settings)
    assert (report.recorded, report.revised, report.retracted) == (len(expected), 0, 0)
    states = MilestoneRepository(store).all_states()
    assert set(states) == set(expected)
    for milestone_id, (_file, fields) in expected.items():
        state = states[milestone_id]
        assert state.milestone is not None and state.retracted is None and state.version == 1
        assert state.milestone.validate() == []
        assert state.milestone.title == fields["title"]
        assert state.milestone.date.iso() == fields["date"]
        assert state.milestone.date.circa is fields.get("circa", False)
        assert [s.quote for s in state.milestone.sources] == [s["quote"] for s in fields["sources"]]
    events = list(store.iter_all())
    assert len(events) == len(expected)
    assert {e.type for e in events} == {"MilestoneRecorded"}
    first = events[0]
    assert first.metadata["loader_run"] == report.run_id
    assert first.metadata["user"] == getpass.getuser()
    assert first.metadata["chronicle_version"] == __version__
    for event in events:
        file, line = event.metadata["source_file"], event.metadata["source_line"]
        text = (settings.base_dir / file).read_text(encoding="utf-8").splitlines()
        assert text[line - 1] == f"  - id: {event.payload['id']}", "metadata names the id line"
    before = dump(store)
    again = load_sources(store, settings)
    assert again.changes == () and again.positions == () and again.unchanged == len(expected)
    assert dump(store) == before, "loading twice appends nothing"


def test_an_edited_title_appends_one_revision_with_the_files_reason(
        store: SqlEventStore, settings: Settings, data: Path) -> None:
    load_sources(store, settings)
    head = store.head()
    file = data / "02-establishment.yaml"
    old = "The United States and Mongolia establish diplomatic relations"
    edit(file, f'title: "{old}"', 'title: "Mongolia and the United States establish relations"')
    add_field(file, "diplomatic-relations-established", 'reason: "A shorter title"')
    report = load_sources(store, settings)
    (event,) = new_events(store, head)
    assert event.type == "MilestoneRevised"
    assert event.payload == {"milestone_id": "diplomatic-relations-established",
                             "changes": {"title": "Mongolia and the United States establish "
                                         "relations"}, "reason": "A shorter title"}
    assert event.metadata["source_file"] == "events/02-establishment.yaml"
    assert (report.revised, report.recorded, report.retracted) == (1, 0, 0)
    assert dict(report.changes[0].diff) == {
        "title": (old, "Mongolia and the United States establish relations")}


def test_an_edit_without_reason_says_where_it_was_made(
        store: SqlEventStore, settings: Settings, small: Path) -> None:
    load_sources(store, settings)
    head = store.head()
    edit(small / "first.yaml", '"1991-08"', '"1991"')
    load_sources(store, settings)
    (event,) = new_events(store, head)
    assert event.payload["reason"] == "edited in events/first.yaml"
    assert event.payload["changes"] == {
        "date": {"date": "1991", "end": None, "precision": "year", "circa": False}}


def test_retracted_appends_one_retraction(store: SqlEventStore, settings: Settings,
                                          small: Path) -> None:
    load_sources(store, settings)
    head = store.head()
    edit(small / "first.yaml", "    tags:", '    retracted: "Test retraction"\n    tags:')
    report = load_sources(store, settings)
    (event,) = new_events(store, head)
    assert event.type == "MilestoneRetracted"
    assert event.payload == {"milestone_id": "first", "reason": "Test retraction"}
    assert event.metadata["source_file"] == "events/first.yaml"
    assert report.retracted == 1 and report.revised == 0 and report.unchanged == 1
    assert MilestoneRepository(store).get("first").retracted == "Test retraction"
    after = dump(store)
    assert load_sources(store, settings).changes == ()
    assert dump(store) == after, "a retraction kept in the file is not appended again"


def test_a_new_milestone_already_retracted_is_recorded_then_retracted(
        store: SqlEventStore, settings: Settings, small: Path) -> None:
    edit(small / "first.yaml", "    tags:", '    retracted: "Entered by mistake"\n    tags:')
    load_sources(store, settings)
    stream = store.read_stream("milestone-first")
    assert [e.type for e in stream] == ["MilestoneRecorded", "MilestoneRetracted"]
    assert MilestoneRepository(store).get("first").retracted == "Entered by mistake"


def test_a_milestone_removed_from_the_files_is_refused(store: SqlEventStore, settings: Settings,
                                                       small: Path) -> None:
    load_sources(store, settings)
    before = dump(store)
    (small / "second.yaml").write_text("milestones: []\n", encoding="utf-8")
    edit(small / "first.yaml", 'title: "The first', 'title: "The very first')
    with pytest.raises(LoadError) as refused:
        load_sources(store, settings)
    (problem,) = refused.value.problems
    assert str(problem) == (
        "events/second.yaml:2: id: 'second' is in the log but in none of the files loaded; it is "
        "not retracted silently: keep it in its file and add retracted: \"why\" to withdraw it "
        "(when loading only some of the files on purpose, pass --partial)")
    assert dump(store) == before, "refused whole: not even the unrelated revision is written"
    partial = load_sources(store, settings, partial=True)
    assert (partial.revised, partial.retracted) == (1, 0)
    assert MilestoneRepository(store).get("second").retracted is None


def test_explicit_paths_are_the_whole_data_set_unless_partial(
        store: SqlEventStore, settings: Settings, small: Path) -> None:
    load_sources(store, settings)
    before = dump(store)
    with pytest.raises(LoadError) as refused:
        load_sources(store, settings, [small / "first.yaml"])
    assert [(p.file, p.message[:40]) for p in refused.value.problems] == [
        ("events/second.yaml", "'second' is in the log but in none of th")]
    assert dump(store) == before
    assert load_sources(store, settings, [small / "first.yaml"], partial=True).unchanged == 1


def test_a_retracted_milestone_cannot_be_revised_restored_or_re_retracted(
        store: SqlEventStore, settings: Settings, small: Path) -> None:
    file = small / "first.yaml"
    edit(file, "    tags:", '    retracted: "Entered by mistake"\n    tags:')
    load_sources(store, settings)
    before = dump(store)
    attempts = [
        ('"1991-08"', '"1991-09"', 4, "date", "'first' was retracted (Entered by mistake); a "
         "retracted milestone cannot be revised (changed: date): undo the edit"),
        ('    retracted: "Entered by mistake"\n', "", 2, "retracted",
         "'first' was retracted (Entered by mistake) and cannot be restored: put back "
         "retracted: \"Entered by mistake\""),
        ('"Entered by mistake"', '"Another reason"', 6, "retracted",
         "'first' was retracted with the reason \"Entered by mistake\"; a retraction cannot be "
         "changed"),
    ]
    original = file.read_text(encoding="utf-8")
    for old, new, line, field, message in attempts:
        file.write_text(original.replace(old, new), encoding="utf-8")
        with pytest.raises(LoadError) as refused:
            load_sources(store, settings)
        (problem,) = refused.value.problems
        assert (problem.file, problem.line, problem.field) == ("events/first.yaml", line, field)
        assert problem.message.startswith(message)
        assert dump(store) == before


def test_dry_run_writes_nothing_and_reports_the_same(store: SqlEventStore, settings: Settings,
                                                     small: Path) -> None:
    dry = load_sources(store, settings, dry_run=True)
    assert dry.recorded == 2 and dry.dry_run and dry.positions == ()
    assert dump(store) == (0, [])
    load_sources(store, settings)
    before = dump(store)
    edit(small / "second.yaml", 'title: "The first', 'title: "The very first')
    dry = load_sources(store, settings, dry_run=True)
    assert [(c.kind, c.milestone_id, tuple(c.diff)) for c in dry.changes] == [
        ("revised", "second", ("title",))]
    assert "dry run: nothing written" in dry.summary()
    assert dump(store) == before


def test_every_bad_input_is_refused_whole_leaving_the_log_as_it_was(
        store: SqlEventStore, settings: Settings, small: Path, tmp_path: Path) -> None:
    load_sources(store, settings)
    before = dump(store)
    edit(small / "first.yaml", 'title: "The first', 'title: "The very first')
    (small / "third.yaml").write_text(variant("third"), encoding="utf-8")
    for index, case in enumerate(CASES):
        folder = write_case_files(tmp_path / f"cases-{index}", [case])
        with pytest.raises(LoadError) as refused:
            load_sources(store, settings, [small, folder])
        assert unmatched(refused.value.problems, case.expected, f"{folder.name}/") == [], case.name
        assert dump(store) == before, case.name
    assert load_sources(store, settings).revised == 1, "the good files alone do load"
