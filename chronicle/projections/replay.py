"""Throwaway read models: the chronicle as it was known at a position, and replay comparisons."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from chronicle.projections.projector import Projector
from chronicle.projections.readmodels import ReadModels, dump
from chronicle.store import SqlEventStore


def replay_in_memory(store: SqlEventStore, upto: int | None = None) -> tuple[Projector, ReadModels]:
    """Replay the log (up to a position) into a private in-memory SQLite database."""
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    projector = Projector(store, engine=engine)
    projector.prepare()
    projector.catch_up(upto=upto if upto is not None else store.head())
    return projector, ReadModels(engine)


def compare_with_replay(store: SqlEventStore) -> list[str]:
    """Differences between the live read models and a fresh replay of the same positions."""
    live = Projector(store)
    live.prepare()
    live.catch_up()  # every projection at one position, so each table compares like for like
    position = live.position()
    fresh, _ = replay_in_memory(store, upto=position)
    tables = [table for p in live.projections for table in p.tables()]
    ours, theirs = dump(store.engine, tables), dump(fresh.engine, tables)
    problems = []
    for table in tables:
        a, b = ours[table.name], theirs[table.name]
        if a != b:
            only_live = len(set(a) - set(b))
            only_replay = len(set(b) - set(a))
            problems.append(f"{table.name}: {only_live} row(s) only in the live read model, "
                            f"{only_replay} only in the replay (at position {position})")
    return problems
