"""Database URLs and engines: one place that knows how a URL becomes a configured engine."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from chronicle.store.dialects import StoreDialect, dialect_for


def normalize_url(url: str) -> str:
    """Accept what people type (`postgres://`, a bare file path) and name the driver we ship."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def mask_url(url: str) -> str:
    """The URL as it may be printed: password hidden."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


def create_store_engine(url: str, *, pool_size: int = 5) -> tuple[Engine, StoreDialect]:
    """An engine plus the dialect hooks that were installed on it.

    No `pool_pre_ping`: the PostgreSQL dialect checks a pooled connection more cheaply.
    """
    normalized = normalize_url(url)
    kwargs: dict[str, object] = {}
    if normalized.startswith("postgresql"):
        kwargs = {
            "pool_size": pool_size,
            "connect_args": {"connect_timeout": 5, "application_name": "chronicle"},
        }
    engine = sa.create_engine(normalized, **kwargs)
    dialect = dialect_for(engine)
    dialect.configure(engine)
    return engine, dialect
