"""Commands that move the log: copy-log, export-log, import-log, backup."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from chronicle.cli.context import BadInput, Failure, app_context, err, progress_bar

if TYPE_CHECKING:  # the replication modules, SQLAlchemy and the store load when a command runs
    from rich.progress import Progress

    from chronicle.store import SqlEventStore


def _advance(bar: Progress) -> Callable[[int, int], None]:
    task = bar.task_ids[0]
    return lambda done, total: bar.update(task, completed=done, total=total)


def _same_database(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    from chronicle.store.engine import normalize_url

    first, second = make_url(normalize_url(a)), make_url(normalize_url(b))
    if first.get_backend_name() == second.get_backend_name() == "sqlite":
        return Path(first.database or "").resolve() == Path(second.database or "").resolve()
    return first == second


def _open_source(url: str) -> SqlEventStore:
    """Open an existing log without creating or upgrading anything in it."""
    from sqlalchemy.engine import make_url

    from chronicle.store import migrate, open_store
    from chronicle.store.engine import mask_url, normalize_url
    from chronicle.upcasters import UPCASTERS

    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise BadInput(f"--from: {parsed.database}: no such database file")
    store = open_store(url, upcasters=UPCASTERS, migrate_schema=False)
    if migrate.current_revision(store.engine) is None:
        store.close()
        raise BadInput(f"--from: there is no chronicle log at {mask_url(url)}")
    return store


def _rebuild(store: SqlEventStore) -> int:
    from chronicle.replication import rebuild_read_models

    with progress_bar("rebuilding read models", store.head()) as bar:
        return rebuild_read_models(store, _advance(bar))


def copy_log_command(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Database to copy the log into (created if "
                                    "needed; must be empty or hold a beginning of the log).")],
    source: Annotated[str | None, typer.Option("--from", help="Database to copy from (default: "
                                               "the configured database).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = 10_000,
    trust_source: Annotated[bool, typer.Option(
        "--trust-source", help="Do not recompute each source row's hash (links and positions "
        "are still checked): for a source `chronicle verify` just passed.")] = False,
) -> None:
    """Copy the whole log to another database, rows exactly as stored, then rebuild its read models.

    Resumes after the target's head when the target already holds a beginning of the log.
    """
    from chronicle.replication import ChainBroken, NotAPrefix, UnreadableEvent, copy_log
    from chronicle.store import open_store
    from chronicle.upcasters import UPCASTERS

    context = app_context(ctx)
    from_url = source or context.settings.resolved_database_url
    if _same_database(from_url, to):
        raise BadInput("--to names the database being copied from")
    reader = _open_source(source) if source else context.store()
    target = open_store(to, upcasters=UPCASTERS)
    try:
        with progress_bar("copying log", reader.head()) as bar:
            report = copy_log(reader, target, batch_size=batch_size,
                              check_contents=not trust_source, rebuild=False,
                              progress=_advance(bar))
        err.print(f"copied {report.copied} events to {target.url} in {report.seconds:.2f} s "
                  f"({report.rate:,.0f} events/s); head {report.head}, "
                  f"{report.already_there} were already there")
        rebuilt = _rebuild(target)
        err.print(f"read models rebuilt from {rebuilt} events")
    except (NotAPrefix, UnreadableEvent) as exc:
        raise BadInput(f"copy refused, nothing was written: {exc}") from None
    except ChainBroken as exc:
        raise Failure(f"the source log is NOT intact at {exc}; the events before it were "
                      "copied. Run `chronicle verify` on the source.") from None
    finally:
        target.close()
        if source:
            reader.close()


def export_log_command(
    ctx: typer.Context,
    after: Annotated[int, typer.Option(min=0, help="Only events after this position.")] = 0,
) -> None:
    """Write the log to stdout as JSON lines: every column, payload and metadata as stored text."""
    from chronicle.replication import export_log

    store = app_context(ctx).store()
    with progress_bar("exporting log", max(store.head() - after, 0)) as bar:
        task = bar.task_ids[0]
        written = export_log(store, sys.stdout, after=after,
                             progress=lambda n: bar.update(task, completed=n))
    sys.stdout.flush()
    err.print(f"exported {written} events after position {after}")


def _import_source(path: str) -> Path | TextIO:
    """`-` is standard input; anything else must be a readable file."""
    if path == "-":
        return sys.stdin
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"{path}: no such file")
    return file


def import_log_command(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="A file written by `chronicle export-log`, or - "
                                        "for standard input.")],
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = 10_000,
) -> None:
    """Append an exported log to this database (empty, or holding a beginning of the log).

    The whole file is checked — every hash and link, that it continues this database's head,
    and that this version can read every event — before anything is written; a bad line is
    named and the exit code is 2.
    """
    from chronicle.replication import ChainBroken, NotAPrefix, UnreadableEvent, import_log

    source = _import_source(path)
    store = app_context(ctx).store(create=True)
    try:
        with progress_bar("checking file", None) as bar:
            task = bar.task_ids[0]
            report = import_log(store, source, batch_size=batch_size, rebuild=False,
                                progress=lambda phase, n: bar.update(
                                    task, description=f"{phase} file", completed=n))
    except (ChainBroken, NotAPrefix, UnreadableEvent) as exc:
        raise BadInput(f"{path}: import refused, nothing was written: {exc}") from None
    err.print(f"imported {report.imported} events in {report.seconds:.2f} s; head "
              f"{report.head}, {report.already_there} were already there")
    if report.imported:
        err.print(f"read models rebuilt from {_rebuild(store)} events")


def backup_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The backup file to write.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file at PATH.")] = False,
) -> None:
    """Back up the SQLite database while the service runs (SQLite's online backup API).

    The snapshot is checked (SQLite quick_check and the hash chain) before it is renamed to
    PATH. On PostgreSQL use pg_dump instead.
    """
    from chronicle.replication import BackupFailed, ChainBroken, ReplicationError, backup_sqlite

    url = app_context(ctx).settings.resolved_database_url
    try:
        report = backup_sqlite(url, path, overwrite=overwrite)
    except ChainBroken as exc:
        raise Failure(f"backup NOT written: {exc}") from None
    except BackupFailed as exc:
        raise Failure(str(exc)) from None
    except ReplicationError as exc:
        raise BadInput(f"backup refused: {exc}") from None
    err.print(f"backed up {report.events} events (head {report.head}) to {report.path}: "
              f"{report.size:,} bytes in {report.seconds:.2f} s; hash chain verified")


def register(app: typer.Typer) -> None:
    app.command("copy-log")(copy_log_command)
    app.command("export-log")(export_log_command)
    app.command("import-log")(import_log_command)
    app.command("backup")(backup_command)
