"""`chronicle serve` (feeds over HTTP, following the log) and `chronicle export` (static files)."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from chronicle.cli.context import Failure, app_context, out, progress_bar
from chronicle.cli.helptext import setting_default

if TYPE_CHECKING:  # the read models and the store load only when a command runs
    from chronicle.config import Settings
    from chronicle.projections import Projector
    from chronicle.store import SqlEventStore

log = logging.getLogger("chronicle.serve")


class Stoppable(Protocol):
    def shutdown(self) -> Any: ...


class StopRequest:
    """SIGTERM as a flag that ends `serve` at the next safe point, never as an exception.

    An exception raised by a signal handler lands at any bytecode of the main thread: between
    logging's `Handler.acquire()` and its `try`, say, leaving the handler's lock held, so the
    posting thread blocks on its next log line and the shutdown that waits for it never ends.
    uvicorn replaces this handler while it serves (its own graceful stop) and calls it again
    when done; before then, the flag stops the server as soon as it exists.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.server: Any = None   # the uvicorn.Server, once built

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested.set()
        if self.server is not None:
            self.server.should_exit = True


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.command("export")(export_command)


def caught_up(store: SqlEventStore) -> Projector:
    from chronicle.projections import Projector

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


def watch_leader(settings: Settings, store: SqlEventStore) -> Stoppable:
    """Without a scheduler here, alert when no replica leads one (CHRONICLE_ALERT_URLS)."""
    from chronicle.posting.runner import start_leader_watch

    return start_leader_watch(settings, store)


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind the server's address before anything starts: a busy port is one line, exit 1."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise Failure(f"port {port} on {host} is in use: stop what listens there or choose "
                          "another (--port, server.port or CHRONICLE_SERVER__PORT)") from None
        raise Failure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)  # worker processes serve the same socket
    return sock


def _run_uvicorn(settings: Settings, store: SqlEventStore, projector: Projector,
                 sock: socket.socket, access_log: bool, stop: StopRequest) -> None:
    import uvicorn

    from chronicle.web import create_app
    from chronicle.web.fastpath import DocumentHttpToolsProtocol
    from chronicle.web.limits import server_options

    host, port = sock.getsockname()[:2]
    options: dict[str, Any] = {"host": host, "port": port, "access_log": access_log,
                               "log_config": None, "server_header": False,
                               **server_options(DocumentHttpToolsProtocol)}
    workers = settings.server.workers
    log.info("serving on http://%s:%d (%d worker%s)", host, port, workers,
             "" if workers == 1 else "s")
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(settings, store, projector=projector),
                                               **options))
        stop.server = server
        if stop.requested.is_set():
            return   # SIGTERM while starting: nothing served yet, nothing to drain
        server.run(sockets=[sock])
        if not server.started and not stop.requested.is_set():
            raise Failure(f"could not serve on {host}:{port} (the log above says why)")
        return
    # Worker processes build their own app (store, follower, cache) from the environment.
    os.environ["CHRONICLE_DATABASE_URL"] = settings.resolved_database_url
    os.environ["CHRONICLE_FEED__BASE_URL"] = settings.feed.base_url
    uvicorn.run("chronicle.web.app:app_from_environment", factory=True, workers=workers,
                fd=sock.fileno(), **options)


def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(
        help="Address to listen on.", show_default=setting_default("server", "host"))] = None,
    port: Annotated[int | None, typer.Option(
        help="Port to listen on (0: any free port).",
        show_default=setting_default("server", "port"))] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request "
                                             "(off by default: it halves throughput).")] = False,
) -> None:
    """Serve the feeds over HTTP, following the log; stops cleanly on SIGTERM or Ctrl-C."""
    from chronicle.config import served_at
    from chronicle.store.engine import supported_url

    context = app_context(ctx)
    if context.config_path is not None:
        os.environ["CHRONICLE_CONFIG"] = str(context.config_path.resolve())
    supported_url(context.settings.resolved_database_url)  # a bad URL first, whatever the port
    sock = listening_socket(host or context.settings.server.host,
                            context.settings.server.port if port is None else port)
    # Links follow the address actually bound (`--port 0` picks one), unless base_url is set.
    settings = served_at(context.settings, *sock.getsockname()[:2])
    try:
        _serve(settings, context.store(create=True), sock, access_log)
    finally:
        sock.close()


def _serve(settings: Settings, store: SqlEventStore, sock: socket.socket,
           access_log: bool) -> None:
    from chronicle.projections import ReadModels

    projector = caught_up(store)
    if settings.server.load_on_start:
        load_on_start(store, settings)
        projector.catch_up()
    count = ReadModels(store.engine).count()
    log.info("loaded %d milestones from the log (head %d)", count, store.head())
    stop = StopRequest()   # from here a SIGTERM stops in order, exit 0 (before: at once)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        scheduler = start_scheduler(settings, store) if settings.server.scheduler else (
            watch_leader(settings, store))
        try:
            _run_uvicorn(settings, store, projector, sock, access_log, stop)
        finally:
            scheduler.shutdown()
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.info("stopped")


def export_command(
    ctx: typer.Context,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Directory to write to, the site root.",
        show_default=setting_default("export_dir"))] = None,
) -> None:
    """Write every feed and page as a file for static hosting: same bytes as served, atomic
    writes, unchanged files left alone. Progress goes to stderr; the summary to stdout."""
    from chronicle.config import served_at
    from chronicle.feeds.export import SiteWriter
    from chronicle.projections import ReadModels
    from chronicle.site import site_documents

    context = app_context(ctx)
    settings = served_at(context.settings, context.settings.server.host,
                         context.settings.server.port)
    store = context.store()
    caught_up(store)
    target = out_dir or settings.path(settings.export_dir)
    started = time.perf_counter()
    writer = SiteWriter(target)
    try:
        with writer.rendering():   # each renderer writes its documents' files as it goes
            with progress_bar("rendering documents", None):
                documents = site_documents(settings, ReadModels(store.engine))
            rendered = time.perf_counter()
            with progress_bar("writing files", len(documents)) as bar:
                task = bar.task_ids[0]
                report = writer.write_all(
                    documents, progress=lambda done: bar.update(task, completed=done))
    except OSError as exc:  # a full disk, a read-only or missing folder: say which file
        where = f" ({exc.filename})" if exc.filename else ""
        raise Failure(f"export to {target} failed: {exc.strerror or exc}{where}") from None
    for path in report.written:
        log.debug("wrote %s", path)
    out.print(f"exported to {target}: {report.summary()} ({len(documents)} documents: render "
              f"{rendered - started:.1f} s, write {time.perf_counter() - rendered:.1f} s)",
              markup=False, highlight=False)
