"""Is every row readable by this version? Decode and fold each stream before a row is written.

The log is append-only: a row this code cannot read (a newer version's schema, a payload
without `title`, a retraction of an id never recorded) would stay in it forever and stop every
reader at that position. Imports and copies therefore run each row through the same decoding
the readers use — known type and schema version after upcasting, the domain's own validation,
and the fold of its stream — and refuse the first row that fails, before writing anything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chronicle.domain import (
    DomainError,
    MilestoneEvent,
    MilestoneRecorded,
    MilestoneRetracted,
    MilestoneState,
    event_from_stored,
    stream_id,
)
from chronicle.fieldchecks import text_problems
from chronicle.posting.events import (
    ALERT_EVENT_TYPES,
    ALERT_STREAM_PREFIX,
    CLAIMED,
    FAILED,
    POST_EVENT_TYPES,
    POST_STREAM_PREFIX,
    PUBLISHED,
)
from chronicle.repository import MILESTONE_STREAM_PREFIX
from chronicle.store import Upcasters
from chronicle.upcasters import UPCASTERS

POST_SCHEMA_VERSION = 1
_TEXT = (str,)
_OPTIONAL_TEXT = (str, type(None))
# Post payload fields the posts read model and the posting service read, with their types and
# the lengths of the read model's columns (PostgreSQL refuses a longer value).
_POST_COMMON: dict[str, tuple[tuple[type, ...], int | None]] = {
    "key": (_TEXT, 200), "channel": (_TEXT, 20), "local_date": (_TEXT, None),
    "milestone_ids": ((list,), None),
}
_POST_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], int | None]]] = {
    CLAIMED: {"text": (_TEXT, None), "attempt": ((int,), None),
              "claimed_at": (_OPTIONAL_TEXT, None), "due_at": (_OPTIONAL_TEXT, None)},
    PUBLISHED: {"remote_id": (_OPTIONAL_TEXT, 100), "url": (_OPTIONAL_TEXT, 300),
                "published_at": (_OPTIONAL_TEXT, None)},
    FAILED: {"permanent": ((bool,), None), "retry_at": (_OPTIONAL_TEXT, None),
             "error": (_OPTIONAL_TEXT, None)},
}
_POST_OPTIONAL: dict[str, tuple[tuple[type, ...], int | None]] = {
    "reason": (_OPTIONAL_TEXT, None), "due_at": (_OPTIONAL_TEXT, None),
    "published_at": (_OPTIONAL_TEXT, None), "retry_at": (_OPTIONAL_TEXT, None),
}
_TIMES = ("claimed_at", "due_at", "published_at", "retry_at", "failed_at", "skipped_at")


class UnreadableRow(ValueError):
    """A row this version cannot read; `reason` says why in a few words."""

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"position {position}: {reason}")


@dataclass
class ReadabilityChecker:
    """Follows every stream of a log row by row, as this version's readers would read it.

    Feed it the rows in log order, from position 1 (or seed it with the rows already in the
    target first): the fold of a stream needs its earlier events.
    """

    upcasters: Upcasters = field(default_factory=lambda: UPCASTERS)
    other_streams: bool = False
    """Let rows of streams that are neither milestone nor post streams pass (the readers
    ignore them): for `verify`, which names what stops a reader. Imports refuse them."""
    milestones: dict[str, MilestoneState] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    post_keys: dict[str, str] = field(default_factory=dict)

    def check(self, row: Mapping[str, Any]) -> None:
        """Raise UnreadableRow if this version cannot read `row` after the rows before it."""
        position = row["position"]
        try:
            self._check(row)
        except UnreadableRow:
            raise
        except (DomainError, ValueError, LookupError, TypeError, AttributeError) as exc:
            raise UnreadableRow(position, _describe(exc)) from None

    def _check(self, row: Mapping[str, Any]) -> None:
        position, stream, type_ = row["position"], row["stream_id"], row["type"]
        expected = self.versions.get(stream, 0) + 1
        if row["stream_version"] != expected:
            raise UnreadableRow(position, f"stream {stream!r} expects version {expected} here, "
                                f"not {row['stream_version']}")
        payload = row["payload"]
        if isinstance(payload, str):
            payload = json.loads(payload)
        try:
            version, payload = self.upcasters.upcast(type_, row["schema_version"], payload)
        except Exception as exc:  # an upcaster refusing an old payload, whatever it raises
            raise UnreadableRow(position, f"{type_} version {row['schema_version']} cannot be "
                                f"upcast: {_describe(exc)}") from None
        if not isinstance(payload, dict):
            raise UnreadableRow(position, "the payload is not a JSON object")
        if stream.startswith(MILESTONE_STREAM_PREFIX):
            self._milestone(position, stream, type_, version, payload)
        elif stream.startswith(POST_STREAM_PREFIX):
            self._post(position, stream, type_, version, payload)
        elif stream.startswith(ALERT_STREAM_PREFIX):
            _alert(position, type_, payload)
        elif not self.other_streams:
            raise UnreadableRow(position, f"stream {stream!r} is of no kind this version knows "
                                f"(known: {MILESTONE_STREAM_PREFIX}…, {POST_STREAM_PREFIX}…, "
                                f"{ALERT_STREAM_PREFIX}…)")
        self.versions[stream] = expected

    def _milestone(self, position: int, stream: str, type_: str, version: int,
                   payload: dict[str, Any]) -> None:
        event: MilestoneEvent = event_from_stored(type_, payload, schema_version=version)
        if stream != stream_id(event.milestone_id):
            raise UnreadableRow(position, f"{type_} of {event.milestone_id!r} in stream "
                                f"{stream!r}")
        state = self.milestones.get(stream) or MilestoneState.initial()
        if state.retracted is not None:
            raise UnreadableRow(position, f"{type_} of {event.milestone_id!r} after its "
                                "retraction")
        if not isinstance(event, MilestoneRecorded):
            _require_reason(position, event.reason)
        state = state.apply(event)
        if not isinstance(event, MilestoneRetracted) and state.milestone is not None:
            problems = state.milestone.validate()
            if problems:
                listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
                raise UnreadableRow(position, f"{type_} of {event.milestone_id!r}: {listed}")
        self.milestones[stream] = state

    def _post(self, position: int, stream: str, type_: str, version: int,
              payload: dict[str, Any]) -> None:
        if type_ not in POST_EVENT_TYPES:
            known = ", ".join(sorted(POST_EVENT_TYPES))
            raise UnreadableRow(position, f"unknown event type {type_!r} (known: {known})")
        if version != POST_SCHEMA_VERSION:
            raise UnreadableRow(position, f"{type_} schema version {version} is not readable "
                                f"(this code reads version {POST_SCHEMA_VERSION})")
        _check_fields(position, type_, payload, _POST_COMMON, required=True)
        _check_fields(position, type_, payload, _POST_FIELDS.get(type_, {}), required=True)
        _check_fields(position, type_, payload, _POST_OPTIONAL, required=False)
        dt.date.fromisoformat(payload["local_date"])
        for name in _TIMES:
            if isinstance(payload.get(name), str):
                dt.datetime.fromisoformat(payload[name])
        if not all(isinstance(m, str) for m in payload["milestone_ids"]):
            raise UnreadableRow(position, f"{type_}: milestone_ids must be a list of texts")
        key = self.post_keys.setdefault(stream, payload["key"])
        if key != payload["key"]:
            raise UnreadableRow(position, f"{type_} of post {payload['key']!r} in the stream of "
                                f"post {key!r}")

    def check_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """`check` each row in order."""
        for row in rows:
            self.check(row)


def _alert(position: int, type_: str, payload: Mapping[str, Any]) -> None:
    """An operator alert: only its cause is read back (to send each cause once)."""
    if type_ not in ALERT_EVENT_TYPES:
        known = ", ".join(sorted(ALERT_EVENT_TYPES))
        raise UnreadableRow(position, f"unknown event type {type_!r} (known: {known})")
    _check_fields(position, type_, payload, {"cause": (_TEXT, None)}, required=True)


def _check_fields(position: int, type_: str, payload: Mapping[str, Any],
                  wanted: Mapping[str, tuple[tuple[type, ...], int | None]], *,
                  required: bool) -> None:
    for name, (types, longest) in wanted.items():
        if name not in payload:
            if required:
                raise UnreadableRow(position, f"{type_} payload lacks {name!r}")
            continue
        value = payload[name]
        if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
            raise UnreadableRow(position, f"{type_}: {name} has the wrong type "
                                f"({type(value).__name__})")
        if longest is not None and isinstance(value, str) and len(value) > longest:
            raise UnreadableRow(position, f"{type_}: {name} is longer than {longest} characters")


def _require_reason(position: int, reason: object) -> None:
    problems = text_problems("reason", reason, required=True, multiline=True)
    if problems:
        raise UnreadableRow(position, "; ".join(f"{p.field}: {p.message}" for p in problems))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    if isinstance(exc, KeyError):
        return f"missing {text[0] if text else 'a field'}"
    return text[0] if text else type(exc).__name__
