"""Read-model tables (SQLModel). Disposable: dropped and rebuilt from the log at will.

They live in the log's database so a projector commits its rows and its checkpoint in
one transaction. Unlike the log they are not migrated: a change bumps the projection's
version and the projector rebuilds it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from chronicle.store.schema import UTCDateTime

# A table whose primary key is its only lookup is stored as that key's B-tree on SQLite
# (WITHOUT ROWID): one tree to write per row instead of a rowid table and the key's index.
CLUSTERED = {"sqlite_with_rowid": False}
# A key that SQLite stores as the rowid itself (only INTEGER PRIMARY KEY is its alias, not
# BIGINT): the table is then one B-tree, in the key's order. BIGINT elsewhere.
ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HISTORY_INDEX = "ix_rm_history_milestone_position"


def _utc() -> sa.Column[dt.datetime]:
    return sa.Column(UTCDateTime(), nullable=False)


class CheckpointRow(SQLModel, table=True):
    """How far each projection has applied the log, and which code version built it."""

    __tablename__ = "chronicle_checkpoints"
    name: str = Field(primary_key=True, max_length=100)
    version: int
    position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


class MilestoneRow(SQLModel, table=True):
    __tablename__ = "rm_milestones"
    id: str = Field(primary_key=True, max_length=80)
    title: str
    sort_key: str = Field(index=True, max_length=64)
    precision: str = Field(max_length=8)
    year_start: int = Field(index=True)
    year_end: int
    month_day: str | None = Field(default=None, max_length=5)
    payload: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    recorded_at: dt.datetime = Field(sa_column=_utc())
    updated_at: dt.datetime = Field(sa_column=_utc())
    recorded_position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False,
                                                       index=True))
    updated_position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    revisions: int


class MilestoneTagRow(SQLModel, table=True):
    __tablename__ = "rm_milestone_tags"
    __table_args__ = (sa.Index("ix_rm_milestone_tags_tag_pos", "tag", "recorded_position"),
                      CLUSTERED)
    milestone_id: str = Field(primary_key=True, max_length=80)
    tag: str = Field(primary_key=True, max_length=80)
    recorded_position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


class OnThisDayRow(SQLModel, table=True):
    """Day-precision milestones by month-day ("01-27"): the anniversaries index."""

    __tablename__ = "rm_on_this_day"
    __table_args__ = CLUSTERED
    month_day: str = Field(primary_key=True, max_length=5)
    milestone_id: str = Field(primary_key=True, max_length=80)


class HistoryRow(SQLModel, table=True):
    """One row per event of a live milestone, keyed by the event's position: positions only
    grow, so a batch's rows go at the end of the table's tree (SQLite's rowid) instead of
    among every milestone's; the lookups by milestone take the (milestone_id, position) index,
    which a rebuild creates at the end (see MilestonesProjection.restore_index).
    """

    __tablename__ = "rm_history"
    __table_args__ = (sa.Index(HISTORY_INDEX, "milestone_id", "position"),)
    milestone_id: str = Field(max_length=80)
    position: int = Field(sa_column=sa.Column(ROWID, primary_key=True, autoincrement=False))
    type: str = Field(max_length=40)
    recorded_at: dt.datetime = Field(sa_column=_utc())
    reason: str | None = None
    changes: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    previous: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # old values of `changes`


class RetractedRow(SQLModel, table=True):
    __tablename__ = "rm_retracted"
    id: str = Field(primary_key=True, max_length=80)
    title: str
    reason: str
    retracted_at: dt.datetime = Field(sa_column=_utc())
    position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    # When the withdrawn milestone was first recorded: its slot in the feeds' archive pages.
    recorded_at: dt.datetime = Field(sa_column=_utc())
    recorded_position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


class SearchRow(SQLModel, table=True):
    """What full-text search reads of a live milestone; the index itself is the database's
    (FTS5 or tsvector, see chronicle.projections.fulltext), kept in step by its DDL."""

    __tablename__ = "rm_search"
    milestone_id: str = Field(primary_key=True, max_length=80)
    title: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


def table(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


checkpoints = table(CheckpointRow)
milestones = table(MilestoneRow)
milestone_tags = table(MilestoneTagRow)
on_this_day = table(OnThisDayRow)
history = table(HistoryRow)
retracted = table(RetractedRow)
search = table(SearchRow)
