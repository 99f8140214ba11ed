"""What the operator is warned about, and in which words: posts that need someone.

A draft awaiting approval is announced 7 days, 1 day and 2 hours before it is due (only the
nearest mark already passed, so a scheduler that starts late sends one reminder, not three);
a post held, skipped or failed for good is announced once; so is a channel whose daily
preflight fails. Every alert names the milestone, the channel, the local time and what to do.
The once-only rule and the delivery are :class:`~chronicle.posting.alerts.Alerts`'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from chronicle.config import PostingSettings
from chronicle.posting.alerts import Alert
from chronicle.posting.anniversaries import PlannedPost
from chronicle.publishers import ChannelCheck

APPROVAL_MARKS: tuple[tuple[str, dt.timedelta], ...] = (
    ("2h", dt.timedelta(hours=2)), ("1d", dt.timedelta(days=1)), ("7d", dt.timedelta(days=7)),
)
LOOKAHEAD = APPROVAL_MARKS[-1][1]


def _when(post: PlannedPost, posting: PostingSettings) -> str:
    return f"{post.due_at.astimezone(posting.zone):%Y-%m-%d %H:%M} {posting.timezone}"


def _about(post: PlannedPost, posting: PostingSettings) -> str:
    return (f"{', '.join(post.milestone_ids)} on {post.channel}, due {_when(post, posting)} "
            f"(key {post.key})")


def approval_reminder(post: PlannedPost, now: dt.datetime, posting: PostingSettings
                      ) -> Alert | None:
    """The reminder for an unapproved post, at the nearest mark passed; None before 7 days."""
    left = post.due_at - now
    if left <= dt.timedelta(0):
        return None
    mark = next((label for label, before in APPROVAL_MARKS if left <= before), None)
    if mark is None:
        return None
    return Alert(cause=f"approval-{mark}-{post.key}",
                 title=f"Post awaits approval: {', '.join(post.milestone_ids)} ({post.channel})",
                 body=f"{_about(post, posting)} is not approved. Review it with `chronicle queue`, "
                 f"then `chronicle approve {post.key}` (or edit it with `chronicle edit-post`). "
                 "Unapproved, it is held at its time.")


def outcome_alert(post: PlannedPost, outcome: str, detail: str | None,
                  posting: PostingSettings) -> Alert:
    """A post that stopped: held, skipped, or failed for good."""
    todo = {
        "held": f"approve it with `chronicle approve {post.key}` within the grace window "
                f"({posting.grace_hours:g} h) and it goes out at once",
        "skipped": "it will not be sent; `chronicle queue` shows why",
        "failed": "it will not be retried; fix the channel (`chronicle preflight`), then "
                  f"`chronicle post --date {post.local_date.isoformat()} --channel {post.channel}`",
    }[outcome]
    return Alert(cause=f"{outcome}-{post.key}",
                 title=f"Post {outcome}: {', '.join(post.milestone_ids)} ({post.channel})",
                 body=f"{_about(post, posting)} was {outcome}"
                 f"{f' ({detail})' if detail else ''}: {todo}.")


def preflight_alerts(checks: Iterable[ChannelCheck], day: dt.date) -> list[Alert]:
    """One alert per channel whose check failed, once per day."""
    return [Alert(cause=f"preflight-{day.isoformat()}-{check.channel}",
                  title=f"Channel not ready: {check.channel}",
                  body=f"The daily preflight of {check.channel} failed: {check.detail}. "
                  "Fix its credentials or configuration and run `chronicle preflight`.")
            for check in checks if not check.ok]
