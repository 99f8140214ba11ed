"""`chronicle show` (the audit trail says what changed: field: old → new, even once retracted)
and `chronicle search`."""

from __future__ import annotations

import json
import re

from chronicle.store import SqlEventStore
from tests.conftest import run_cli
from tests.test_feeds_support import milestone, record_all, retract_one, revise_one


def test_show_lists_each_revision_as_old_to_new(store: SqlEventStore, db_url: str) -> None:
    record_all(store, [milestone(1, title="Relations are established")])
    revise_one(store, milestone(1, title="The United States and Mongolia establish relations",
                                date="1987-01-27"), reason="a fuller title")
    shown = run_cli("--database-url", db_url, "show", "feed-milestone-1")
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    revised = next(i for i, line in enumerate(lines) if "Revised" in line)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z  #\d+  Revised  — a fuller title",
                     lines[revised])
    changes = [line.strip() for line in lines[revised + 1:]]
    assert ("title: Relations are established → The United States and Mongolia establish "
            "relations") in changes
    assert "date: April 1988 → 27 January 1987" in changes

    data = json.loads(run_cli("--database-url", db_url, "show", "feed-milestone-1",
                              "--json").stdout)
    assert [e["type"] for e in data["history"]] == ["MilestoneRecorded", "MilestoneRevised"]
    assert {"field": "title", "old": "Relations are established",
            "new": "The United States and Mongolia establish relations"} in \
        data["history"][1]["changes"]


def test_show_on_a_retracted_milestone_prints_its_history(store: SqlEventStore,
                                                          db_url: str) -> None:
    record_all(store, [milestone(2, title="A visit that did not happen")])
    revise_one(store, milestone(2, title="A visit that may not have happened"), reason="doubt")
    retract_one(store, "feed-milestone-2", reason="no source confirms it")
    shown = run_cli("--database-url", db_url, "show", "feed-milestone-2")
    assert shown.code == 0, shown.stderr
    assert "RETRACTED A visit that may not have happened" in shown.stdout
    assert "no source confirms it" in shown.stdout
    assert ("title: A visit that did not happen → A visit that may not have happened"
            in shown.stdout)
    assert [label for label in ("Recorded", "Revised", "Retracted") if label in shown.stdout] \
        == ["Recorded", "Revised", "Retracted"]
    data = json.loads(run_cli("--database-url", db_url, "show", "feed-milestone-2",
                              "--json").stdout)
    assert data["retracted"]["reason"] == "no source confirms it"
    assert len(data["history"]) == 3


def test_show_of_an_unknown_id_is_one_line_and_exit_2(db_url: str) -> None:
    assert run_cli("--database-url", db_url, "db", "upgrade").code == 0
    shown = run_cli("--database-url", db_url, "show", "no-such-milestone")
    assert shown.code == 2
    assert shown.stderr.strip().splitlines()[-1] == "no-such-milestone: no such milestone"
    assert "Traceback" not in shown.stderr


def test_search_finds_every_word_best_first(store: SqlEventStore, db_url: str) -> None:
    record_all(store, [milestone(1, title="Khaan Quest begins"),
                       milestone(2, title="A quest of another kind"),
                       milestone(3, title="Gobi Wolf")])
    found = run_cli("--database-url", db_url, "search", "khaan quest", "--json")
    assert found.code == 0, found.stderr
    hits = json.loads(found.stdout)
    assert [h["id"] for h in hits] == ["feed-milestone-1"]
    assert hits[0]["match"]["title_html"] == "<mark>Khaan</mark> <mark>Quest</mark> begins"
    text = run_cli("--database-url", db_url, "search", "quest")
    assert text.code == 0
    assert text.stdout.index("feed-milestone-1") >= 0 and "feed-milestone-2" in text.stdout
    assert "Gobi" not in text.stdout
    none = run_cli("--database-url", db_url, "search", "zebra")
    assert none.code == 0 and "no milestone matches 'zebra'" in none.stderr
