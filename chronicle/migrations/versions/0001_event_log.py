"""The append-only event log with its hash chain and immutability triggers.

Frozen: the DDL below is this revision's own text, never today's code (a test builds a database
at every revision, upgrades it and compares it with a fresh head).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# UTC times: ISO text on SQLite, timestamptz on PostgreSQL (chronicle.store.schema.UTCDateTime).
RECORDED_AT = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")

IMMUTABILITY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS chronicle_events_no_update BEFORE UPDATE ON "
        "chronicle_events BEGIN SELECT RAISE(ABORT, 'chronicle_events is append-only: UPDATE "
        "refused'); END",
        "CREATE TRIGGER IF NOT EXISTS chronicle_events_no_delete BEFORE DELETE ON "
        "chronicle_events BEGIN SELECT RAISE(ABORT, 'chronicle_events is append-only: DELETE "
        "refused'); END",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION chronicle_events_refuse_change() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'chronicle_events is append-only: % refused', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END $$""",
        "CREATE TRIGGER chronicle_events_no_change BEFORE UPDATE OR DELETE ON chronicle_events "
        "FOR EACH ROW EXECUTE FUNCTION chronicle_events_refuse_change()",
        "CREATE TRIGGER chronicle_events_no_truncate BEFORE TRUNCATE ON chronicle_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION chronicle_events_refuse_change()",
    ],
}
DROP_IMMUTABILITY = {
    "sqlite": ["DROP TRIGGER IF EXISTS chronicle_events_no_update",
               "DROP TRIGGER IF EXISTS chronicle_events_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS chronicle_events_no_change ON chronicle_events",
                   "DROP TRIGGER IF EXISTS chronicle_events_no_truncate ON chronicle_events",
                   "DROP FUNCTION IF EXISTS chronicle_events_refuse_change()"],
}


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
        sa.Column("recorded_at", RECORDED_AT, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_chronicle_events_stream"),
        sa.UniqueConstraint("event_id", name="uq_chronicle_events_event_id"),
    )
    for statement in IMMUTABILITY[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_IMMUTABILITY[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("chronicle_events")
