"""The projection contract: a named, versioned read model fed by log events in batches."""

from __future__ import annotations

import abc
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from chronicle.store import StoredEvent


class Projection(abc.ABC):
    """A read model. `apply` runs in the projector's transaction, with the checkpoint update.

    Bump `version` whenever the tables or the way events map onto them change: the projector
    then drops and rebuilds this projection on start.
    """

    name: str
    version: int

    @abc.abstractmethod
    def tables(self) -> Sequence[sa.Table]:
        """The tables this projection owns (created, dropped and dumped as a unit)."""

    @abc.abstractmethod
    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Apply a batch of events, oldest first, to the tables through `conn`."""
