"""`run_write` tries a write once without its retry policies and hands a failure to them: the
attempts, the give-ups and the log lines are those the policies alone gave."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.store import sql
from chronicle.store.records import StoreUnavailable

BUSY = sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
LOST = sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"),
                               connection_invalidated=True)
DOWN = sa.exc.OperationalError("INSERT", {}, Exception("no route to host"))


class Flaky:
    """A write that raises the given errors in turn, then returns how often it ran."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, _conn: Connection) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.calls


@pytest.fixture
def engine(tmp_path: Path) -> sa.engine.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")


def test_a_write_that_succeeds_runs_once(engine: sa.engine.Engine) -> None:
    assert sql.run_write(engine, Flaky()) == 1


def test_a_busy_database_is_retried_until_the_write_goes_through(
        engine: sa.engine.Engine) -> None:
    assert sql.run_write(engine, Flaky(BUSY, BUSY, BUSY)) == 4


def test_a_busy_database_is_given_up_after_the_same_number_of_attempts(
        engine: sa.engine.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "LOCKED_RETRIES", 3)
    work = Flaky(*[BUSY] * 5)
    with pytest.raises(StoreUnavailable, match="database is locked"):
        sql.run_write(engine, work)
    assert work.calls == 3


def test_a_lost_connection_is_retried_once_for_idempotent_work_only(
        engine: sa.engine.Engine, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="chronicle.store.sql"):
        assert sql.run_write(engine, Flaky(LOST), idempotent=True) == 2
    assert "retrying the write" in caplog.text
    twice = Flaky(LOST, LOST)
    with pytest.raises(StoreUnavailable):
        sql.run_write(engine, twice, idempotent=True)
    assert twice.calls == 2
    once = Flaky(LOST)
    with pytest.raises(StoreUnavailable):
        sql.run_write(engine, once)
    assert once.calls == 1


def test_other_failures_are_not_retried(engine: sa.engine.Engine) -> None:
    work = Flaky(DOWN)
    with pytest.raises(StoreUnavailable, match="no route to host"):
        sql.run_write(engine, work, idempotent=True)
    assert work.calls == 1
    with pytest.raises(ValueError):
        sql.run_write(engine, Flaky(ValueError("a bug")))
