"""Card images: deterministic PNGs, one per milestone page, linked by Open Graph and X tags."""

from __future__ import annotations

import datetime as dt
import io

import lxml.html
from PIL import Image

from chronicle.cards import CARD_SIZE, anniversary_image, card_png
from chronicle.pages.builder import documents, page_path
from chronicle.store import SqlEventStore
from tests.factories import record_milestones
from tests.test_pages import TODAY, project, settings, sourced

BASE = "https://chronicle.example.org"


def test_the_same_input_gives_the_same_bytes_and_a_different_one_differs() -> None:
    fields = {"title": "Монгол Улс ба АНУ дипломат харилцаа тогтоов", "date_words": "January 27",
              "count_label": "40 years", "site_name": "A chronicle"}
    first, again = card_png(**fields), card_png(**fields)
    assert first == again
    assert card_png(**{**fields, "count_label": "41 years"}) != first
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.size == CARD_SIZE
    assert len(first) < 1_000_000


def test_an_anniversary_image_carries_its_alt_text() -> None:
    image = anniversary_image(title="Relations established", local_date=dt.date(2027, 1, 27),
                              years=40, site_name="A chronicle")
    assert image.alt == "Card: Relations established. January 27, 40 years. A chronicle."
    one = anniversary_image(title="T", local_date=dt.date(2027, 1, 27), years=1, site_name="S")
    assert "1 year." in one.alt and "1 years" not in one.alt


def test_milestone_pages_link_their_card_which_the_site_publishes(store: SqlEventStore) -> None:
    record_milestones(store, [sourced(2, "1987-01-27", "Relations established"),
                              sourced(3, "1991-01-22", "Ochirbat visits Washington")])
    site = {d.path: d for d in documents(settings(), project(store), today=lambda _s: TODAY)}

    card = site["/cards/milestone-2.png"]
    assert card.media_type == "image/png" and card.route == "/cards/{id}.png"
    assert card.body.startswith(b"\x89PNG") and "/cards/milestone-3.png" in site
    page = lxml.html.document_fromstring(site[page_path("milestones", "milestone-2")].body)
    meta = {(e.get("property") or e.get("name")): e.get("content")
            for e in page.xpath("//head/meta[@content]")}
    assert meta["og:image"] == meta["twitter:image"] == f"{BASE}/cards/milestone-2.png"
    assert meta["og:url"] == f"{BASE}/milestones/milestone-2/"
    assert meta["og:title"] == meta["twitter:title"] == "Relations established"
    assert meta["og:description"].startswith("27 January 1987")
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:image:alt"] == "Relations established (27 January 1987)"
