"""Upcasters of the domain's event payloads: old shapes in the log, current shapes in code."""

from __future__ import annotations

from chronicle.store.upcasting import Upcasters

UPCASTERS = Upcasters()
