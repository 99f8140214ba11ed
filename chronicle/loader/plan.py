"""Deciding what a load appends: the files compared with the log, milestone by milestone.

Pure: takes the log's folded states, returns the decisions to save (or every reason to refuse).
The domain commands (record, revise, retract) make the events, so their rules hold here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chronicle.domain import (
    DomainError,
    MilestoneEvent,
    MilestoneState,
    fold,
    record,
    retract,
    revise,
)
from chronicle.loader.problems import FileProblem, LoadError
from chronicle.loader.validate import FileMilestone
from chronicle.repository import Decision

ChangeKind = Literal["recorded", "revised", "retracted"]
Locator = Callable[[str], tuple[str, int]]
"""Where a milestone of the log was last loaded from: (file, line)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One event a load appends (or would append), for the summary and the -v diff."""

    kind: ChangeKind
    milestone_id: str
    file: str
    line: int
    reason: str | None = None
    diff: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    decisions: list[Decision]
    changes: list[Change]
    unchanged: int


def plan_load(entries: Sequence[FileMilestone], states: Mapping[str, MilestoneState], *,
              complete: bool, locate: Locator) -> Plan:
    """The decisions that bring the log in line with the files; LoadError lists every refusal.

    `complete` says the files are the whole data set, so a live milestone of the log that no
    file holds is refused rather than silently kept (or retracted).
    """
    decisions, changes, problems = [], [], []
    unchanged = 0
    for entry in entries:
        state = states.get(entry.milestone.id, MilestoneState.initial())
        try:
            events, entry_changes = _decide(entry, state)
        except _Refused as refusal:
            problems.append(refusal.problem)
            continue
        except DomainError as error:
            problems.append(FileProblem(entry.file, entry.line, "id", str(error)))
            continue
        if events:
            metadata = {"source_file": entry.file, "source_line": entry.line}
            decisions.append(Decision(state, events, metadata))
            changes += entry_changes
        else:
            unchanged += 1
    if complete:
        problems += _missing(entries, states, locate)
    if problems:
        raise LoadError(problems)
    return Plan(decisions, changes, unchanged)


class _Refused(Exception):
    def __init__(self, problem: FileProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _decide(entry: FileMilestone, state: MilestoneState
            ) -> tuple[list[MilestoneEvent], list[Change]]:
    if state.retracted is not None:
        _check_still_retracted(entry, state, state.retracted)
        return [], []
    milestone = entry.milestone
    where: dict[str, Any] = {"milestone_id": milestone.id, "file": entry.file, "line": entry.line}
    changes = []
    if state.milestone is None:
        events = record(state, milestone)
        changes.append(Change("recorded", **where))
    else:
        reason = entry.reason or f"edited in {entry.file}"
        events = revise(state, milestone, reason)
        if events:
            diff = state.milestone.diff(milestone)
            changes.append(Change("revised", **where, reason=reason, diff=diff))
    if entry.retracted is not None:
        events += retract(fold(events, state), entry.retracted)
        changes.append(Change("retracted", **where, reason=entry.retracted))
    return events, changes


def _check_still_retracted(entry: FileMilestone, state: MilestoneState, reason: str) -> None:
    """A retraction is final: the file must keep it, unchanged, and not edit the milestone."""
    milestone_id = entry.milestone.id
    if entry.retracted is None:
        raise _Refused(FileProblem(
            entry.file, entry.line, "retracted",
            f"'{milestone_id}' was retracted ({reason}) and cannot be restored: put back "
            f"retracted: \"{reason}\" (to publish it again, add it under a new id)"))
    assert state.milestone is not None
    diff = state.milestone.diff(entry.milestone)
    if diff:
        first = next(iter(diff))
        raise _Refused(FileProblem(
            entry.file, entry.line_of(first), first,
            f"'{milestone_id}' was retracted ({reason}); a retracted milestone cannot be "
            f"revised (changed: {', '.join(diff)}): undo the edit, or add a new milestone "
            "under a new id"))
    if entry.retracted != reason:
        raise _Refused(FileProblem(
            entry.file, entry.line_of("retracted"), "retracted",
            f"'{milestone_id}' was retracted with the reason \"{reason}\"; a retraction cannot "
            "be changed: put that reason back"))


def _missing(entries: Sequence[FileMilestone], states: Mapping[str, MilestoneState],
             locate: Locator) -> list[FileProblem]:
    in_files = {entry.milestone.id for entry in entries}
    problems = []
    for milestone_id, state in states.items():
        if state.milestone is None or state.retracted is not None or milestone_id in in_files:
            continue
        file, line = locate(milestone_id)
        problems.append(FileProblem(
            file, line, "id",
            f"'{milestone_id}' is in the log but in none of the files loaded; it is not "
            "retracted silently: keep it in its file and add retracted: \"why\" to withdraw it "
            "(when loading only some of the files on purpose, pass --partial)"))
    return problems
