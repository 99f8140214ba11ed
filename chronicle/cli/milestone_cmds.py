"""Commands that read the chronicle: milestones, show, rebuild; `--as-of` for the past."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from chronicle.cli.context import (
    AppContext,
    BadInput,
    Failure,
    app_context,
    err,
    out,
    progress_bar,
)

if TYPE_CHECKING:   # the read models, the store, Babel and CLDR load only when a command runs
    from rich.table import Table

    from chronicle.localized import LocalizedMilestone
    from chronicle.pages.audit import AuditEntry
    from chronicle.projections import ReadModels, RetractedView
    from chronicle.projections.views import MilestoneView

AS_OF_HELP = ("Show the chronicle as it was known then: a log position (e.g. 120), a date "
              "(2026-05-01, meaning the end of that day, UTC) or an ISO timestamp with zone.")
AsOf = Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)]
LANG_HELP = ("Show titles, summaries and dates in this language (en, mn); text not translated "
             "is shown in English, marked \\[en].")
Lang = Annotated[str, typer.Option("--lang", help=LANG_HELP)]


def parse_language(text: str) -> str:
    from chronicle.localized import UnknownLanguage, check_language

    try:
        return check_language(text)
    except UnknownLanguage as error:
        raise BadInput(f"--lang: {error}") from None


def current_read_models(context: AppContext, as_of: str | None) -> ReadModels:
    """The live read models caught up with the log, or a throwaway replay up to `as_of`."""
    from chronicle.projections import Projector, ReadModels
    from chronicle.projections.replay import replay_in_memory

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


def localized(view: MilestoneView, language: str) -> LocalizedMilestone:
    from chronicle.localized import localize

    return localize(view.milestone, language)


def milestones_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, not a table.")] = False,
    tag: Annotated[str | None, typer.Option(help="Only milestones with this tag.")] = None,
    on: Annotated[str | None, typer.Option(help="Only day-precision milestones on MM-DD.")] = None,
    year: Annotated[int | None, typer.Option(help="Only milestones in this year.")] = None,
    as_of: AsOf = None,
    lang: Lang = "en",
) -> None:
    """List the milestones in historical order."""
    from chronicle.projections.jsonviews import milestone_json

    language = parse_language(lang)
    if year is not None and not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise BadInput(f"--year: {year} is not a year ({dt.MINYEAR} to {dt.MAXYEAR})")
    month_day = parse_month_day(on) if on else None
    models = current_read_models(app_context(ctx), as_of)
    views = models.milestones(tag=tag, year=year, on=month_day)
    if as_json:
        print(json.dumps([milestone_json(v, language) for v in views], ensure_ascii=False,
                         indent=2))
        return
    out.print(milestones_table(views, language))


def milestones_table(views: list[MilestoneView], language: str = "en") -> Table:
    """Ids whole on one line, to copy into `show` at any width; titles (and tags) wrap."""
    from rich.table import Table
    from rich.text import Text

    longest_id = max((len(v.milestone.id) for v in views), default=2)
    table = Table(title=f"{len(views)} milestones", box=None)
    table.add_column("id", no_wrap=True, min_width=longest_id)
    table.add_column("date", overflow="fold")
    table.add_column("title · tags", ratio=1, min_width=12, overflow="fold")
    for view in views:
        m = view.milestone
        local = localized(view, language)
        title = Text(local.marked("title", local.title))
        title.append(f"\n{', '.join(m.tags)}", style="dim")
        table.add_row(m.id, local.date_words, title)
    return table


def show_command(
    ctx: typer.Context,
    milestone_id: Annotated[str, typer.Argument(metavar="ID", help="The milestone's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
    as_of: AsOf = None,
    lang: Lang = "en",
) -> None:
    """Show one milestone with its sources and its full revision history (field: old → new);
    a retracted one with its history from the log."""
    from chronicle.pages.audit import from_history, trail_json
    from chronicle.projections.jsonviews import milestone_json

    language = parse_language(lang)
    context = app_context(ctx)
    models = current_read_models(context, as_of)
    view = models.milestone(milestone_id)
    if view is None:
        gone = models.retracted(milestone_id)
        if gone is None:
            raise BadInput(f"{milestone_id}: no such milestone")
        _show_retracted(context, gone, as_json, as_of)
        return
    trail = from_history(models.history(milestone_id))
    if as_json:
        print(json.dumps(milestone_json(view, language) | {"history": trail_json(trail)},
                         ensure_ascii=False, indent=2))
        return
    m = view.milestone
    local = localized(view, language)
    out.print(local.marked("title", local.title), style="bold", markup=False)
    out.print(f"{local.date_words}  ·  {m.id}  ·  {', '.join(m.tags)}", markup=False)
    out.print(local.marked("summary", local.summary), markup=False)
    if local.reviewed is False:
        out.print(f"translation not yet reviewed; translator: {local.translator}", markup=False)
    for label, values in (("people", m.people), ("places", m.places)):
        if values:
            out.print(f"{label}: {', '.join(values)}", markup=False)
    for source in m.sources:
        out.print(f"source: {source.title} ({source.url or source.file})", markup=False)
        out.print(f"  “{source.quote}”", markup=False)
    if local.notes:
        out.print(f"notes: {local.marked('notes', local.notes)}", markup=False)
    print_trail(trail)


def _show_retracted(context: AppContext, gone: RetractedView, as_json: bool,
                    as_of: str | None) -> None:
    """A withdrawn milestone: why and when, and its history as the log has it (exit 0)."""
    from chronicle.pages.audit import LogReader, from_stream, trail_json

    reader = LogReader(context.store().engine)
    upto = resolve_as_of(context, as_of) if as_of is not None else None
    events = [e for e in reader.stream(gone.id) if upto is None or e.position <= upto]
    trail, last = from_stream(events), reader.last_known(events)
    if as_json:
        print(json.dumps({"id": gone.id, "title": last.title if last else gone.title,
                          "retracted": {"reason": gone.reason,
                                        "retracted_at": gone.retracted_at.isoformat(),
                                        "position": gone.position},
                          "history": trail_json(trail)}, ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]RETRACTED[/bold] {escape(last.title if last else gone.title)}")
    if last is not None:
        out.print(f"{last.date.words()}  ·  {gone.id}", markup=False)
    out.print(f"retracted {gone.retracted_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}Z  "
              f"#{gone.position}: {gone.reason}", markup=False)
    print_trail(trail)


def print_trail(trail: list[AuditEntry]) -> None:
    out.print("history:")
    for entry in trail:
        out.print(f"  {entry.recorded_at:%Y-%m-%d %H:%M:%S}Z  #{entry.position}  {entry.label}"
                  f"{'  — ' + entry.reason if entry.reason else ''}", markup=False)
        for change in entry.changes:
            out.print(f"      {change.text()}", markup=False)


def search_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(metavar="QUERY", help="Words to find (all of them).")],
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, not text.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 20,
    as_of: AsOf = None,
) -> None:
    """Full-text search over titles, summaries, people, places, tags and quotes, best first."""
    from chronicle.projections.jsonviews import hit_json

    models = current_read_models(app_context(ctx), as_of)
    hits = models.search(query, limit)
    if as_json:
        print(json.dumps([hit_json(hit) for hit in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        err.print(f"no milestone matches {query!r}", markup=False, highlight=False)
        return
    for hit in hits:
        view = hit.view
        out.print(f"{_marked(hit.title)}\n  {view.milestone.date.words()}  ·  {view.id}")
        out.print(f"  {_marked(hit.snippet)}")


def _marked(text: str) -> str:
    """Search marks as bold, everything else printed as it is."""
    from chronicle.projections.fulltext import MARK_END, MARK_START

    return escape(text).replace(MARK_START, "[bold]").replace(MARK_END, "[/bold]")


def rebuild_command(ctx: typer.Context) -> None:
    """Drop the read models and replay the whole log into them, with progress and a rate."""
    from chronicle.projections import Projector

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
    app.command("search")(search_command)
    app.command("rebuild")(rebuild_command)
