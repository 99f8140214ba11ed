"""Schema creation and upgrades of the log, with Alembic, from migrations shipped in the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from chronicle.store.dialects import StoreDialect


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "chronicle:migrations")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, dialect: StoreDialect, revision: str = "head"
            ) -> tuple[str | None, str]:
    """Bring the log's schema to `revision`; safe when several processes start at once."""
    with dialect.migration_lock(engine):
        before = current_revision(engine)
        config = _alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return before, current_revision(engine) or ""
