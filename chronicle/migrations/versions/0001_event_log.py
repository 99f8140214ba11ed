"""The append-only event log with its hash chain and immutability triggers.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from chronicle.store.dialects import dialect_for
from chronicle.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chronicle_events",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_chronicle_events_stream"),
        sa.UniqueConstraint("event_id", name="uq_chronicle_events_event_id"),
    )
    for statement in dialect_for(op.get_bind().engine).immutability_ddl():
        op.execute(statement)


def downgrade() -> None:
    for statement in dialect_for(op.get_bind().engine).drop_immutability_ddl():
        op.execute(statement)
    op.drop_table("chronicle_events")
