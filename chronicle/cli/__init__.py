"""The `chronicle` command line: a face that parses input, calls services and renders output."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.main import get_command

from chronicle import __version__
from chronicle.cli import (
    bench_cmds,
    loader_cmds,
    log_cmds,
    milestone_cmds,
    posting_cmds,
    replication_cmds,
    serve_cmds,
)
from chronicle.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    AppContext,
    BadInput,
    Failure,
    configure_logging,
    err,
)
from chronicle.cli.helptext import document_options, setting_default

app = typer.Typer(
    name="chronicle",
    help="An event-sourced chronicle of the milestones between Mongolia and the United States: "
    "load milestones from YAML, publish feeds, pages and a calendar, and post anniversaries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"chronicle {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="Configuration file (default: $CHRONICLE_CONFIG, else "
        "./config/chronicle.toml).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Override the database URL (also $CHRONICLE_DATABASE_URL).",
        show_default=setting_default("database_url"))] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="More log output (-v: debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Logs go to stderr; results to stdout. Exit codes: 0 ok, 1 failure, 2 bad input or usage."""
    configure_logging(-1 if quiet else verbose)
    overrides: dict[str, object] = {"database_url": database_url} if database_url else {}
    context = AppContext(config_path=config, settings_overrides=overrides)
    ctx.obj = context
    ctx.call_on_close(context.close)


app.add_typer(log_cmds.db_app, name="db")
app.command("log")(log_cmds.log_command)
app.command("verify")(log_cmds.verify_command)
app.command("head")(log_cmds.head_command)


for commands in (milestone_cmds, loader_cmds, serve_cmds, posting_cmds, replication_cmds,
                 bench_cmds):
    commands.register(app)


def main() -> None:
    """Entry point: our errors become one clear line and an exit code, never a traceback."""
    command = get_command(app)
    document_options(command)
    try:
        command()
    except KeyboardInterrupt:
        logging.getLogger("chronicle").warning("interrupted")
        sys.exit(130)
    except Exception as exc:
        shown = _shown_error(exc)
        if shown is None:
            raise
        message, code = shown
        err.print(message, markup=False, highlight=False)
        sys.exit(code)


def _shown_error(exc: Exception) -> tuple[str, int] | None:
    """Our error's line and exit code, or None for a bug (a traceback). The config and store
    modules are imported here, not at start, so `--help` stays fast; an error from one of
    them means it is loaded already."""
    if isinstance(exc, BadInput):
        return str(exc), EXIT_BAD_INPUT
    if isinstance(exc, Failure):
        return f"error: {exc}", EXIT_FAILURE
    from chronicle.config import ConfigError
    from chronicle.store import InvalidDatabaseUrl, StoreError, StoreUnavailable

    if isinstance(exc, ConfigError):
        return str(exc), EXIT_BAD_INPUT
    if isinstance(exc, InvalidDatabaseUrl):
        return f"error: {exc}", EXIT_BAD_INPUT
    if isinstance(exc, (StoreUnavailable, StoreError)):
        return f"error: {exc}", EXIT_FAILURE
    return None
