"""Commands on the log itself: schema upgrades, printing, verifying."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from chronicle.cli.context import (
    EXIT_FAILURE,
    BadInput,
    Failure,
    app_context,
    err,
    out,
    progress_bar,
)

if TYPE_CHECKING:  # SQLAlchemy and the store load only when a command runs
    from chronicle.store import SqlEventStore, StoredEvent

db_app = typer.Typer(help="Manage the database schema of the log.", no_args_is_help=True)
MAX_POSITION = 2**63 - 1  # positions are 64-bit integers in both databases


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the log's tables or upgrade them to this version's schema (also done on first use)."""
    import sqlalchemy as sa

    from chronicle.store import StoreUnavailable, migrate
    from chronicle.store.engine import create_store_engine, mask_url

    settings = app_context(ctx).settings
    engine, dialect = create_store_engine(settings.resolved_database_url)
    try:
        before, after = migrate.upgrade(engine, dialect)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["lost"])[0]
        raise StoreUnavailable(mask_url(settings.resolved_database_url),
                               f"{reason}; the schema upgrade was not finished, run it again"
                               ) from None
    finally:
        engine.dispose()
    if before == after:
        err.print(f"schema already at revision {after}")
    else:
        err.print(f"schema upgraded from {before or 'empty'} to {after}")


def event_json(event: StoredEvent) -> dict[str, object]:
    return {
        "position": event.position, "stream": event.stream_id, "version": event.stream_version,
        "event_id": str(event.event_id), "type": event.type,
        "schema_version": event.schema_version, "recorded_at": event.recorded_at.isoformat(),
        "payload": event.payload, "metadata": event.metadata, "hash": event.hash,
    }


def log_command(
    ctx: typer.Context,
    stream: Annotated[str | None, typer.Option(
        "--stream", "-s", help="Only this stream, or this milestone's (its id).",
        show_default="every stream")] = None,
    after: Annotated[int, typer.Option(help="Only events after this global position.")] = 0,
    limit: Annotated[int | None, typer.Option(help="At most this many events.",
                                              show_default="no limit")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the event log, oldest first: two lines per event, or JSON lines with --json."""
    if not 0 <= after <= MAX_POSITION:
        raise BadInput(f"--after: {after} is not a log position (0 to {MAX_POSITION})")
    store = app_context(ctx).store()
    events: Iterator[StoredEvent]
    if stream:
        events = iter(e for e in _stream_events(store, stream) if e.position > after)
    else:
        events = store.iter_all(after=after)
    shown = 0
    for event in events:
        if limit is not None and shown >= limit:
            break
        shown += 1
        if as_json:
            print(json.dumps(event_json(event), ensure_ascii=False))
        else:
            _print_event(event)
    if not as_json and not shown:
        out.print("the log is empty" if not (stream or after) else "no events")


def _stream_events(store: SqlEventStore, name: str) -> list[StoredEvent]:
    """The events of stream `name`, or of the milestone whose id is `name`."""
    from chronicle.domain import stream_id as milestone_stream

    events = store.read_stream(name) or store.read_stream(milestone_stream(name))
    if not events:
        raise BadInput(f"--stream: {name!r} is neither a stream nor a milestone id in the log")
    return events


def _print_event(event: StoredEvent) -> None:
    """Stream name whole on the first line (to copy it), time, type and payload below."""
    head = f"{event.position:<6} {event.stream_id}  v{event.stream_version}"
    detail = f"{'':6} {event.recorded_at:%Y-%m-%d %H:%M:%S}  {event.type}  "
    room = max(out.width - len(detail), 20)
    summary = json.dumps(event.payload, ensure_ascii=False)
    if len(summary) > room:
        summary = summary[:room - 1] + "…"
    out.print(head, markup=False, highlight=False, crop=False)
    out.print(detail + summary, markup=False, highlight=False, crop=False)


MODES = {
    "keyed": "keyed chain (HMAC with CHRONICLE_LOG_KEY): rewriting it needs the key",
    "plain": "plain chain (SHA-256, no key): only `--expect` with a head kept elsewhere "
             "catches a rewritten chain",
}


def head_command(ctx: typer.Context) -> None:
    """Print the log's head as POSITION:HASH: keep it outside the database, and check it later
    with `chronicle verify --expect POSITION:HASH` (a truncated or rewritten log fails)."""
    position, hash_ = app_context(ctx).store().head_link()
    out.print(f"{position}:{hash_}", markup=False, highlight=False)


def parse_anchor(text: str) -> tuple[int, str]:
    """`POSITION:HASH` as `chronicle head` prints it."""
    position, _, hash_ = text.partition(":")
    if not (position.isdigit() and re.fullmatch(r"[0-9a-f]{64}", hash_)):
        raise BadInput(f"--expect: {text!r} is not POSITION:HASH as `chronicle head` prints it "
                       "(a position, a colon, 64 lower-case hex digits)")
    return int(position), hash_


def verify_command(
    ctx: typer.Context,
    expect: Annotated[str | None, typer.Option(
        "--expect", metavar="POSITION:HASH",
        help="A head printed earlier by `chronicle head`: fail unless the log still holds that "
        "row with that hash (catches truncation and a rewritten chain).")] = None,
) -> None:
    """Recompute the hash chain of the whole log and compare the read models with a replay.

    Exits 1 naming the first bad position if a row was edited, removed or reordered, if the
    log no longer holds the --expect row, or if the read models are beyond the log's head.
    """
    anchor = parse_anchor(expect) if expect is not None else None
    store = app_context(ctx).store()
    head = store.head()
    with progress_bar("verifying hash chain", head) as bar:
        report = store.verify(progress=lambda n: bar.update(bar.task_ids[0], completed=n))
    if not report.ok:
        raise Failure(f"log is NOT intact: position {report.first_bad_position}: {report.reason}")
    out.print(f"hash chain intact: {report.checked} events, head {report.head}; "
              f"{MODES[report.mode]}", markup=False, highlight=False)
    if anchor is not None:
        found = store.hash_at(anchor[0])
        if found != anchor[1]:
            what = "no longer holds that position" if found is None else f"holds hash {found}"
            raise Failure(f"log does NOT hold the expected head {anchor[0]}:{anchor[1]}: it "
                          f"{what} (truncated or rewritten since)")
        out.print(f"expected head {anchor[0]} found with its hash", markup=False)
    beyond = checkpoint_beyond(store, report.head)
    if beyond is not None:
        raise Failure(f"the read models have reached position {beyond}, beyond the log's head "
                      f"{report.head}: events were removed from the log")
    unreadable = first_unreadable(store, report.head)
    if unreadable is not None:
        raise Failure(f"log is intact but NOT readable by this version: {unreadable}")
    problems = verify_read_models(ctx)
    if problems:
        for problem in problems:
            err.print(f"[red]read model differs from a replay:[/red] {problem}")
        raise typer.Exit(EXIT_FAILURE)


def checkpoint_beyond(store: SqlEventStore, head: int) -> int | None:
    """The highest read-model checkpoint, when it is past `head` (None otherwise)."""
    import sqlalchemy as sa

    from chronicle.projections.tables import checkpoints

    if not sa.inspect(store.engine).has_table(checkpoints.name):
        return None
    with store.engine.connect() as conn:
        reached = conn.execute(sa.select(sa.func.max(checkpoints.c.position))).scalar() or 0
    return reached if reached > head else None


def first_unreadable(store: SqlEventStore, head: int) -> str | None:
    """Where this version first fails to read the log (decoding and folding every stream)."""
    from chronicle.replication.database import iter_rows
    from chronicle.replication.readable import ReadabilityChecker, UnreadableRow

    try:
        ReadabilityChecker(other_streams=True).check_all(iter_rows(store, 0, head))
    except UnreadableRow as exc:
        return (f"the event at position {exc.position} cannot be read ({exc.reason}); "
                f"readers stop before it")
    return None


def verify_read_models(ctx: typer.Context) -> list[str]:
    """Differences between the live read models and a fresh replay of the same positions."""
    from chronicle.projections.replay import compare_with_replay

    return compare_with_replay(app_context(ctx).store())
