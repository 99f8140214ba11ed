"""The outbox channel: one JSON line per key, even with several processes writing."""

from __future__ import annotations

import datetime
import json
import multiprocessing
from pathlib import Path

from chronicle.publishers import OutboxPublisher, OutgoingPost, Publisher, Receipt

ULAANBAATAR = datetime.timezone(datetime.timedelta(hours=8))
POSTED = datetime.datetime(2027, 1, 27, 9, 0, 3, tzinfo=ULAANBAATAR)


def make_post(key: str, text: str = "Today, January 27, we mark 40 years …") -> OutgoingPost:
    return OutgoingPost(
        key=key,
        channel="outbox",
        text=text,
        milestone_ids=("diplomatic-relations-established",),
        local_date=datetime.date(2027, 1, 27),
    )


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_appends_one_json_line_per_post(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "outbox.jsonl"
    outbox = OutboxPublisher(path, clock=lambda: POSTED)
    assert isinstance(outbox, Publisher)
    text = "Монгол ᠮᠣᠩᠭᠣᠯ 🇲🇳\nsecond line"
    receipt = outbox.publish(make_post("diplomatic-relations-established/2027/x", text))
    assert receipt == Receipt(remote_id="diplomatic-relations-established/2027/x", url=None)
    outbox.publish(make_post("other/2027/x"))
    assert read_lines(path) == [
        {
            "key": "diplomatic-relations-established/2027/x",
            "channel": "outbox",
            "text": text,
            "milestone_ids": ["diplomatic-relations-established"],
            "local_date": "2027-01-27",
            "language": "en",
            "published_at": "2027-01-27T01:00:03+00:00",
        },
        {
            "key": "other/2027/x",
            "channel": "outbox",
            "text": "Today, January 27, we mark 40 years …",
            "milestone_ids": ["diplomatic-relations-established"],
            "local_date": "2027-01-27",
            "language": "en",
            "published_at": "2027-01-27T01:00:03+00:00",
        },
    ]


def test_same_key_is_written_once_even_by_a_new_publisher(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    post = make_post("diplomatic-relations-established/2027/x")
    assert not OutboxPublisher(path).publish(post).already_published
    retry = OutboxPublisher(path).publish(post)  # as after a crash and restart
    assert retry.already_published
    assert retry.remote_id == post.key
    assert len(read_lines(path)) == 1


def test_torn_last_line_is_skipped_and_not_glued_to(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    outbox = OutboxPublisher(path)
    outbox.publish(make_post("first"))
    with path.open("ab") as handle:
        handle.write(b'{"key": "torn", "chan')  # a crash in the middle of a write
    assert not outbox.publish(make_post("torn")).already_published
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in (lines[0], lines[2])] == ["first", "torn"]
    assert outbox.publish(make_post("torn")).already_published


def _append_many(path: str, worker: int, start: multiprocessing.synchronize.Barrier, out) -> None:
    outbox = OutboxPublisher(Path(path))
    start.wait()
    already = 0
    for i in range(40):
        already += outbox.publish(make_post(f"shared/{i}", f"worker {worker}")).already_published
        outbox.publish(make_post(f"own/{worker}/{i}"))
    out.put(already)


def test_two_processes_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    out = ctx.Queue()
    workers = [ctx.Process(target=_append_many, args=(str(path), n, start, out)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    keys = [line["key"] for line in read_lines(path)]
    expected = {f"shared/{i}" for i in range(40)} | {
        f"own/{n}/{i}" for n in (1, 2) for i in range(40)
    }
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected
    assert out.get(timeout=5) + out.get(timeout=5) == 40  # each shared key: one won, one saw it


def test_outbox_takes_any_real_text_and_is_ready_when_writable(tmp_path: Path) -> None:
    outbox = OutboxPublisher(tmp_path / "feeds" / "outbox.jsonl")
    assert outbox.text_limit().fits("x" * 10_000)
    check = outbox.preflight()
    assert check.ok and str(outbox.path) in check.detail
