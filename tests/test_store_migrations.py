"""Migrations that mean the same forever (issue 15): each revision's DDL is frozen in its file.

A database built at any revision and upgraded to head has the schema and the append function
of a database built at head, on SQLite and PostgreSQL; and today's append function is the
newest revision's, so changing it takes a new revision.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chronicle.store import migrate, pgappend
from chronicle.store.dialects import StoreDialect
from chronicle.store.engine import create_store_engine
from tests.conftest import fresh_schema

REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006"]
MIGRATIONS = "chronicle.migrations.versions"


def schema_of(engine: Engine) -> dict[str, object]:
    """Everything a migration creates: tables, columns, indexes, triggers, functions."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all()
            return {"objects": [tuple(row) for row in found],
                    "revision": migrate.current_revision(engine)}
        inspector = sa.inspect(conn)
        tables = {
            name: {"columns": [(c["name"], str(c["type"]), c["nullable"])
                               for c in inspector.get_columns(name)],
                   "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"])
                                     for i in inspector.get_indexes(name)),
                   "unique": sorted((u["name"], tuple(u["column_names"]))
                                    for u in inspector.get_unique_constraints(name)),
                   "primary": inspector.get_pk_constraint(name)["constrained_columns"]}
            for name in sorted(inspector.get_table_names())}
        schema = "current_schema()"
        triggers = conn.exec_driver_sql(
            "SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON "
            f"c.oid = t.tgrelid WHERE c.relnamespace = {schema}::regnamespace "
            "AND NOT tgisinternal ORDER BY tgname").all()
        functions = conn.exec_driver_sql(
            "SELECT proname, pg_get_functiondef(p.oid) FROM pg_proc p "
            f"WHERE pronamespace = {schema}::regnamespace ORDER BY proname").all()
        return {"tables": tables,
                "triggers": [(name, _unqualified(text)) for name, text in triggers],
                "functions": {name: _unqualified(body) for name, body in functions},
                "revision": migrate.current_revision(engine)}


def _unqualified(text: str) -> str:
    """Without the test's own schema name (each database here is a fresh schema)."""
    return re.sub(r"\bt_[0-9a-f]{12}\.", "", text)


def built_at(url: str, revision: str) -> tuple[Engine, StoreDialect]:
    engine, dialect = create_store_engine(url)
    migrate.upgrade(engine, dialect, revision=revision)
    assert migrate.current_revision(engine) == revision
    return engine, dialect


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases of one kind."""
    names = iter(range(100))
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            yield lambda: f"sqlite:///{tmp_path / f'db{next(names)}.db'}"
        else:
            server = request.getfixturevalue("postgres_server")
            yield lambda: stack.enter_context(fresh_schema(server))


def test_a_database_made_at_any_revision_upgrades_to_the_fresh_head(
        fresh_url: Callable[[], str]) -> None:
    head, _ = built_at(fresh_url(), migrate.HEAD_REVISION)
    expected = schema_of(head)
    head.dispose()
    assert expected["revision"] == migrate.HEAD_REVISION == migrate.head_revision()
    if "functions" in expected:
        functions = expected["functions"]
        assert isinstance(functions, dict) and "chronicle_events_append" in functions
        assert "force_custom_plan" not in functions["chronicle_events_append"]
    for revision in REVISIONS:
        engine, dialect = built_at(fresh_url(), revision)
        try:
            migrate.upgrade(engine, dialect)
            assert schema_of(engine) == expected, f"made at {revision}, upgraded to head"
        finally:
            engine.dispose()


def test_the_append_function_in_the_code_is_the_newest_revisions() -> None:
    newest = importlib.import_module(f"{MIGRATIONS}.0006_append_function_one_event")
    assert newest.CREATE == pgappend.CREATE, (
        "chronicle/store/pgappend.py changed: freeze the new function in a new revision")
    assert REVISIONS[-1] == migrate.HEAD_REVISION


def test_revisions_do_not_call_todays_code() -> None:
    for revision in REVISIONS:
        module = importlib.import_module(
            next(f"{MIGRATIONS}.{name}" for name in _version_modules() if name.startswith(
                revision)))
        source = open(module.__file__, encoding="utf-8").read()  # noqa: SIM115
        assert "from chronicle" not in source and "import chronicle" not in source, revision


def _version_modules() -> list[str]:
    import pkgutil

    import chronicle.migrations.versions as versions

    return sorted(m.name for m in pkgutil.iter_modules(versions.__path__))
