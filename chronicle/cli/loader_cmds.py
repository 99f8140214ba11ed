"""Commands on the milestone files: load them into the log, check them, print their schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chronicle.cli.context import BadInput, Failure, app_context, out

if TYPE_CHECKING:  # the loader, the store and the validators load only when a command runs
    from chronicle.loader import Change, LoadReport

PathsArgument = Annotated[list[Path] | None, typer.Argument(
    help="Milestone files or directories of them (default: the configured sources).",
    show_default=False, metavar="PATH")]


def register(app: typer.Typer) -> None:
    app.command("load")(load_command)
    app.command("check")(check_command)
    app.command("schema")(schema_command)


def load_command(
    ctx: typer.Context,
    paths: PathsArgument = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be appended; "
                                          "write nothing.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show each change as a "
                                          "field diff (old → new).")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="The PATHs are only part of the "
                                          "data set: do not refuse milestones of the log that "
                                          "they lack.")] = False,
) -> None:
    """Append what is new, revised or retracted in the milestone files, in one transaction.

    Unchanged milestones append nothing. Bad input is refused whole (exit 2), listing every
    problem as file:line: field: message. Without --partial the files read are the whole data
    set: a milestone of the log that none of them holds is refused, never silently retracted;
    withdraw it with retracted: "reason" in its file.
    """
    from chronicle.loader import LoadError, check_sources, format_problems, load_sources
    from chronicle.store import ConcurrencyError

    context = app_context(ctx)
    settings = context.settings
    given = paths or None
    checked = check_sources(settings, given)  # bad files say so even when the database is down
    if checked.problems:
        raise BadInput(format_problems(checked.problems))
    try:
        report = load_sources(context.store(create=not dry_run), settings, given,
                              dry_run=dry_run, partial=partial)
    except LoadError as error:
        raise BadInput(str(error)) from None
    except ConcurrencyError as error:
        raise Failure(f"the log changed while loading ({error}); nothing was written: "
                      "run the load again") from None
    _print_report(report, verbose=verbose)


def check_command(ctx: typer.Context, paths: PathsArgument = None) -> None:
    """Check milestone files without any database: exit 2 listing every problem, else 0."""
    from chronicle.loader import check_sources, format_problems
    from chronicle.loader.inferred import inferred_names

    checked = check_sources(app_context(ctx).settings, paths or None)
    if checked.problems:
        raise BadInput(format_problems(checked.problems, outcome="see events/README.md"))
    for warning in inferred_names(checked.milestones):  # inferred names warn, never fail
        _say(f"warning: {warning}")
    files = len(checked.files)
    _say(f"{files} file{'' if files == 1 else 's'}, {len(checked.milestones)} milestones: "
         "no problems")


def schema_command() -> None:
    """Print the JSON Schema (draft 2020-12) of milestone files, for editors to check them."""
    from chronicle.loader import json_schema_text

    sys.stdout.write(json_schema_text())


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False)


def _print_report(report: LoadReport, *, verbose: bool) -> None:
    if verbose:
        for change in report.changes:
            _say(_change_line(change))
            for name, (old, new) in change.diff.items():
                _say(f"    {name}: {_shown(name, old)} → {_shown(name, new)}")
    _say(report.summary())


def _change_line(change: Change) -> str:
    line = f"{change.kind:<9} {change.milestone_id} ({change.file}:{change.line})"
    return f"{line}: {change.reason}" if change.reason else line


def _shown(name: str, value: Any) -> str:
    """A payload value as an editor wrote it: dates as text, the rest as JSON."""
    from chronicle.dates import HistoricalDate, InvalidDate

    if name == "date" and isinstance(value, dict):
        try:
            return str(HistoricalDate.from_json(value))
        except InvalidDate:
            pass
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)
