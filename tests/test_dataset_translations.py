"""The shipped translations: every milestone in Mongolian, honestly marked, posts that fit.

Read through the chronicle's own loader, so these hold for what the log will record.
"""

from __future__ import annotations

import datetime as dt

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from chronicle.dates import Precision
from chronicle.datewords import anniversary_variables
from chronicle.domain import Milestone
from chronicle.loader import check_files
from chronicle.loader.validate import check_documents
from chronicle.loader.yamlread import Map, read_document
from chronicle.posting.posttext import X_MAX_WEIGHT, weighted_length
from tests.conftest import REPO

EVENTS = REPO / "events"
PATHS = sorted(EVENTS.glob("*.yaml"))
MILESTONES: list[Milestone] = [
    entry.milestone for entry in check_documents(
        [read_document(path, path.name) for path in PATHS]).milestones]
IDS = [m.id for m in MILESTONES]
SANDBOX = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
LINK = "https://chronicle.example.org/milestones/diplomatic-relations-established"


def test_the_shipped_files_load_without_problems() -> None:
    assert check_files([EVENTS]) == []
    assert len(MILESTONES) == 89


@pytest.mark.parametrize("milestone", MILESTONES, ids=IDS)
def test_every_milestone_has_a_mongolian_title_and_summary(milestone: Milestone) -> None:
    mn = milestone.translation("mn")
    assert mn is not None
    assert mn.title.strip() and mn.summary.strip()
    assert mn.title != milestone.title and mn.summary != milestone.summary
    assert any("\u0400" <= char <= "\u04ff" for char in mn.title)   # Cyrillic, not a copy
    assert mn.reviewed is False
    assert "machine-assisted" in mn.translator


@pytest.mark.parametrize("milestone", MILESTONES, ids=IDS)
def test_a_day_precision_milestone_has_a_mongolian_anniversary_that_fits_a_post(
        milestone: Milestone) -> None:
    """Day-precision ranges too: the planner posts on their first day."""
    mn = milestone.translation("mn")
    assert mn is not None
    assert (mn.anniversary is not None) is (milestone.date.precision is Precision.DAY)
    if mn.anniversary is None:
        return
    month, day = milestone.date.month_day() or (1, 1)
    on = dt.date(milestone.date.first_day().year + 40, month, day)
    variables = anniversary_variables(on=on, since=milestone.date, years=40, title=mn.title,
                                      language="mn")
    for template in (mn.anniversary.text, mn.anniversary.round):
        if template is None:
            continue
        text = SANDBOX.from_string(template).render(variables)
        assert "40 жил" in text and variables["date"] in text
        assert "http" not in text
        assert weighted_length(f"{text} {LINK}") <= X_MAX_WEIGHT


def test_each_translations_block_is_the_last_field_of_its_milestone() -> None:
    """So the translators' lines never interleave with the English fields other edits touch."""
    for path in PATHS:
        root = read_document(path, path.name).root
        assert isinstance(root, Map)
        for item in root.entries["milestones"].value.items:  # type: ignore[union-attr]
            assert isinstance(item, Map)
            assert list(item.entries)[-1] == "translations", path.name
