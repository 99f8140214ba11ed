"""Every quote is found in the source document it names, as events/README.md promises.

Runs of whitespace (spaces, line breaks) are collapsed on both sides before searching; every
other character must match exactly. Only runs when the sources folder is present: a server
deployed without the seed documents still loads, and the test suite says when it skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chronicle.loader.problems import FileProblem
from chronicle.loader.validate import FileMilestone

MAX_SOURCE_BYTES = 16 * 1024 * 1024
"""A source document larger than this is not read (the seeds are under 100 KB)."""


def collapse(text: str) -> str:
    """Runs of whitespace as one space: the only difference a quote may have from its source."""
    return " ".join(text.split())


class _Documents:
    """The sources folder's documents, each read once per check, collapsed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self._texts: dict[str, str | None] = {}
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str | None:
        """The collapsed text of `name`, or None (and a reason in `errors`)."""
        if name not in self._texts:
            self._texts[name] = self._read(name)
        return self._texts[name]

    def _read(self, name: str) -> str | None:
        path = (self.folder / name).resolve()
        if path.parent != self.folder or not path.is_file():
            self.errors[name] = f"no file {name!r} in the sources folder {self.folder}"
            return None
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_SOURCE_BYTES + 1)
            if len(data) > MAX_SOURCE_BYTES:
                raise ValueError(f"larger than {MAX_SOURCE_BYTES} bytes")
            return collapse(data.decode("utf-8"))
        except (OSError, ValueError) as error:
            self.errors[name] = f"cannot read {path}: {error}"
            return None


def check_quotes(milestones: Sequence[FileMilestone], folder: Path) -> list[FileProblem]:
    """Each source's file exists in `folder` and holds its quote; nothing when no folder."""
    if not folder.is_dir():
        return []
    documents = _Documents(folder)
    problems = []
    for entry in milestones:
        for index, source in enumerate(entry.milestone.sources):
            if source.file is None:
                continue
            text = documents.text(source.file)
            if text is None:
                where = f"sources[{index}].file"
                problems.append(FileProblem(entry.file, entry.line_of(where), where,
                                            documents.errors[source.file]))
            elif collapse(source.quote) not in text:
                where = f"sources[{index}].quote"
                problems.append(FileProblem(
                    entry.file, entry.line_of(where), where,
                    f"is not in {source.file}: copy it character for character (only runs of "
                    "whitespace may differ)"))
    return problems
