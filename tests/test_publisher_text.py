"""Grapheme counting and link facets (UTF-8 byte offsets) on mixed scripts, by property."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from chronicle.publishers._text import graphemes, mastodon_length
from chronicle.publishers.bluesky import rich_text

# One user-perceived character each: Latin, Cyrillic, traditional Mongolian, an emoji flag, a
# ZWJ family, a skin-toned emoji, a letter with two combining marks, CJK.
CLUSTERS = ["a", "Ж", "ᠮ", "ᠣ", "🇲🇳", "👨\u200d👩\u200d👧", "👍🏽", "e\u0301\u0323", "中", "ё"]
# Links as sent: milestone URLs are ASCII (non-ASCII paths go percent-encoded).
LINKS = ["https://chronicle.example.org/milestones/a", "http://example.mn/%E1%A0%AE%E1%A0%A3",
         "https://example.org/path?q=1"]

clusters = st.lists(st.sampled_from(CLUSTERS), max_size=60)


@given(clusters)
def test_each_cluster_counts_once(parts: list[str]) -> None:
    text = "".join(parts)
    assert graphemes(text) == len(parts)
    assert mastodon_length(text) == len(parts)


@given(clusters, st.sampled_from(LINKS), clusters)
def test_a_link_counts_23_on_mastodon_whatever_its_length(before: list[str], link: str,
                                                         after: list[str]) -> None:
    text = "".join(before) + " " + link + " " + "".join(after)
    assert mastodon_length(text) == len(before) + len(after) + 2 + 23


@given(clusters, st.sampled_from(LINKS), clusters, st.booleans())
def test_a_link_facet_covers_exactly_the_links_bytes(before: list[str], link: str,
                                                    after: list[str], short: bool) -> None:
    text = "".join(before) + " " + link + " " + "".join(after)
    builder = rich_text(text, shorten_links=short)
    built = builder.build_text().encode()
    (facet,) = builder.build_facets()
    shown = built[facet.index.byte_start:facet.index.byte_end].decode()
    assert facet.features[0].uri == link
    if short:
        assert shown == link.split("://", 1)[1] or (shown.endswith("…") and
                                                     shown[:-1] in link)
    else:
        assert shown == link
        assert facet.index.byte_start == len(("".join(before) + " ").encode())
    assert unicodedata.is_normalized("NFC", text) == unicodedata.is_normalized(
        "NFC", builder.build_text())
