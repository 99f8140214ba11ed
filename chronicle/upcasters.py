"""Upcasters of the domain's event payloads: old shapes stay in the log, code reads one shape.

Version 1 of `MilestoneRecorded` and `MilestoneRevised` stored a milestone's date as the
text written in the YAML file (`"c. 1899"`, `"2019-07-30/2019-08-02"`); version 2 stores the
structured form (`{"date", "end", "precision", "circa"}`) so readers need not parse.
"""

from __future__ import annotations

from typing import Any

from chronicle.dates import HistoricalDate
from chronicle.store.upcasting import Upcasters, use_by_default

UPCASTERS = use_by_default(Upcasters())
"""The domain's upcasters, also what `open_store` uses when given none."""


def _structured_date(value: Any) -> Any:
    if isinstance(value, str):
        return HistoricalDate.parse(value).to_json()
    return value


@UPCASTERS.register("MilestoneRecorded", 1)
def _recorded_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "date": _structured_date(payload["date"])}


@UPCASTERS.register("MilestoneRevised", 1)
def _revised_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    changes = dict(payload["changes"])
    if "date" in changes:
        changes["date"] = _structured_date(changes["date"])
    return {**payload, "changes": changes}
