"""The editor's commands: `queue`, `approve`, `hold`, `edit-post`. Every action is an event in
the post's stream with the acting user (`--by`, default the OS user) and its time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
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
    from chronicle.posting.anniversaries import PlannedPost
    from chronicle.posting.review import QueueEntry, ReviewDesk

By = Annotated[str | None, typer.Option("--by", help="Who acts (default: the OS user).")]


def _desk(ctx: typer.Context) -> ReviewDesk:
    from chronicle.posting.review import ReviewDesk

    return ReviewDesk(posting_service(ctx))


def _who(by: str | None) -> str:
    from chronicle.posting.review import default_user

    who = (by or default_user()).strip()
    if not who:
        raise BadInput("--by: name who acts")
    return who


def _history(entry: QueueEntry) -> list[str]:
    lines = []
    for action in entry.actions:
        verb = {"AnniversaryPostDrafted": "edited" if action.get("edited") else "drafted",
                "AnniversaryPostApproved": "approved", "AnniversaryPostHeld": "held"}[
                    str(action["type"])]
        reason = f" ({action['reason']})" if action.get("reason") else ""
        lines.append(f"{verb} by {action['by']} at {action['at']}{reason}")
    return lines


def _row(entry: QueueEntry, zone: Any) -> dict[str, Any]:
    local = entry.post.due_at.astimezone(zone)
    return {"key": entry.post.key, "channel": entry.post.channel,
            "language": entry.post.language,
            "local_date": entry.post.local_date.isoformat(), "local_time": local.isoformat(),
            "state": entry.state, "text": entry.text, "length": entry.length,
            "max_length": entry.max_length, "image": entry.image, "history": _history(entry)}


def queue_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=366,
                                      help="How many days ahead, today included.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    by: By = None,
    lang: PostLangs = None,
) -> None:
    """List posts and drafts: key, local time, channel, language, text, length, state, image
    and who acted when; a milestone that gets no post in a language is named.

    Posts due within posting.draft_days get their draft recorded now if the scheduler has not.
    """
    desk = _desk(ctx)
    zone = desk.settings.posting.zone
    entries, unposted = desk.queue(days, by=_who(by),
                                   languages=posting_languages(desk.service, lang))
    say_unposted(unposted)
    rows = [_row(e, zone) for e in entries]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print(f"no posts in the next {days} day(s)")
        return
    table = Table("key / channel", "when (local)", "state, length", "text and history",
                  show_lines=True)
    table.columns[0].no_wrap = table.columns[1].no_wrap = table.columns[2].no_wrap = True
    table.columns[3].overflow = "fold"
    for row in rows:
        when = dt.datetime.fromisoformat(row["local_time"])
        table.add_row(f"{row['key']}\n{row['channel']} ({row['language']})",
                      f"{when:%Y-%m-%d %H:%M}",
                      f"{row['state']}\n{row['length'] or '-'}/{row['max_length']}",
                      "\n".join([row["text"] or "(no text)", f"image: {row['image']}",
                                 *row["history"]]))
    out.print(table, markup=False, highlight=False)


def _posts(desk: ReviewDesk, keys: list[str] | None, date: str | None,
           channel: list[str] | None) -> list[PlannedPost]:
    from chronicle.posting.review import ReviewError

    if bool(keys) == bool(date):
        raise BadInput("name the posts: KEY… (as `chronicle queue` lists them), or --date D")
    try:
        if date is not None:
            chosen = desk.service.check_channels(channel or None)
            return desk.service.planner().plan(parse_date("--date", date), chosen)
        return [desk.find(key) for key in keys or []]
    except ReviewError as exc:
        raise BadInput(str(exc)) from None
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def approve_command(
    ctx: typer.Context,
    keys: Annotated[list[str] | None, typer.Argument(help="Post keys to approve.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Every post of this local date.")
                    ] = None,
    channel: Annotated[list[str] | None, typer.Option("--channel", help="With --date: only "
                                                      "this channel (repeatable).")] = None,
    by: By = None,
) -> None:
    """Approve the exact current text of posts; one already due inside its grace window goes
    out at once."""
    from chronicle.posting.review import ReviewError

    desk = _desk(ctx)
    who = _who(by)
    posts = _posts(desk, keys, date, channel)
    if not posts:
        raise BadInput(f"no posts on {date}")
    failed = []
    for post in posts:
        try:
            result = desk.approve(post, by=who)
        except ReviewError as exc:
            failed.append(str(exc))
            continue
        sent = f"; then {result.outcome}" if result else ""
        print(f"{post.key}: approved by {who}{sent}")
    if failed:
        raise Failure("\n".join(failed))


def hold_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Post key, as `chronicle queue` lists it.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it must not go out.")],
    by: By = None,
) -> None:
    """Stop a post from going out until it is approved again."""
    from chronicle.posting.review import ReviewError

    desk = _desk(ctx)
    if not reason.strip():
        raise BadInput("--reason: say why the post is held")
    (post,) = _posts(desk, [key], None, None)
    try:
        desk.hold(post, reason.strip(), by=_who(by))
    except ReviewError as exc:
        raise Failure(str(exc)) from None
    print(f"{post.key}: held ({reason.strip()})")


def edit_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Post key, as `chronicle queue` lists it.")],
    text: Annotated[str | None, typer.Option("--text", help="The whole new text, link "
                                             "included, exactly as it is to go out.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the new text from this "
                                              "UTF-8 file.")] = None,
    by: By = None,
) -> None:
    """Replace a post's text (checked against its channel's limit). The edit is a new draft:
    any earlier approval no longer applies."""
    from chronicle.posting.review import ReviewError

    if (text is None) == (file is None):
        raise BadInput("give the new text with --text T or --file F (one of them)")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"--file {file}: {exc}") from None
    assert text is not None
    desk = _desk(ctx)
    (post,) = _posts(desk, [key], None, None)
    try:
        length = desk.edit(post, text, by=_who(by))
    except ReviewError as exc:
        raise BadInput(str(exc)) from None
    print(f"{post.key}: new draft ({length}/{desk.service.limits()[post.channel].max_length}); "
          "approve it with `chronicle approve " + post.key + "`")


def register(app: typer.Typer) -> None:
    app.command("queue")(queue_command)
    app.command("approve")(approve_command)
    app.command("hold")(hold_command)
    app.command("edit-post")(edit_command)


__all__ = ["register"]
