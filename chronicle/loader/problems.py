"""Problems found in milestone files, located as `file:line: field: what is wrong`.

Editors fix files, not Python objects, so every problem names the place to edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Path_ = tuple[str | int, ...]
"""Where a value sits in a YAML document: ("milestones", 3, "sources", 0, "quote")."""


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One problem at one place; `line` is 1-based, 0 when the place has no line."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class LoadError(Exception):
    """The files (or their relation to the log) are refused as a whole; nothing was written."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems = list(problems)
        super().__init__(format_problems(self.problems))


MAX_LISTED = 100
"""Problems printed; more would scroll the first (usually the cause of the rest) away."""
STOP_AFTER = 1000
"""Checking stops once this many are found: a flood (a 1 MiB file of `- {}`) stays quick."""


def format_problems(problems: Sequence[FileProblem], *, outcome: str = "nothing was loaded"
                    ) -> str:
    """The first problems, one a line, then a count, so a long list still ends with a verdict."""
    files = len({p.file for p in problems})
    noun = "problem" if len(problems) == 1 else "problems"
    where = "file" if files == 1 else "files"
    lines = [str(p) for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"… and {len(problems) - MAX_LISTED} more")
    count = f"{len(problems)} {noun}"
    if len(problems) >= STOP_AFTER:
        count = f"{STOP_AFTER} problems or more (checking stopped there)"
    lines.append(f"{count} in {files} {where}; {outcome}")
    return "\n".join(lines)


def field_name(path: Path_) -> str:
    """A path as editors read it, relative to its milestone: "sources[0].quote"."""
    if len(path) > 2 and path[0] == "milestones" and isinstance(path[1], int):
        path = path[2:]
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(document)"
