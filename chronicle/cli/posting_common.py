"""What the posting commands share: the posting service built from settings, date options."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from chronicle.cli.context import BadInput, app_context, err

if TYPE_CHECKING:  # the posting modules (tweepy, twitter-text) load only when a command runs
    from chronicle.posting.anniversaries import Unposted
    from chronicle.posting.service import PostingService

PostLangs = Annotated[list[str] | None, typer.Option(
    "--lang", help="Only posts in this language (repeatable; default: every language in "
    "posting.languages).")]


def posting_languages(service: PostingService, langs: list[str] | None) -> list[str] | None:
    """The `--lang` values, each one of posting.languages (exit 2 naming them otherwise)."""
    from chronicle.posting.anniversaries import chosen_languages

    if not langs:
        return None
    try:
        return chosen_languages(service.settings.posting, langs)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def say_unposted(unposted: list[Unposted]) -> None:
    """One line per milestone left without a post in a language (on stderr, so --json stays
    one document)."""
    for item in unposted:
        err.print(f"not posted: {item.line()}", markup=False, highlight=False)


def posting_service(ctx: typer.Context) -> PostingService:
    from chronicle.config import ConfigError
    from chronicle.posting.alerts import Alerts
    from chronicle.posting.channels import build_publishers
    from chronicle.posting.clock import clock_from_env
    from chronicle.posting.service import PostingService
    from chronicle.publishers.x import IncompleteXCredentials

    context = app_context(ctx)
    settings = context.settings
    store = context.store()
    try:
        clock = clock_from_env()
        publishers = build_publishers(settings, clock)
        alerts = Alerts.from_env(store, clock)
    except (ValueError, IncompleteXCredentials, ConfigError) as exc:
        raise BadInput(str(exc)) from None
    return PostingService(store, settings, publishers, clock, alerts=alerts)


def parse_date(option: str, value: str) -> dt.date:
    """A YYYY-MM-DD option; a well-formed day that does not exist is named as such."""
    from chronicle.dates import MONTH_NAMES

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    parts = value.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        year, month = int(parts[0]), int(parts[1])
        if not 1 <= month <= 12:
            raise BadInput(f"{option} {value}: that date does not exist (there is no month "
                           f"{month})")
        days = calendar.monthrange(year, month)[1]
        raise BadInput(f"{option} {value}: that date does not exist ({MONTH_NAMES[month - 1]} "
                       f"{year} has {days} days)")
    raise BadInput(f"{option} {value!r}: expected YYYY-MM-DD")
