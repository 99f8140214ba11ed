"""Milestones as JSON: one shape for `milestones --json`, `search --json` and the HTTP API."""

from __future__ import annotations

import html
from typing import Any

from chronicle.projections.fulltext import MARK_END, MARK_START
from chronicle.projections.views import MilestoneView, SearchHit
from chronicle.translations import translations_payload


def milestone_json(view: MilestoneView, language: str = "en") -> dict[str, Any]:
    """The milestone as JSON; in another language its texts are localised, with `fallbacks`
    naming the ones still in English and `translations` carrying every language as stored."""
    m = view.milestone
    date = m.date.to_json()
    data = {
        "id": m.id, "title": m.title, "date": date["date"], "end": date["end"],
        "precision": date["precision"], "circa": date["circa"], "date_words": m.date_words(),
        "summary": m.summary, "tags": list(m.tags), "people": list(m.people),
        "places": list(m.places), "sources": [s.to_payload() for s in m.sources],
        "notes": m.notes, "anniversary_of": m.anniversary_of, "date_caveat": m.date_caveat,
        "recorded_at": view.recorded_at.isoformat(), "updated_at": view.updated_at.isoformat(),
        "revisions": view.revisions, "translations": translations_payload(m.translations),
    }
    if language == "en":
        return data
    from chronicle.localized import localize  # Babel loads only for another language

    local = localize(m, language)
    return data | {"language": language, "title": local.title, "summary": local.summary,
                   "notes": local.notes, "date_words": local.date_words,
                   "fallbacks": list(local.fallbacks), "reviewed": local.reviewed,
                   "translator": local.translator}


def marked_html(text: str) -> str:
    """Search marks as <mark>…</mark> in escaped text."""
    return (html.escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def unmarked(text: str) -> str:
    return text.replace(MARK_START, "").replace(MARK_END, "")


def hit_json(hit: SearchHit) -> dict[str, Any]:
    """A milestone found by search: its fields, and where it matched (HTML with <mark>)."""
    return milestone_json(hit.view) | {"match": {"title_html": marked_html(hit.title),
                                                 "snippet_html": marked_html(hit.snippet)}}
