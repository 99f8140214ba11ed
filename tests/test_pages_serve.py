"""Pages through the real CLI: the home page follows the local day, export writes every page."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
import icalendar
import lxml.html
import pytest
import vobject

from chronicle.pages.screenshots import running_server
from chronicle.store import open_store
from chronicle.upcasters import UPCASTERS
from tests.conftest import run_cli
from tests.factories import make_milestone, record_milestones


def upcoming_text(base: str) -> tuple[str, str]:
    answer = httpx.get(f"{base}/")
    tree = lxml.html.document_fromstring(answer.text)
    section = tree.xpath("//section[@class='upcoming']")[0]
    return " ".join(section.text_content().split()), answer.headers["etag"]


@pytest.mark.slow
def test_the_home_page_turns_to_the_next_day_without_a_log_change(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'chronicle.db'}"
    store = open_store(database, upcasters=UPCASTERS)
    record_milestones(store, [make_milestone(1, title="Relations", date="1987-01-27"),
                              make_milestone(2, title="Partnership", date="2019-07-31")])
    store.close()
    env = {"CHRONICLE_EXPORT_DIR": str(tmp_path), "CHRONICLE_SERVER__LOAD_ON_START": "false",
           "CHRONICLE_POSTING__TIMEZONE": "Asia/Ulaanbaatar"}
    # Six seconds before midnight in Ulaanbaatar, the eve of the 40th anniversary.
    with running_server(database, env=env, now="2027-01-26T23:59:54+08:00") as base:
        before, etag = upcoming_text(base)
        assert "27 January 2027 (tomorrow)" in before
        assert "the 40th anniversary of 27 January 1987" in before
        assert httpx.get(f"{base}/", headers={"if-none-match": etag}).status_code == 304
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            after, new_etag = upcoming_text(base)
            if "(today)" in after:
                break
            time.sleep(0.5)
        assert "27 January 2027 (today)" in after
        assert new_etag != etag
        assert httpx.get(f"{base}/", headers={"if-none-match": etag}).status_code == 200
        index = httpx.get(f"{base}/index.html")
        assert index.headers["etag"] == new_etag


@pytest.mark.slow
def test_serve_with_no_base_url_links_to_the_address_it_serves(tmp_path: Path) -> None:
    """The shipped config leaves feed.base_url unset: --port decides every absolute link."""
    database = f"sqlite:///{tmp_path / 'chronicle.db'}"
    store = open_store(database, upcasters=UPCASTERS)
    record_milestones(store, [make_milestone(1, title="Relations", date="1987-01-27")])
    store.close()
    env = {"CHRONICLE_EXPORT_DIR": str(tmp_path), "CHRONICLE_SERVER__LOAD_ON_START": "false"}
    with running_server(database, env=env, set_base_url=False) as base:
        assert not base.endswith(":8000")
        atom = httpx.get(f"{base}/feeds/milestones.atom").text
        assert f'href="{base}/feeds/milestones.atom" rel="self"' in atom
        assert f"{base}/milestones/" in atom and ":8000" not in atom
        home = lxml.html.document_fromstring(httpx.get(f"{base}/").text)
        assert home.xpath("//link[@rel='canonical']/@href") == [f"{base}/"]
        calendar = httpx.get(f"{base}/calendar.ics").text
        assert ":8000" not in calendar and base.removeprefix("http://") in calendar


def test_export_writes_pages_and_the_calendar(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'chronicle.db'}"
    out = tmp_path / "site"
    loaded = run_cli("--database-url", database, "load")
    assert loaded.code == 0, loaded.stderr
    exported = run_cli("--database-url", database, "export", "--out", str(out),
                       env={"CHRONICLE_FAKE_NOW": "2026-01-20T10:00:00+08:00"})
    assert exported.code == 0, exported.stderr
    assert len(list((out / "milestones").glob("*/index.html"))) == 89
    for name in ("index.html", "404.html", "assets/chronicle.css", "assets/filter.js",
                 "tags/diplomacy/index.html", "years/1987/index.html"):
        assert (out / name).is_file(), name
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('<li class="milestone"') == 89
    calendar = (out / "feeds" / "anniversaries.ics").read_bytes()
    assert (out / "calendar.ics").read_bytes() == calendar
    events = icalendar.Calendar.from_ical(calendar).walk("VEVENT")
    assert len(events) == len(vobject.readOne(calendar.decode()).vevent_list) == 16
    relations = next(e for e in events
                     if str(e["UID"]) == "diplomatic-relations-established@chronicle.example.org")
    assert relations.decoded("DTSTART") == dt.date(1987, 1, 27)
    again = run_cli("--database-url", database, "export", "--out", str(out),
                    env={"CHRONICLE_FAKE_NOW": "2026-01-20T10:00:00+08:00"})
    assert again.code == 0 and "0 written" in again.stdout, again.stdout


def test_served_at_fills_only_an_unset_base_url(tmp_path: Path) -> None:
    from chronicle.config import load_settings, served_at

    shipped = load_settings(Path(__file__).resolve().parents[1] / "config" / "chronicle.toml")
    assert "base_url" not in shipped.feed.model_fields_set   # the shipped config leaves it
    assert served_at(shipped, "127.0.0.1", 8123).feed.base_url == "http://127.0.0.1:8123"
    assert served_at(shipped, "0.0.0.0", 80).feed.base_url == "http://127.0.0.1:80"
    assert served_at(shipped, "::1", 8000).feed.base_url == "http://[::1]:8000"
    config = tmp_path / "chronicle.toml"
    config.write_text('[feed]\nbase_url = "https://chronicle.example.org/"\n')
    configured = load_settings(config)
    assert served_at(configured, "127.0.0.1", 8123).feed.base_url == (
        "https://chronicle.example.org")
