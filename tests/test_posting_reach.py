"""The 40th anniversary through a real `chronicle serve` to all four channels, killed mid-post.

A rehearsal clock puts the service just before 09:00 on 27 January 2027. The fake Mastodon
instance takes the status and then never answers, so the service is killed with the post
made but not recorded; the restarted service sends it again under the same Idempotency-Key
and gets the original. The fake PDS does the same to the Bluesky record on the second run;
the third run meets the taken record key and reads the record back. Each channel ends with
exactly one post, and the log with one Published event per channel.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from chronicle.posting import events as ev
from chronicle.store import open_store
from tests.fake_bluesky_api import FakePds
from tests.fake_bluesky_api import Fault as PdsFault
from tests.fake_mastodon_api import FakeMastodon, Fault
from tests.fake_x_api import FakeXApi, Secrets, XResponses
from tests.fake_x_api import load_fixtures as x_fixtures
from tests.test_posting_cli import Service, env_for, free_port, outbox, wait_for, write_config
from tests.test_posting_support import FORTIETH, RELATIONS, record_all, relations
from tests.test_posting_x import CREDENTIALS, ENVIRON

TOKEN = "mastodon-e2e-token"
HANDLE, PASSWORD = "chronicle.test", "e2e-app-password"
SECRETS = {**ENVIRON, "CHRONICLE_MASTODON_ACCESS_TOKEN": TOKEN,
           "CHRONICLE_BLUESKY_HANDLE": HANDLE, "CHRONICLE_BLUESKY_APP_PASSWORD": PASSWORD}
CHANNELS = ["outbox", "x", "mastodon", "bluesky"]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeXApi, FakeMastodon, FakePds]]:
    with FakeXApi(Secrets(*CREDENTIALS.secrets()), XResponses(x_fixtures())) as x_api, \
            FakeMastodon(TOKEN) as mastodon, FakePds(HANDLE, PASSWORD) as pds:
        yield x_api, mastodon, pds


def _run(config: Path, now: str) -> Service:
    return Service(["serve", "--port", str(free_port())],
                   env_for(config, CHRONICLE_FAKE_NOW=now, **SECRETS))


def _kill(service: Service) -> None:
    service.proc.send_signal(signal.SIGKILL)
    service.proc.wait(timeout=10)


@pytest.mark.slow
def test_the_fortieth_goes_out_once_on_every_channel_across_kills_mid_post(
        tmp_path: Path, fakes: tuple[FakeXApi, FakeMastodon, FakePds]) -> None:
    x_api, mastodon, pds = fakes
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    store = open_store(url)
    record_all(store, [relations()])
    store.close()
    x_api.script(x_api.responses.created())
    mastodon.fail("/api/v1/statuses", Fault(hang=True))
    pds.fail("com.atproto.repo.createRecord", PdsFault(hang=True))
    config = write_config(tmp_path, url, channels=CHANNELS, load_on_start=False, extra=f"""
x_api_base_url = "{x_api.base_url}"
mastodon_base_url = "{mastodon.base_url}"
mastodon_timeout_seconds = 60
bluesky_pds_url = "{pds.base_url}"
bluesky_timeout_seconds = 60
""")
    runs: list[Service] = []
    try:
        runs.append(_run(config, "2027-01-27T08:59:55+08:00"))
        wait_for(lambda: mastodon.statuses, 90, f"the Mastodon status:\n{runs[-1].log()}")
        _kill(runs[-1])  # killed mid-post: the status exists, the log has only the claim
        assert pds.records == {}

        runs.append(_run(config, "2027-01-27T09:00:20+08:00"))
        wait_for(lambda: pds.records, 90, f"the Bluesky record:\n{runs[-1].log()}")
        _kill(runs[-1])

        runs.append(_run(config, "2027-01-27T09:00:40+08:00"))
        store = open_store(url)
        try:
            wait_for(lambda: any(e.type == ev.PUBLISHED for e in
                                 store.read_stream(f"post-{RELATIONS}-2027-bluesky")),
                     90, f"the Bluesky outcome:\n{runs[-1].log()}")
        finally:
            store.close()
    finally:
        codes = [run.stop() for run in runs]
    assert codes[-1] == 0, runs[-1].log()

    (line,) = outbox(tmp_path)
    assert line["key"] == f"{RELATIONS}/2027/outbox" and str(line["text"]).startswith(FORTIETH)
    assert len(x_api.requests) == 1 and x_api.take_problems() == []
    assert x_api.requests[0].text.startswith(FORTIETH)

    (status,) = mastodon.statuses
    assert status.form["status"][0].startswith(FORTIETH)
    sent = mastodon.posts_to("/api/v1/statuses")
    assert len(sent) == 2 and {s.headers["idempotency-key"] for s in sent} == {
        f"{RELATIONS}/2027/mastodon"}
    (attached,) = status.body["media_attachments"]
    assert attached["description"].startswith("Card: ") and "40 years" in attached["description"]
    assert mastodon.problems == []

    (record,) = pds.records.values()
    assert record["text"].startswith(FORTIETH)
    (image,) = record["embed"]["images"]
    assert "40 years" in image["alt"]
    assert len(pds.calls("com.atproto.repo.createRecord")) == 2
    assert pds.problems == []

    store = open_store(url)
    try:
        published = {e.stream_id: e.payload for e in store.iter_all() if e.type == ev.PUBLISHED}
    finally:
        store.close()
    assert set(published) == {f"post-{RELATIONS}-2027-{c}" for c in CHANNELS}
    bluesky = published[f"post-{RELATIONS}-2027-bluesky"]
    assert bluesky["already_published"] is True
    assert json.dumps(published[f"post-{RELATIONS}-2027-mastodon"]).count(status.id) >= 1
