"""PostgreSQL: the append as one server-side function call (chronicle/store/pgappend.py).

A single-event append took four round trips and now takes one; SQLite has nothing to create.

Revision ID: 0004
"""

from alembic import op

from chronicle.store.dialects import dialect_for

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in dialect_for(op.get_bind().engine).append_function_ddl():
        op.get_bind().exec_driver_sql(statement)  # as written: no bind-parameter parsing


def downgrade() -> None:
    for statement in dialect_for(op.get_bind().engine).drop_append_function_ddl():
        op.get_bind().exec_driver_sql(statement)  # as written: no bind-parameter parsing
