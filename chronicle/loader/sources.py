"""Which files a load or check reads, and reading them: no database involved.

Paths are shown relative to the configured base directory (as "events/03-visits.yaml"), so
messages and event metadata read the same wherever the command runs from.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chronicle.config import Settings
from chronicle.loader.problems import FileProblem
from chronicle.loader.quotes import check_quotes
from chronicle.loader.validate import Checked, check_documents
from chronicle.loader.yamlread import read_document

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    name: str
    """As shown in messages and stored in event metadata."""


def display_name(path: Path, base_dir: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def expand(pattern: Path) -> list[Path]:
    """The paths an absolute glob matches, sorted; `**` never enters a symlinked directory.

    glob.glob follows symlinks under `**`, so two `ln -s .` loops make it run until memory
    runs out; pathlib's `**` does not follow them. Hidden names are skipped, as glob does.
    """
    parts = pattern.parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    root = Path(*parts[:fixed])
    if fixed == len(parts):
        return [root] if root.exists() else []
    matches = root.glob(str(Path(*parts[fixed:])))
    return sorted(p for p in matches if not any(
        part.startswith(".") for part in p.relative_to(root).parts))


def configured_files(settings: Settings) -> tuple[list[SourceFile], list[FileProblem]]:
    """The files matched by the `sources` globs; a glob matching nothing is a problem."""
    found: list[Path] = []
    problems = []
    for pattern in settings.sources:
        files = [p for p in expand(settings.path(pattern)) if p.is_file()]
        if not files:
            problems.append(FileProblem(pattern, 0, "sources", "no file matches this pattern "
                                        "(the configured sources)"))
        found += files
    return _unique(found, settings.base_dir), problems


def given_files(paths: Sequence[Path | str], base_dir: Path
                ) -> tuple[list[SourceFile], list[FileProblem]]:
    """Explicit files, and the *.yaml/*.yml files of explicit directories."""
    found: list[Path] = []
    problems = [] if paths else [FileProblem("(no paths)", 0, "file", "no files given")]
    for given in map(Path, paths):
        if given.is_dir():
            files = sorted(p for p in given.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
            if not files:
                problems.append(FileProblem(str(given), 0, "file",
                                            "the directory holds no .yaml files"))
            found += files
        elif given.is_file():
            found.append(given)
        else:
            problems.append(FileProblem(str(given), 0, "file", "no such file or directory"))
    return _unique(found, base_dir), problems


def _unique(paths: list[Path], base_dir: Path) -> list[SourceFile]:
    """Each file once, even when named twice (a directory and a file in it)."""
    seen: set[Path] = set()
    files = []
    for path in paths:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            files.append(SourceFile(path, display_name(path, base_dir)))
    return files


def _name_problems(files: Sequence[SourceFile]) -> list[FileProblem]:
    """File names that are not UTF-8 are refused: they cannot go into the log's metadata."""
    problems = []
    for file in files:
        try:
            file.name.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(file.name).decode("utf-8", errors="replace")
            problems.append(FileProblem(shown, 0, "file", "the file name is not UTF-8; "
                                        "rename the file"))
    return problems


def read_files(files: Sequence[SourceFile], problems: Sequence[FileProblem] = (),
               seeds_dir: Path | None = None) -> Checked:
    """Read and check every file; `problems` found while finding them come first.

    With `seeds_dir`, every quote is also looked up in the source document it names.
    """
    refused = _name_problems(files)
    if refused:
        return Checked([], [*problems, *refused], [])
    checked = check_documents([read_document(f.path, f.name) for f in files])
    found = [*problems, *checked.problems]
    if seeds_dir is not None and not checked.problems:
        found += check_quotes(checked.milestones, seeds_dir)
    return Checked(checked.milestones, found, checked.files)


def find_and_read(settings: Settings, paths: Sequence[Path | str] | None = None) -> Checked:
    """The configured sources (or the given paths) read and checked, quotes included."""
    files, problems = (configured_files(settings) if paths is None
                       else given_files(paths, settings.base_dir))
    return read_files(files, problems, settings.path(settings.seeds_dir))


def check_sources(settings: Settings, paths: Sequence[Path | str] | None = None) -> Checked:
    """Check the configured sources (or the given paths) without any database."""
    return find_and_read(settings, paths)


def check_files(paths: Sequence[Path | str], *, base_dir: Path | None = None
                ) -> list[FileProblem]:
    """Every problem of these files (or directories of them); empty when they would load."""
    files, problems = given_files(paths, base_dir or Path.cwd())
    return read_files(files, problems).problems
