"""Index recorded times, so `--as-of DATE` finds its position without a scan.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_chronicle_events_recorded_at", "chronicle_events", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_chronicle_events_recorded_at", table_name="chronicle_events")
