"""`chronicle serve` (feeds over HTTP, following the log) and `chronicle export` (static files)."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, Protocol

import typer

from chronicle.cli.context import Failure, app_context, out
from chronicle.config import Settings
from chronicle.projections import Projector, ReadModels
from chronicle.store import SqlEventStore

log = logging.getLogger("chronicle.serve")


class Stoppable(Protocol):
    def shutdown(self) -> Any: ...


class Terminated(Exception):
    """SIGTERM arrived; raised after uvicorn's graceful shutdown so cleanup still runs."""


def _terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.command("export")(export_command)


def caught_up(store: SqlEventStore) -> Projector:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return projector


def load_on_start(store: SqlEventStore, settings: Settings) -> None:
    """Load the configured sources; a refusal does not stop serving (the log stays as it was)."""
    from chronicle.loader import load_sources

    try:
        report = load_sources(store, settings)
    except Exception as exc:  # LoadError lists every problem; the log stays as it was
        log.error("the sources were NOT loaded; serving the log as it is:\n%s", exc)
        return
    log.info("sources loaded: %s", report.summary())


def start_scheduler(settings: Settings, store: SqlEventStore) -> Stoppable:
    from chronicle.posting.runner import start_scheduler as start

    scheduler: Stoppable = start(settings, store)
    log.info("anniversary scheduler started")
    return scheduler


def _run_uvicorn(settings: Settings, store: SqlEventStore, projector: Projector, host: str,
                 port: int, access_log: bool) -> None:
    import uvicorn

    from chronicle.web import create_app

    options: dict[str, Any] = {"host": host, "port": port, "access_log": access_log,
                               "log_config": None, "server_header": False}
    workers = settings.server.workers
    log.info("serving on http://%s:%d (%d worker%s)", host, port, workers,
             "" if workers == 1 else "s")
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(settings, store, projector=projector),
                                               **options))
        server.run()
        if not server.started:
            raise Failure(f"could not serve on {host}:{port} (the log above says why)")
        return
    # Worker processes build their own app (store, follower, cache) from the environment.
    os.environ["CHRONICLE_DATABASE_URL"] = settings.resolved_database_url
    uvicorn.run("chronicle.web.app:app_from_environment", factory=True, workers=workers,
                **options)


def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on [server.host].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [server.port].")] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request "
                                             "(off by default: it halves throughput).")] = False,
) -> None:
    """Serve the feeds over HTTP, following the log; stops cleanly on SIGTERM or Ctrl-C."""
    context = app_context(ctx)
    settings = context.settings
    if context.config_path is not None:
        os.environ["CHRONICLE_CONFIG"] = str(context.config_path.resolve())
    store = context.store(create=True)
    projector = caught_up(store)
    if settings.server.load_on_start:
        load_on_start(store, settings)
        projector.catch_up()
    count = ReadModels(store.engine).count()
    log.info("loaded %d milestones from the log (head %d)", count, store.head())
    scheduler = start_scheduler(settings, store) if settings.server.scheduler else None
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        _run_uvicorn(settings, store, projector, host or settings.server.host,
                     port or settings.server.port, access_log)
    except Terminated:
        pass  # uvicorn shut down gracefully and re-raised SIGTERM: finish cleanly, exit 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if scheduler is not None:
            scheduler.shutdown()
        log.info("stopped")


def export_command(
    ctx: typer.Context,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Directory to write to, the site root [export_dir].")] = None,
) -> None:
    """Write every feed as a file for static hosting: same bytes as served, atomic writes."""
    from chronicle.feeds.site import export_site

    context = app_context(ctx)
    settings = context.settings
    store = context.store()
    caught_up(store)
    target = out_dir or settings.path(settings.export_dir)
    report = export_site(settings, ReadModels(store.engine), target)
    for path in report.written:
        log.debug("wrote %s", path)
    out.print(f"exported to {target}: {report.summary()}", markup=False, highlight=False)
