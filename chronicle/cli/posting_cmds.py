"""Anniversary post commands: what is coming, posting a date by hand, the scheduler itself."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from chronicle.cli import rehearsal_cmds, review_cmds
from chronicle.cli.context import BadInput, Failure, app_context, err, out
from chronicle.cli.posting_common import parse_date, posting_service

if TYPE_CHECKING:  # the posting modules (tweepy, twitter-text) load only when a command runs
    from chronicle.config import Settings
    from chronicle.posting.anniversaries import PlannedPost
    from chronicle.posting.service import PostingService, PostResult


def _entry(post: PlannedPost, settings: Settings, status: str) -> dict[str, Any]:
    from chronicle.posting.posttext import weighted_length

    local = post.due_at.astimezone(settings.posting.zone)
    return {
        "key": post.key, "channel": post.channel, "local_date": post.local_date.isoformat(),
        "local_time": local.isoformat(), "utc_time": post.due_at.isoformat(),
        "milestone_ids": list(post.milestone_ids), "years": list(post.years),
        "text": post.text, "weighted_length": weighted_length(post.text) if post.text else None,
        "problem": post.problem, "status": status,
    }


def _grouped(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per post text and time, listing its channels (and each channel's status)."""
    rows: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for entry in entries:
        group = (entry["local_time"], ",".join(entry["milestone_ids"]), entry["text"])
        row = rows.setdefault(group, {**entry, "channels": {}})
        row["channels"][entry["channel"]] = entry["status"]
    for row in rows.values():
        del row["channel"], row["status"], row["key"]
    return list(rows.values())


def upcoming_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", "-d", min=1, max=3660,
                                      help="How many days ahead, today included.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list instead of a table.")
                       ] = False,
    lang: Annotated[str, typer.Option("--lang", help="Also list each post's milestone titles "
                                      "in this language (en, mn); [en] marks a fallback.")
                    ] = "en",
) -> None:
    """List the next anniversary posts: local and UTC times, channels, full text and its length.

    Today's posts are listed with their state in the log (published, skipped, …).
    """
    from chronicle.cli.milestone_cmds import parse_language
    from chronicle.posting.anniversaries import local_today
    from chronicle.posting.posttext import X_MAX_WEIGHT
    from chronicle.posting.statuses import post_statuses

    language = parse_language(lang)
    service = posting_service(ctx)
    settings = service.settings
    today = local_today(service.clock.now(), settings.posting)
    planner = service.planner()
    channels = service.channels
    plans = [p for n in range(days) for p in planner.plan(today + dt.timedelta(days=n), channels)]
    known = post_statuses(service.store.engine, [p.key for p in plans])
    entries = [_entry(p, settings, known[p.key].status if p.key in known else "scheduled")
               for p in plans]
    rows = _grouped(entries)
    if language != "en":
        _add_titles(rows, service, language)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print(f"no anniversary posts in the next {days} day(s)")
        return
    zone = settings.posting.timezone
    table = Table(f"when ({zone} / UTC)", "channels, weight", "text", show_lines=True)
    table.columns[0].no_wrap = table.columns[1].no_wrap = True
    table.columns[2].overflow = "fold"  # the full text, URL included, never cut
    for row in rows:
        local = dt.datetime.fromisoformat(row["local_time"])
        utc = dt.datetime.fromisoformat(row["utc_time"])
        channels = [f"{name} ({state})" for name, state in row["channels"].items()]
        weight = f"{row['weighted_length']}/{X_MAX_WEIGHT}" if row["weighted_length"] else "-"
        text = row["text"] or f"[not sent: {row['problem']}]"
        text = "\n".join([*row.get("titles", ()), text])
        table.add_row(f"{local:%Y-%m-%d %H:%M} local\n{utc:%Y-%m-%d %H:%M} UTC",
                      "\n".join([*channels, weight]), text)
    out.print(table, markup=False, highlight=False)


def _add_titles(rows: list[dict[str, Any]], service: PostingService, language: str) -> None:
    """Each row's milestone titles in `language`, English ones marked "[en] "."""
    from chronicle.localized import localize

    models = service.read_models()
    for row in rows:
        found = [models.milestone(i) for i in row["milestone_ids"]]
        local = [localize(view.milestone, language) for view in found if view is not None]
        row["titles"] = [text.marked("title", text.title) for text in local]


def _describe(result: PostResult) -> str:
    parts = [f"{result.post.key}: {result.outcome}"]
    if result.detail:
        parts.append(f"({result.detail})")
    if result.retry_at:
        parts.append(f"retry at {result.retry_at.isoformat()}")
    return " ".join(parts)


def post_command(
    ctx: typer.Context,
    date: Annotated[str, typer.Option("--date", help="Local date of the anniversaries, "
                                      "YYYY-MM-DD.")],
    channel: Annotated[list[str] | None, typer.Option(
        "--channel", help="Only this channel (repeatable; default: every configured one).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be posted; "
                                          "change nothing.")] = False,
    late: Annotated[bool, typer.Option("--late", help="Send a past day's posts although its "
                                       "grace window closed (recorded as sent late).")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who runs this (default: the OS "
                                           "user); recorded on a late post.")] = None,
) -> None:
    """Post what is due on a date now, under the exactly-once rule. Never a future date.

    A date after today (in the posting time zone) is refused: use --dry-run or `chronicle
    rehearse`. A past date whose grace window closed needs --late. A post already published is
    not sent again (a second run says so). With posting.require_approval, only approved texts
    go out. Exits 1 if a post failed.
    """
    from chronicle.posting.posttext import weighted_length
    from chronicle.posting.review import default_user
    from chronicle.posting.service import FAILED

    local_date = parse_date("--date", date)
    service = posting_service(ctx)
    try:
        results = service.post_date(local_date, channels=channel or None, dry_run=dry_run,
                                    late_by=(by or default_user()) if late else None)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if not results:
        out.print(f"no anniversaries on {local_date.isoformat()}")
        return
    for result in results:
        print(_describe(result))
        if dry_run and result.post.text:
            print(f"  [{weighted_length(result.post.text)}] {result.post.text}")
    if any(r.outcome == FAILED for r in results):
        raise Failure("some posts failed; they will be retried by the scheduler")


def scheduler_command(ctx: typer.Context) -> None:
    """Run the anniversary scheduler in the foreground until SIGTERM or Ctrl-C.

    Every replica may run it: one leads (advisory lock on PostgreSQL, a lock file on SQLite),
    the others stand by and take over within seconds. Set CHRONICLE_FAKE_NOW (ISO time with an
    offset) and optionally CHRONICLE_FAKE_NOW_RATE to rehearse a posting day.
    """
    from chronicle.config import ConfigError
    from chronicle.posting.runner import start_scheduler
    from chronicle.publishers.x import IncompleteXCredentials
    from chronicle.store import SqlEventStore

    context = app_context(ctx)
    store: SqlEventStore = context.store()
    try:
        handle = start_scheduler(context.settings, store)
    except (ValueError, IncompleteXCredentials, ConfigError) as exc:
        raise BadInput(str(exc)) from None
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        err.print(f"received {signal.Signals(signum).name}, stopping", markup=False)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.wait(1.0):
            pass
    finally:
        handle.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(app: typer.Typer) -> None:
    app.command("upcoming")(upcoming_command)
    app.command("post")(post_command)
    app.command("scheduler")(scheduler_command)
    rehearsal_cmds.register(app)
    review_cmds.register(app)


__all__ = ["register"]
