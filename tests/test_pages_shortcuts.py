"""The renderer's shortcuts must not change a byte: the chrome (header, search form, footer)
rendered once per renderer, and `_()` answered without Jinja's context calls. The reference
renders the chrome on every page and translates through Jinja's own newstyle gettext."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
from jinja2 import ChoiceLoader, DictLoader

from chronicle.feeds.model import Document
from chronicle.pages import builder
from chronicle.pages.builder import documents
from chronicle.pages.render import PageRenderer
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from tests.factories import record_milestones
from tests.test_pages import TODAY, project, settings, sourced


def per_page_base() -> str:
    """base.html with each chrome part included (rendered on every page) instead."""
    base = (resources.files("chronicle.pages") / "templates" / "base.html").read_text()
    inlined, count = re.subn(r"\{\{ chrome\.(\w+) \}\}", r'{% include "_chrome_\1.html" %}', base)
    assert count == 3
    return inlined


def site_pages(models: ReadModels) -> dict[str, Document]:
    """Every page and calendar, from fresh renderers."""
    builder._renderer.cache_clear()
    return {d.path: d for d in documents(settings(), models, today=lambda _s: TODAY)}


def test_pages_rendered_with_the_shortcuts_equal_pages_rendered_without(
        store: SqlEventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    record_milestones(store, [sourced(1, "1862", "Travel pass"),
                              sourced(2, "1987-01-27", "Relations <established> & more",
                                      notes="Two\n\nparagraphs", people=("George Shultz",)),
                              sourced(3, "2019-07", "Strategic partnership", tags=("visits",))])
    models = project(store)
    once = site_pages(models)
    assert any(b'<footer class="site-footer">' in d.body for d in once.values())

    original_init = PageRenderer.__init__

    def per_page(self: PageRenderer, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.env.loader = ChoiceLoader([DictLoader({"base.html": per_page_base()}),
                                        self.env.loader])  # type: ignore[list-item]
        self.env.cache = None
        del self.env.globals["chrome"]   # StrictUndefined: a page still using it would fail
        self.env.globals["_"] = self.env.globals["gettext"]   # what Jinja's `_` alias calls

    monkeypatch.setattr(PageRenderer, "__init__", per_page)
    try:
        each_time = site_pages(models)
    finally:
        builder._renderer.cache_clear()
    html = [path for path, d in once.items() if d.media_type.startswith("text/html")]
    assert len(html) > 10 and any(path.startswith("/mn/") for path in html)
    assert {path: d.body for path, d in each_time.items()} == {
        path: d.body for path, d in once.items()}
