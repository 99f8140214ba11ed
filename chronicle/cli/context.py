"""What every command shares: settings, the store, output consoles, and errors as exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:  # the settings, the store and the progress bar load when a command runs
    from rich.progress import Progress

    from chronicle.config import Settings
    from chronicle.store import SqlEventStore, Upcasters

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2

out = Console(soft_wrap=True)          # results: stdout, for pipes and scripts
err = Console(stderr=True, soft_wrap=True)            # progress and messages: stderr


class BadInput(Exception):
    """The user's input is wrong (exit 2); the message says what and where."""


class Failure(Exception):
    """The command could not do its work (exit 1); the message says why."""


@dataclass
class AppContext:
    """Built once per invocation from the global options; commands ask it for what they need."""

    config_path: Path | None
    settings_overrides: dict[str, object] = field(default_factory=dict)
    _settings: Settings | None = None
    _store: SqlEventStore | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from chronicle.config import load_settings

            self._settings = load_settings(self.config_path, **self.settings_overrides)
        return self._settings

    def store(self, *, create: bool = False) -> SqlEventStore:
        """The configured log. Only commands that write pass `create=True`: any other one
        says the database does not exist, so a typo never creates an empty chronicle."""
        if self._store is None:
            from chronicle.store import open_store

            self._store = open_store(self.settings.resolved_database_url, upcasters=upcasters(),
                                     create=create)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def upcasters() -> Upcasters:
    """The domain's upcasters, imported late so the store never imports the domain."""
    from chronicle.upcasters import UPCASTERS

    return UPCASTERS


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext), "the root callback sets the context"
    return obj


def configure_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(
        stream=sys.stderr, level=level, force=True,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for noisy in ("sqlalchemy", "alembic", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A Rich progress bar on stderr that stays out of piped stdout."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=False,
                  disable=not err.is_terminal) as progress:
        progress.add_task(description, total=total)
        yield progress
