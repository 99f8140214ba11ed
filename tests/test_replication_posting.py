"""A log holding the whole posting review and operator alerts copies and imports as it is.

The import check refuses what this version cannot read; it must never refuse what this version
itself writes: drafts, holds with an editor's long reason, skips, and alert streams.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chronicle.posting import service as svc
from chronicle.posting.alerts import Alert, Alerts
from chronicle.posting.clock import FixedClock
from chronicle.posting.review import ReviewDesk
from chronicle.store import SqlEventStore
from tests.conftest import run_cli
from tests.test_posting_support import RELATIONS, record_all, relations, service_for, settings_for

DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)  # 09:00 in Ulaanbaatar
KEY = f"{RELATIONS}/2027/outbox"
LONG_REASON = "the press office wants the minister's quote checked against the signed text " * 2


def test_a_reviewed_held_skipped_and_alerted_log_round_trips(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    record_all(store, [relations()])
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE - dt.timedelta(hours=1))
    service = service_for(store, settings, clock)
    desk = ReviewDesk(service)
    desk.hold(desk.find(KEY), LONG_REASON.strip(), by="editor")
    clock.current = DUE + dt.timedelta(hours=7)
    (skipped,) = service.post_due()
    assert skipped.outcome == svc.SKIPPED
    # An alert target nobody listens on: the cause is raised and its delivery fails, on record.
    alerts = Alerts(store, ["json://127.0.0.1:9/"], clock)
    assert not alerts.send(Alert(cause="held/2027/outbox", title="Held", body="A post is held"))
    types = {e.type for e in store.read_all()}
    assert {"AnniversaryPostHeld", "AnniversaryPostSkipped",
            "OperatorAlertRaised", "OperatorAlertFailed"} <= types, types

    exported = run_cli("--database-url", db_url, "export-log")
    assert exported.code == 0, exported.stderr
    target = f"sqlite:///{tmp_path / 'imported.db'}"
    imported = run_cli("--database-url", target, "import-log", "-", input_text=exported.stdout)
    assert imported.code == 0, imported.stderr
    count = len(exported.stdout.splitlines())
    assert f"{count}" in imported.stdout + imported.stderr
    verified = run_cli("--database-url", target, "verify")
    assert verified.code == 0, verified.stdout + verified.stderr
