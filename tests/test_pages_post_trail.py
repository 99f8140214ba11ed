"""The milestone page's audit trail shows every action on its anniversary posts: who, when, why.

Issue 17: an editor's draft, approval or hold and the scheduler's outcome are events with the
acting user and time, shown in `queue` and on the milestone's page.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from chronicle.pages.builder import documents
from chronicle.posting.clock import FixedClock
from chronicle.posting.review import ReviewDesk
from chronicle.projections import Projector, ReadModels
from chronicle.store import SqlEventStore
from tests.test_posting_support import RELATIONS, record_all, relations, service_for, settings_for

DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)  # 09:00 in Ulaanbaatar
KEY = f"{RELATIONS}/2027/outbox"


def page_text(store: SqlEventStore, settings_path: Path, db_url: str) -> str:
    Projector(store).catch_up()
    settings = settings_for(settings_path, db_url)
    pages = documents(settings, ReadModels(store.engine), cards=False)
    body = next(d.body for d in pages if d.path == f"/milestones/{RELATIONS}/index.html")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body.decode())).split())


def test_holds_approvals_and_the_outcome_reach_the_page(store: SqlEventStore, tmp_path: Path,
                                                        db_url: str) -> None:
    record_all(store, [relations()])
    Projector(store).prepare()
    before = page_text(store, tmp_path, db_url)
    assert "Post held" not in before
    settings = settings_for(tmp_path, db_url, require_approval=True)
    clock = FixedClock(DUE - dt.timedelta(hours=2))
    service = service_for(store, settings, clock)
    desk = ReviewDesk(service)
    desk.hold(desk.find(KEY), "the minister's quote is being checked", by="press-office")
    held = page_text(store, tmp_path, db_url)
    assert "Post held" in held
    assert "outbox, 2027-01-27, by press-office: the minister's quote is being checked" in held
    desk.approve(desk.find(KEY), by="ambassador")
    clock.current = DUE + dt.timedelta(minutes=1)
    service.post_due()
    after = page_text(store, tmp_path, db_url)
    assert "Post approved" in after and "by ambassador" in after
    assert "Post published" in after
    # In log order: the hold comes before the approval, the approval before the publication.
    assert after.index("Post held") < after.index("Post approved") < after.index("Post published")
