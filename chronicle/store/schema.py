"""The log table, declared once with SQLModel and shared by both databases.

Payload and metadata are stored as canonical JSON text rather than JSONB: the exact bytes
the hash covers are the bytes kept, and appends skip a JSON parse on the server.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from chronicle.store.dialects import dialect_named
from chronicle.store.records import TABLE_NAME

__all__ = ["TABLE_NAME", "EventRecord", "UTCDateTime", "events_table"]


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend, kept as each database keeps them (the store
    dialect's `time_type` and `time_value`: SQLite keeps sortable ISO text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(dialect_named(dialect.name).time_type())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("recorded times must be timezone-aware")
        return dialect_named(dialect.name).time_value(value.astimezone(dt.UTC))

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is None:   # only an edit outside chronicle stores such a time
                raise ValueError(f"{value!r} has no time zone")
            return parsed
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC)


class EventRecord(SQLModel, table=True):
    """One row of the append-only log. Nothing ever updates or deletes it (triggers enforce it)."""

    __tablename__ = TABLE_NAME
    __table_args__ = (
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_chronicle_events_stream"),
        sa.UniqueConstraint("event_id", name="uq_chronicle_events_event_id"),
    )

    position: int = Field(
        sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                            autoincrement=False)
    )
    stream_id: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    stream_version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    event_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid(), nullable=False))
    type: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    schema_version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    recorded_at: dt.datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    payload: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    metadata_json: str = Field(sa_column=sa.Column("metadata", sa.Text(), nullable=False))
    prev_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


events_table: sa.Table = EventRecord.__table__  # type: ignore[attr-defined]
