"""Log rows as they are stored, checked link by link, and their JSON-lines form.

A copied row is the stored row itself (position, ids, recorded time, payload and metadata
text, both hashes): nothing is re-encoded, so the hash chain stays valid on every database.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from chronicle.store.hashing import GENESIS_HASH, format_recorded_at, row_hash

Row = dict[str, Any]
"""One stored row keyed by column name (`metadata`, not `metadata_json`)."""

COLUMNS = ("position", "stream_id", "stream_version", "event_id", "type", "schema_version",
           "recorded_at", "payload", "metadata", "prev_hash", "hash")
_INTS = ("position", "stream_version", "schema_version")
_TEXTS = ("stream_id", "type", "payload", "metadata", "prev_hash", "hash")


class ReplicationError(Exception):
    """Base of the refusals of copy, import and backup; the message says what to do."""


class ChainBroken(ReplicationError):
    """A row does not continue the chain: edited, missing, reordered or from another log."""

    def __init__(self, position: int, reason: str, line: int | None = None) -> None:
        self.position = position
        self.reason = reason
        self.line = line
        where = f"line {line} (position {position})" if line is not None else f"position {position}"
        super().__init__(f"{where}: {reason}")


class UnreadableEvent(ReplicationError):
    """A row this version cannot read (a newer version's event, a payload the domain refuses).

    Written to the append-only log it would stop every reader there for good, so it is refused.
    """

    def __init__(self, position: int, reason: str, line: int | None = None,
                 where: str = "") -> None:
        self.position = position
        self.reason = reason
        self.line = line
        at = f"line {line} (position {position})" if line is not None else f"position {position}"
        super().__init__(f"{where}{at}: this version cannot read the event: {reason}")


class NotAPrefix(ReplicationError):
    """The target already holds events that are not the beginning of the source's log."""


@dataclass
class ChainChecker:
    """Follows a chain row by row from a known link (the genesis, or a target's head).

    `contents=False` checks positions and links only: for a source already verified.
    `key` is the log's chain key (None: a plain log); start a keyed log's checker with
    `last_hash=genesis_hash(key)`.
    """

    position: int = 0
    last_hash: str = GENESIS_HASH
    contents: bool = True
    key: bytes | None = None

    def check(self, row: Row, line: int | None = None) -> None:
        position = row["position"]
        if position != self.position + 1:
            raise ChainBroken(position, f"expected position {self.position + 1} here "
                              f"(a row is missing, repeated or out of order)", line)
        if row["prev_hash"] != self.last_hash:
            raise ChainBroken(position, "its prev_hash does not match the hash of the row "
                              "before", line)
        if self.contents and row_hash(row, self.key) != row["hash"]:
            raise ChainBroken(position, "its content does not match its hash (the row was "
                              "edited)", line)
        self.position, self.last_hash = position, row["hash"]


def to_json_line(row: Row) -> str:
    """Every column; payload and metadata as their stored text, so the hash can be rechecked."""
    record = dict(row)
    record["event_id"] = str(row["event_id"])
    record["recorded_at"] = format_recorded_at(row["recorded_at"])
    return json.dumps({name: record[name] for name in COLUMNS}, ensure_ascii=False)


def from_json_line(text: str, line: int) -> Row:
    """Parse one exported line, refusing anything that is not exactly one stored row."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChainBroken(0, f"not JSON ({exc.msg})", line) from None
    if not isinstance(record, dict) or set(record) != set(COLUMNS):
        raise ChainBroken(0, f"not a log row: expected exactly the keys {', '.join(COLUMNS)}",
                          line)
    position = record["position"]
    where = position if isinstance(position, int) else 0
    bad = [name for name in _INTS if type(record[name]) is not int]
    bad += [name for name in (*_TEXTS, "event_id", "recorded_at")
            if not isinstance(record[name], str)]
    if bad:
        raise ChainBroken(where, f"wrong type for {', '.join(bad)}", line)
    try:
        record["event_id"] = uuid.UUID(record["event_id"])
        recorded_at = dt.datetime.fromisoformat(record["recorded_at"])
    except ValueError as exc:
        raise ChainBroken(where, f"bad event_id or recorded_at ({exc})", line) from None
    if recorded_at.tzinfo is None:
        raise ChainBroken(where, "recorded_at has no time zone", line)
    record["recorded_at"] = recorded_at.astimezone(dt.UTC)
    for name in ("payload", "metadata"):
        if not isinstance(_json_or_none(record[name]), dict):
            raise ChainBroken(where, f"{name} is not the text of a JSON object", line)
    return record


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
