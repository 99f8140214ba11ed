"""Commands that read the chronicle: milestones, show, rebuild; `--as-of` for the past."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from chronicle.cli.context import (
    AppContext,
    BadInput,
    Failure,
    app_context,
    err,
    out,
    progress_bar,
)
from chronicle.projections import MilestoneView, Projector, ReadModels
from chronicle.projections.replay import replay_in_memory

AS_OF_HELP = ("Show the chronicle as it was known then: a log position (e.g. 120), a date "
              "(2026-05-01, meaning the end of that day, UTC) or an ISO timestamp with zone.")
AsOf = Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)]


def current_read_models(context: AppContext, as_of: str | None) -> ReadModels:
    """The live read models caught up with the log, or a throwaway replay up to `as_of`."""
    store = context.store()
    if as_of is not None:
        _, models = replay_in_memory(store, upto=resolve_as_of(context, as_of))
        return models
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return ReadModels(store.engine)


def resolve_as_of(context: AppContext, text: str) -> int:
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time.max, dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--as-of: {text!r} is not a position, a date (YYYY-MM-DD) or an ISO "
                       "timestamp") from None
    if moment.tzinfo is None:
        raise BadInput(f"--as-of: {text!r} needs a time zone (e.g. +00:00 or Z)")
    return context.store().position_at(moment)


def parse_month_day(text: str) -> tuple[int, int]:
    try:
        day = dt.date.fromisoformat(f"2000-{text}")
    except ValueError:
        raise BadInput(f"--on: {text!r} is not a month and day as MM-DD (e.g. 01-27)") from None
    return day.month, day.day


def milestone_json(view: MilestoneView) -> dict[str, Any]:
    m = view.milestone
    date = m.date.to_json()
    return {
        "id": m.id, "title": m.title, "date": date["date"], "end": date["end"],
        "precision": date["precision"], "circa": date["circa"], "date_words": m.date.words(),
        "summary": m.summary, "tags": list(m.tags), "people": list(m.people),
        "places": list(m.places), "sources": [s.to_payload() for s in m.sources],
        "notes": m.notes, "anniversary_of": m.anniversary_of,
        "recorded_at": view.recorded_at.isoformat(), "updated_at": view.updated_at.isoformat(),
        "revisions": view.revisions,
    }


def milestones_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, not a table.")] = False,
    tag: Annotated[str | None, typer.Option(help="Only milestones with this tag.")] = None,
    on: Annotated[str | None, typer.Option(help="Only day-precision milestones on MM-DD.")] = None,
    year: Annotated[int | None, typer.Option(help="Only milestones in this year.")] = None,
    as_of: AsOf = None,
) -> None:
    """List the milestones in historical order."""
    month_day = parse_month_day(on) if on else None
    models = current_read_models(app_context(ctx), as_of)
    views = models.milestones(tag=tag, year=year, on=month_day)
    if as_json:
        print(json.dumps([milestone_json(v) for v in views], ensure_ascii=False, indent=2))
        return
    table = Table("date", "id", "title", "tags", title=f"{len(views)} milestones", box=None)
    for view in views:
        m = view.milestone
        table.add_row(m.date.words(), m.id, m.title, ", ".join(m.tags))
    out.print(table)


def show_command(
    ctx: typer.Context,
    milestone_id: Annotated[str, typer.Argument(metavar="ID", help="The milestone's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
    as_of: AsOf = None,
) -> None:
    """Show one milestone with its sources and its full revision history."""
    models = current_read_models(app_context(ctx), as_of)
    view = models.milestone(milestone_id)
    if view is None:
        gone = models.retracted(milestone_id)
        if gone:
            raise BadInput(f"{milestone_id}: retracted on {gone.retracted_at:%Y-%m-%d}: "
                           f"{gone.reason}")
        raise BadInput(f"{milestone_id}: no such milestone")
    history = models.history(milestone_id)
    if as_json:
        data = milestone_json(view) | {"history": [
            {"position": h.position, "type": h.type, "recorded_at": h.recorded_at.isoformat(),
             "reason": h.reason, "changes": h.changes} for h in history]}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    m = view.milestone
    out.print(f"[bold]{m.title}[/bold]\n{m.date.words()}  ·  {m.id}  ·  {', '.join(m.tags)}")
    out.print(m.summary, markup=False)
    for label, values in (("people", m.people), ("places", m.places)):
        if values:
            out.print(f"{label}: {', '.join(values)}", markup=False)
    for source in m.sources:
        out.print(f"source: {source.title} ({source.url or source.file})", markup=False)
        out.print(f"  “{source.quote}”", markup=False)
    if m.notes:
        out.print(f"notes: {m.notes}", markup=False)
    out.print("history:")
    for entry in history:
        what = ", ".join(sorted(entry.changes)) if entry.changes else ""
        out.print(f"  {entry.recorded_at:%Y-%m-%d %H:%M:%S}Z  #{entry.position}  {entry.type}"
                  f"{'  ' + what if what else ''}{'  — ' + entry.reason if entry.reason else ''}",
                  markup=False)


def rebuild_command(ctx: typer.Context) -> None:
    """Drop the read models and replay the whole log into them, with progress and a rate."""
    store = app_context(ctx).store()
    projector = Projector(store)
    head = store.head()
    started = time.perf_counter()
    with progress_bar("replaying the log", head) as bar:
        count = projector.rebuild(
            progress=lambda reached, _: bar.update(bar.task_ids[0], completed=reached))
    elapsed = max(time.perf_counter() - started, 1e-9)
    err.print(f"rebuilt read models from {count} events in {elapsed:.2f} s "
              f"({count / elapsed:,.0f} events/s)")
    if projector.stopped is not None:
        raise Failure(str(projector.stopped))


def register(app: typer.Typer) -> None:
    app.command("milestones")(milestones_command)
    app.command("show")(show_command)
    app.command("rebuild")(rebuild_command)
