"""`load_sources`: read, check, plan against the log, and append it all in one transaction.

Bad files are refused before the log is even read, so a broken database never hides a
broken file; nothing is written unless every file and every change is acceptable.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chronicle import __version__
from chronicle.config import Settings
from chronicle.domain import MilestoneRevised, stream_id
from chronicle.loader.plan import UNKNOWN_ORIGIN, Change, Origin, plan_load
from chronicle.loader.problems import LoadError
from chronicle.loader.sources import find_and_read
from chronicle.repository import MilestoneRepository
from chronicle.store import EventStore


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load appended (or, on a dry run, would append)."""

    run_id: str
    files: tuple[str, ...]
    changes: tuple[Change, ...]
    unchanged: int
    dry_run: bool
    positions: tuple[int, ...]

    def count(self, kind: str) -> int:
        return sum(1 for change in self.changes if change.kind == kind)

    @property
    def recorded(self) -> int:
        return self.count("recorded")

    @property
    def revised(self) -> int:
        return self.count("revised")

    @property
    def retracted(self) -> int:
        return self.count("retracted")

    def summary(self) -> str:
        files = f"{len(self.files)} file{'' if len(self.files) == 1 else 's'}"
        text = (f"{files}: {self.recorded} new, {self.revised} revised, {self.retracted} "
                f"retracted, {self.unchanged} unchanged")
        if self.dry_run:
            return f"{text} (dry run: nothing written)"
        return f"{text}; {len(self.positions)} events appended"


def load_sources(store: EventStore, settings: Settings,
                 paths: Sequence[Path | str] | None = None, *, dry_run: bool = False,
                 partial: bool = False) -> LoadReport:
    """Load the configured sources (or `paths`) into the log; raises LoadError on any problem.

    Without `partial`, the files read are taken as the whole data set: a live milestone of the
    log that none of them holds is refused. Raises StoreUnavailable when the database is down
    and ConcurrencyError when another writer appended meanwhile; nothing is written then.
    """
    checked = find_and_read(settings, paths)
    if checked.problems:
        raise LoadError(checked.problems)
    repository = MilestoneRepository(store)
    states = repository.all_states(upto=store.head())
    plan = plan_load(checked.milestones, states, complete=not partial,
                     locate=lambda milestone_id: _origin(store, milestone_id))
    run_id = str(uuid.uuid4())
    positions: list[int] = []
    if not dry_run:
        positions = repository.save(plan.decisions, _run_metadata(run_id))
    return LoadReport(run_id, tuple(checked.files), tuple(plan.changes), plan.unchanged,
                      dry_run, tuple(positions))


def _run_metadata(run_id: str) -> dict[str, str]:
    return {"loader_run": run_id, "user": _user(), "chronicle_version": __version__}


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password database
        return "unknown"


def _origin(store: EventStore, milestone_id: str) -> Origin:
    """The file and line a milestone was last loaded from, as its events' metadata says, and
    the reason of its last revision."""
    events = store.read_stream(stream_id(milestone_id))
    reasons = [event.payload.get("reason") for event in events
               if event.type == MilestoneRevised.type]
    last_reason = reasons[-1] if reasons and isinstance(reasons[-1], str) else None
    for event in reversed(events):
        file, line = event.metadata.get("source_file"), event.metadata.get("source_line")
        if isinstance(file, str):
            return Origin(file, line if isinstance(line, int) else 0, last_reason)
    return Origin(UNKNOWN_ORIGIN, 0, last_reason)
