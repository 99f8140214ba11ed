"""Search and the JSON API in-process over the shipped data set (the real app and lifespan)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import jsonschema
import lxml.html
import pytest

from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.loader import load_sources
from chronicle.projections.jsonviews import milestone_json
from chronicle.store import SqlEventStore
from chronicle.web import create_app
from tests.conftest import run_cli
from tests.test_feeds_support import REPO, caught_up, retract_one, revise_one
from tests.test_pages import check_page_structure
from tests.test_serve_http import Client

RELATIONS = "diplomatic-relations-established"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def client(store: SqlEventStore, db_url: str) -> Iterator[Client]:
    settings = Settings(base_dir=REPO, database_url=db_url, server={"poll_seconds": 0.1})
    load_sources(store, settings)
    with Client(create_app(settings, store)) as client:
        yield client


def test_search_page_highlights_matches(client: Client) -> None:
    answer = client.get("/search", params={"q": "Khaan Quest"})
    assert answer.status_code == 200
    tree = lxml.html.document_fromstring(answer.text)
    results = tree.xpath("//ol[@class='results']/li")
    assert len(results) >= 2
    first = results[0]
    assert first.xpath(".//h2/a/mark/text()")[:2] == ["Khaan", "Quest"]
    assert first.xpath(".//h2/a/@href")[0].startswith("/milestones/khaan-quest")
    assert tree.xpath("//main//input[@name='q']/@value") == ["Khaan Quest"]
    check_page_structure(Document("/search", answer.content, "text/html", EPOCH), "/search")
    again = client.get("/search", params={"q": "Khaan Quest"},
                       headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304
    nothing = lxml.html.document_fromstring(client.get("/search?q=%22%29(*").text)
    assert nothing.xpath("//ol[@class='results']/li") == []


def test_api_milestones_filters_and_pages_with_a_cursor(client: Client, store: SqlEventStore,
                                                        db_url: str) -> None:
    visits = client.get("/api/milestones", params={"tag": "visits", "limit": 10})
    assert visits.status_code == 200
    assert visits.headers["access-control-allow-origin"] == "*"
    page = visits.json()
    assert len(page["items"]) == 10 and page["total"] > 10
    expected = [milestone_json(v) for v in caught_up(store).milestones(tag="visits")]
    collected, cursor = page["items"], page["next_cursor"]
    while cursor:
        following = client.get("/api/milestones",
                               params={"tag": "visits", "limit": 10, "cursor": cursor}).json()
        collected += following["items"]
        cursor = following["next_cursor"]
    assert collected == expected   # the same fields as `milestones --json`, every one once
    cli = run_cli("--database-url", db_url, "milestones", "--json", "--tag", "visits")
    assert json.loads(cli.stdout) == expected

    on = client.get("/api/milestones", params={"on": "01-27"}).json()["items"]
    assert RELATIONS in [item["id"] for item in on]
    years = client.get("/api/milestones", params={"from": "1987", "to": "1988-06"}).json()
    assert years["items"] and all("1987" <= item["date"][:4] <= "1988" for item in years["items"])
    found = client.get("/api/milestones", params={"q": "Khaan Quest", "tag": "exercises"}).json()
    assert found["items"][0]["match"]["title_html"].startswith("<mark>Khaan</mark>")
    bad = client.get("/api/milestones", params={"from": "soon"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("from: ")
    assert client.get("/api/milestones", params={"cursor": "%%%"}).status_code == 400


def test_api_milestone_has_its_history_and_tags_answer(client: Client,
                                                       store: SqlEventStore) -> None:
    tags = client.get("/api/tags").json()
    assert {"tag": "visits", "count": len(caught_up(store).milestones(tag="visits"))} in tags
    known = client.get(f"/api/milestones/{RELATIONS}")
    assert known.status_code == 200 and known.json()["history"][0]["type"] == "MilestoneRecorded"
    assert client.get(f"/api/milestones/{RELATIONS}",
                      headers={"if-none-match": known.headers["etag"]}).status_code == 304
    assert client.get("/api/milestones/no-such-thing").status_code == 404
    preflight = client.request("OPTIONS", "/api/milestones", headers={
        "origin": "https://example.org", "access-control-request-method": "GET",
        "access-control-request-headers": "if-none-match"})
    assert preflight.status_code == 204
    assert "If-None-Match" in preflight.headers["access-control-allow-headers"]


def test_api_history_after_revision_and_retraction(store: SqlEventStore, db_url: str) -> None:
    from tests.test_feeds_support import milestone, record_all

    record_all(store, [milestone(1, title="Before")])
    revise_one(store, milestone(1, title="After"), reason="a better source")
    record_all(store, [milestone(2)])
    retract_one(store, "feed-milestone-2", reason="a duplicate")
    settings = Settings(database_url=db_url, server={"poll_seconds": 0.1})
    with Client(create_app(settings, store)) as client:
        revised = client.get("/api/milestones/feed-milestone-1").json()["history"][1]
        assert revised["reason"] == "a better source"
        assert {"field": "title", "old": "Before", "new": "After"} in revised["changes"]
        gone = client.get("/api/milestones/feed-milestone-2")
        assert gone.status_code == 410
        assert gone.json()["retracted"]["reason"] == "a duplicate"
        assert [e["type"] for e in gone.json()["history"]][-1] == "MilestoneRetracted"


def test_openapi_is_served_with_docs(client: Client) -> None:
    spec = client.get("/api/openapi.json").json()
    assert {"/api/milestones", "/api/milestones/{milestone_id}", "/api/tags"} <= set(
        spec["paths"])
    names = {p["name"] for p in spec["paths"]["/api/milestones"]["get"]["parameters"]}
    assert {"q", "tag", "year", "from", "to", "on", "cursor", "limit"} <= names
    jsonschema.Draft202012Validator.check_schema(
        spec["paths"]["/api/milestones"]["get"]["parameters"][0]["schema"])
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
