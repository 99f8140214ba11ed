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
UNKNOWN_ORIGIN = "(event log)"


@dataclass(frozen=True, slots=True)
class Origin:
    """What the log says of a milestone's last load: the file and line, the last revision's
    reason (None when never revised). `file` is UNKNOWN_ORIGIN when no load appended it."""

    file: str
    line: int
    last_reason: str | None = None


Locator = Callable[[str], Origin]
"""Where a milestone of the log was last loaded from, and its last revision's reason."""


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
            origin = None if state.milestone is None else locate(entry.milestone.id)
            if origin is not None:
                _check_same_file(entry, origin)
            events, entry_changes = _decide(entry, state, origin)
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


def _check_same_file(entry: FileMilestone, origin: Origin) -> None:
    """An id defined in another file is a copied block, not an edit, unless moved on purpose."""
    if origin.file in (UNKNOWN_ORIGIN, entry.file):
        return
    if entry.moved_from == origin.file:
        return
    if entry.moved_from is not None:
        raise _Refused(FileProblem(
            entry.file, entry.line_of("moved_from"), "moved_from",
            f"'{entry.milestone.id}' was last loaded from {origin.file}, not "
            f"{entry.moved_from}: write moved_from: \"{origin.file}\""))
    raise _Refused(FileProblem(
        entry.file, entry.line_of("id"), "id",
        f"already defined in {origin.file}:{origin.line}; to move the milestone here on "
        f"purpose, add moved_from: \"{origin.file}\" (and remove it from {origin.file})"))


def _check_reason(entry: FileMilestone, origin: Origin | None, changed: bool) -> None:
    """A reason belongs to one revision: a leftover one never becomes the next one's."""
    if entry.reason is None or origin is None or origin.last_reason is None:
        return
    milestone_id = entry.milestone.id
    if changed and entry.reason == origin.last_reason:
        raise _Refused(FileProblem(
            entry.file, entry.line_of("reason"), "reason",
            f"\"{entry.reason}\" is the reason of the previous revision of '{milestone_id}'; "
            "replace it with why this change was made"))
    if not changed and entry.reason != origin.last_reason:
        raise _Refused(FileProblem(
            entry.file, entry.line_of("reason"), "reason",
            f"nothing else changed in '{milestone_id}', so this reason would be recorded "
            f"nowhere: change the milestone too, or put back its last revision's reason "
            f"\"{origin.last_reason}\""))


def _decide(entry: FileMilestone, state: MilestoneState, origin: Origin | None
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
        diff = state.milestone.diff(milestone)
        _check_reason(entry, origin, bool(diff))
        reason = entry.reason or f"edited in {entry.file}"
        events = revise(state, milestone, reason)
        if events:
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
        origin = locate(milestone_id)
        problems.append(FileProblem(
            origin.file, origin.line, "id",
            f"'{milestone_id}' is in the log but in none of the files loaded; it is not "
            "retracted silently: keep it in its file and add retracted: \"why\" to withdraw it "
            "(when loading only some of the files on purpose, pass --partial)"))
    return problems
