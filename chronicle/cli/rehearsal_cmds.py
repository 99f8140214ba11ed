"""`chronicle rehearse` and `chronicle preflight`: the posting day seen before it comes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from chronicle.cli.context import BadInput, Failure, out
from chronicle.cli.posting_common import (
    PostLangs,
    parse_date,
    posting_languages,
    posting_service,
    say_unposted,
)

if TYPE_CHECKING:
    from chronicle.posting.rehearsal import Rehearsed


def _row(item: Rehearsed) -> dict[str, Any]:
    entry = item.entry
    return {"key": entry.post.key, "channel": entry.post.channel,
            "language": entry.post.language, "local_date": entry.post.local_date.isoformat(),
            "due_at": entry.post.due_at.isoformat(), "state": entry.state, "text": entry.text,
            "length": entry.length, "max_length": entry.max_length, "image": item.image,
            "link": item.link, "stops": list(item.stops), "ready": item.ready}


def _table(items: list[Rehearsed], title: str) -> Table:
    table = Table("post", "state, length", "text (exactly as it would go out)", title=title,
                  show_lines=True)
    table.columns[0].no_wrap = table.columns[1].no_wrap = True
    table.columns[2].overflow = "fold"
    for item in items:
        entry = item.entry
        verdict = "would go out" if item.ready else "STOPPED: " + "; ".join(item.stops)
        table.add_row(f"{entry.post.key}\n{entry.post.channel} ({entry.post.language})",
                      f"{entry.state}\n{entry.length or '-'}/{entry.max_length}",
                      f"{entry.text or '(no text)'}\nimage: {item.image}\nlink: {item.link}\n"
                      f"{verdict}")
    return table


def rehearse_command(
    ctx: typer.Context,
    date: Annotated[str, typer.Option("--date", help="Local date to rehearse, YYYY-MM-DD.")],
    channel: Annotated[list[str] | None, typer.Option(
        "--channel", help="Only this channel (repeatable; default: every configured one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    lang: PostLangs = None,
) -> None:
    """Rehearse a posting day: every post due, its text per channel and language, length,
    approval state, image and link, and what would stop it; a milestone that gets no post in a
    language is named. Sends nothing and writes nothing to the log."""
    from chronicle.posting.rehearsal import rehearse_day
    from chronicle.posting.review import ReviewDesk

    local_date = parse_date("--date", date)
    service = posting_service(ctx)
    languages = posting_languages(service, lang)
    try:
        items, unposted = rehearse_day(ReviewDesk(service), local_date, channel or None,
                                       languages)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    say_unposted(unposted)
    if as_json:
        print(json.dumps([_row(i) for i in items], ensure_ascii=False, indent=2))
        return
    if not items:
        out.print(f"no anniversary posts on {local_date.isoformat()}")
        return
    zone = service.settings.posting.timezone
    when = items[0].entry.post.due_at.astimezone(service.settings.posting.zone)
    out.print(_table(items, f"{local_date.isoformat()} at {when:%H:%M} {zone} (rehearsal)"),
              markup=False, highlight=False)


def preflight_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=366,
                                      help="Posts due in this many days, today included.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False,
) -> None:
    """Check every channel's credentials (read-only) and every post due in the next days
    (length, approval). Exit 0 when all is ready, 1 naming each channel or post that is not."""
    from chronicle.posting.rehearsal import preflight
    from chronicle.posting.review import ReviewDesk

    result = preflight(ReviewDesk(posting_service(ctx)), days)
    if as_json:
        print(json.dumps({"ready": result.ready, "channels": [
            {"channel": c.channel, "ok": c.ok, "detail": c.detail} for c in result.checks],
            "posts": [_row(p) for p in result.posts]}, ensure_ascii=False, indent=2))
    else:
        table = Table("channel", "ready", "detail", title="channels")
        for check in result.checks:
            table.add_row(check.channel, "yes" if check.ok else "NO", check.detail)
        out.print(table, markup=False, highlight=False)
        if result.posts:
            out.print(_table(result.posts, f"posts due in the next {days} day(s)"),
                      markup=False, highlight=False)
        else:
            out.print(f"no posts due in the next {days} day(s)")
    if not result.ready:
        names = [f"channel {c.channel}: {c.detail}" for c in result.checks if not c.ok]
        names += [f"{p.entry.post.key}: {'; '.join(p.stops)}" for p in result.posts if p.stops]
        raise Failure("not ready: " + " | ".join(names))


def register(app: typer.Typer) -> None:
    app.command("rehearse")(rehearse_command)
    app.command("preflight")(preflight_command)


__all__ = ["register"]
