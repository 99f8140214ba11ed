"""Any text is safe in every format, and rendering is safe from many threads at once."""

from __future__ import annotations

import datetime as dt
import json
import locale
import threading

import pytest
from lxml import etree

from chronicle.config import FeedSettings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source
from chronicle.feeds import Feed, FeedRenderer, Format, Snapshot, xml_safe
from chronicle.feeds.xmlfeeds import FeedgenWriter
from chronicle.projections import MilestoneView
from chronicle.store import SqlEventStore
from tests.test_feeds_support import documents, parse, record_all

ATOM = "{http://www.w3.org/2005/Atom}"
# Text the domain accepts, and that every document must carry through unchanged.
HOSTILE = [
    '<script>alert("x")</script>',
    "Tom & Jerry &amp; &lt;b&gt; &#x26; &unknown;",
    "\"double\" 'single' “curly” ‘quotes’ «guillemets»",
    "]]> <![CDATA[ not a section ]]>",
    "Emoji: 🇲🇳🇺🇸 👩‍👩‍👧 🏇",
    "Cyrillic: Монгол Улс ба Америкийн Нэгдсэн Улс",
    "Traditional Mongolian: ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ, with a vowel separator ᠠ᠎ᠠ",
    "Right-to-left: منغوليا והתוכנית evil done",  # (bidi overrides are refused on input)
    "Combining: e\u0301 and zero-width\u200djoiners",  # (a joiner inside a word is allowed)
    "Backslashes \\ and {braces} and {{jinja}} and %s and $1",
]
# Characters XML 1.0 cannot hold: a document must drop them, never fail or carry them.
FORBIDDEN = "\x00\x01\x08\x0b\x0c\x1b\x1f\ufffe\uffff\ud800\udfff"


def hostile_milestone(n: int, text: str) -> Milestone:
    return Milestone(
        id=f"hostile-{n}", title=text[:200],
        date=HistoricalDate.parse(f"1990-05-0{n % 9 + 1}"),
        summary=f"{text}\n\nSecond paragraph: {text}", tags=("hostile",),
        people=(text,), places=(text,),
        sources=(Source(title=text, quote=text,
                        url='https://example.org/a?b=1&c="2"&d=<3>'),),
        notes=text)


def check_documents(docs: dict[str, bytes], expected_titles: list[str]) -> None:
    for path, body in docs.items():
        if path.endswith(".json"):
            data = json.loads(body.decode("utf-8"))
            titles = [item["title"].split(": ", 1)[1] for item in data["items"]]
        else:
            root = etree.fromstring(body)  # strict XML parser: raises on any bad character
            found = root.iter(f"{ATOM}entry") if path.endswith(".atom") else root.iter("item")
            titles = [e.findtext(f"{ATOM}title" if path.endswith(".atom") else "title")
                      .split(": ", 1)[1] for e in found]
            parse(body)
        assert sorted(titles) == sorted(expected_titles), path


def test_hostile_text_from_the_log_survives_every_format(store: SqlEventStore) -> None:
    record_all(store, [hostile_milestone(n, text) for n, text in enumerate(HOSTILE)])
    docs = documents(store)
    check_documents({p: d.body for p, d in docs.items() if "anniversaries" not in p},
                    [text[:200] for text in HOSTILE])
    atom = parse(docs["/feeds/milestones.atom"])
    by_id = {e.id.rsplit("/", 1)[1]: e for e in atom.entries}
    script = by_id["hostile-0"]
    assert script.title.endswith('<script>alert("x")</script>')
    # In HTML content the text is escaped once: shown as text, never run as markup.
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in script.content[0].value
    assert 'href="https://example.org/a?b=1&amp;c=&quot;2&quot;&amp;d=&lt;3&gt;"' in (
        script.content[0].value)
    rtl = by_id["hostile-7"]
    assert "והתוכנית evil" in rtl.title and "منغوليا" in rtl.summary


def test_forbidden_characters_are_stripped_before_any_document() -> None:
    texts = [f"{text}{FORBIDDEN}" for text in HOSTILE]
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    views = tuple(MilestoneView(milestone=hostile_milestone(n, text), recorded_at=moment,
                                updated_at=moment, recorded_position=n + 1,
                                updated_position=n + 1, revisions=0)
                  for n, text in enumerate(texts))
    settings = FeedSettings(title=f"Title {FORBIDDEN}<&>", subtitle=f"Sub{FORBIDDEN}",
                            author_name=f"Author{FORBIDDEN}", rights=f"Rights{FORBIDDEN}")
    rendered = FeedRenderer(settings).documents(Snapshot(views, (), None, len(views)))
    docs = {d.path: d.body for d in rendered}
    check_documents({p: b for p, b in docs.items() if "anniversaries" not in p},
                    [xml_safe(text)[:200] for text in texts])
    for path, body in docs.items():
        text = body.decode("utf-8")
        assert not any(char in text for char in FORBIDDEN), path
    assert parse(docs["/feeds/milestones.atom"]).feed.title == "Title <&>"


@pytest.mark.parametrize("char", list(FORBIDDEN))
def test_xml_safe_drops_exactly_the_characters_xml_forbids(char: str) -> None:
    assert xml_safe(f"a{char}b\tc\nd\re\x7f\x85\U0001f1f2") == "ab\tc\nd\re\x7f\x85\U0001f1f2"


def test_concurrent_renders_are_identical_and_leave_the_locale_alone() -> None:
    """feedgen formats RSS dates by switching the process locale: renders must not race."""
    moment = dt.datetime(1987, 1, 27, 12, 0, tzinfo=dt.UTC)
    views = tuple(MilestoneView(milestone=hostile_milestone(n, f"Item {n} ᠮᠣᠩᠭᠣᠯ"),
                                recorded_at=moment + dt.timedelta(days=n),
                                updated_at=moment + dt.timedelta(days=n, hours=1),
                                recorded_position=n + 1, updated_position=n + 1, revisions=0)
                  for n in range(30))
    renderer = FeedRenderer(FeedSettings())
    feed: Feed = renderer.catalog.feeds(Snapshot(views, (), None, 30))[0]
    writer = FeedgenWriter(FeedSettings())
    expected = {fmt: writer.render(feed, fmt) for fmt in (Format.ATOM, Format.RSS)}
    locale_before = locale.setlocale(locale.LC_ALL)
    results: list[tuple[Format, bytes]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(fmt: Format) -> None:
        try:
            start.wait()
            for _ in range(25):
                results.append((fmt, writer.render(feed, fmt)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=((Format.ATOM, Format.RSS)[i % 2],))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 200
    assert all(body == expected[fmt] for fmt, body in results)
    assert b"<pubDate>Tue, 27 Jan 1987 12:00:00 GMT</pubDate>" in expected[Format.RSS]
    assert b"<lastBuildDate>Wed, 25 Feb 1987 13:00:00 GMT</lastBuildDate>" in expected[Format.RSS]
    assert locale.setlocale(locale.LC_ALL) == locale_before


def test_every_locale_switch_happens_under_the_render_lock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The one place feedgen touches process-wide state is serialised by our lock."""
    from chronicle.feeds.xmlfeeds import FEEDGEN_LOCK

    real = locale.setlocale
    held: list[bool] = []

    def watching(category: int, value: str | None = None) -> str:
        held.append(FEEDGEN_LOCK.locked())
        return real(category, value)

    monkeypatch.setattr(locale, "setlocale", watching)
    moment = dt.datetime(2001, 2, 3, tzinfo=dt.UTC)
    view = MilestoneView(milestone=hostile_milestone(1, "x"), recorded_at=moment,
                         updated_at=moment, recorded_position=1, updated_position=1, revisions=0)
    for document in FeedRenderer(FeedSettings()).documents(Snapshot((view,), (), None, 1)):
        assert document.body
    assert held, "feedgen no longer switches the locale: the lock may go"
    assert all(held)
