"""Schema creation and upgrades of the log, with Alembic, from migrations shipped in the package.

Opening a store only compares the recorded revision with HEAD_REVISION (one query); Alembic
itself is imported only when there is something to upgrade, which keeps every command fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chronicle.store.dialects import StoreDialect

if TYPE_CHECKING:
    from alembic.config import Config

HEAD_REVISION = "0006"
"""The newest migration in chronicle/migrations/versions (a test checks it against Alembic)."""


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "chronicle:migrations")
    return config


def head_revision() -> str:
    """The head according to Alembic's scripts (slow: imports Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database; None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, dialect: StoreDialect, revision: str = "head"
            ) -> tuple[str | None, str]:
    """Bring the log's schema to `revision`; safe when several processes start at once."""
    from alembic import command

    with dialect.migration_lock(engine):
        before = current_revision(engine)
        config = _alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return before, current_revision(engine) or ""
