"""Database URLs and engines: one place that knows how a URL becomes a configured engine."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from chronicle.store.dialects import StoreDialect, dialect_for
from chronicle.store.records import InvalidDatabaseUrl

SUPPORTED = "sqlite:///PATH or postgresql://USER@HOST/DB"
POSTGRES_EXTRA = "pip install 'chronicle[postgres]'"
_SECRET_QUERY_KEYS = re.compile(r"pass(word)?|secret|token|key", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """Accept `postgres://` and name the driver we ship; refuse a URL without a scheme (a
    typo such as `bob:pw@host` must not become a SQLite file of that name)."""
    if "://" not in url:
        raise InvalidDatabaseUrl(f"database URL {mask_url_text(url)!r} has no scheme: "
                                 f"write {SUPPORTED}")
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def mask_url_text(text: str) -> str:
    """Best effort for text that is not a URL: hide anything between ':' and '@'."""
    return re.sub(r":[^:@/]*@", ":***@", text)


def _masked(url: URL) -> str:
    query = {name: ("***" if _SECRET_QUERY_KEYS.fullmatch(name) else value)
             for name, value in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def mask_url(url: str) -> str:
    """The URL as it may be printed: the password hidden, in the userinfo or the query
    (`?password=`)."""
    try:
        return _masked(make_url(normalize_url(url)))
    except (sa.exc.ArgumentError, InvalidDatabaseUrl, ValueError):
        return "<unparseable database URL>"


def parse_url(url: str) -> URL:
    """The URL as SQLAlchemy reads it; InvalidDatabaseUrl (one line, password hidden) if not."""
    normalized = normalize_url(url)
    try:
        parsed = make_url(normalized)
        parsed.port  # noqa: B018 - a malformed host ("[::1") only fails when the port is read
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InvalidDatabaseUrl(f"database URL {mask_url_text(url)!r} is malformed ({exc}); "
                                 f"write {SUPPORTED}") from None
    return parsed


def supported_url(url: str) -> URL:
    """The URL parsed, or InvalidDatabaseUrl when the store cannot use it (no scheme,
    malformed, another database), with no I/O: `serve` asks before it binds its port, so a bad
    URL is named whatever the port's state. A missing driver is found by `create_store_engine`."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidDatabaseUrl(f"database URL {_masked(parsed)}: {backend} is not supported; "
                                 f"write {SUPPORTED}")
    return parsed


def create_store_engine(url: str, *, pool_size: int = 5) -> tuple[Engine, StoreDialect]:
    """An engine plus the dialect hooks that were installed on it.

    No `pool_pre_ping`: the PostgreSQL dialect checks a pooled connection more cheaply.
    """
    parsed = supported_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, object] = {}
    if backend == "postgresql":
        kwargs = {
            "pool_size": pool_size,
            "connect_args": {"connect_timeout": 5, "application_name": "chronicle"},
        }
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ImportError as exc:
        hint = POSTGRES_EXTRA if backend == "postgresql" else f"write {SUPPORTED}"
        raise InvalidDatabaseUrl(f"database URL {_masked(parsed)}: its driver is not installed "
                                 f"({exc.name or exc}): {hint}") from None
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InvalidDatabaseUrl(f"database URL {_masked(parsed)} is malformed ({exc}); "
                                 f"write {SUPPORTED}") from None
    dialect = dialect_for(engine)
    dialect.configure(engine)
    return engine, dialect
