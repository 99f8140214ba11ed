"""The templates' macros made in Python (chronicle.pages.macros) give the text the Jinja
macros they replaced gave, kept here as they were, rendered by the same environment: for
milestones recorded, revised and translated (or not) through the real read models, in both
languages, with the characters that must be escaped."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from markupsafe import Markup

from chronicle.config import Settings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, revise
from chronicle.pages.audit import AuditEntry, Change, from_history
from chronicle.pages.builder import renderer_for
from chronicle.pages.pagedata import histories, read_page_data
from chronicle.projections import MilestoneView
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from chronicle.translations import Translation
from tests.factories import make_milestone, record_milestones
from tests.test_feeds_support import caught_up

# _macros.html's macros as they were before chronicle.pages.macros (commit d451274).
JINJA_MACROS = """\
{% macro date(d, caveat=None) -%}
<time datetime="{{ d.iso_start() }}">{{ d | date_words }}</time>
{%- if caveat %} <span class="date-caveat"{{ en }}>({{ caveat }})</span>{% endif %}
{%- endmacro %}

{% macro tag_links(tags) -%}
{% if tags %}
<ul class="tags" aria-label="{{ _('Tags') }}"{{ en }}>
{% for tag in tags %}
<li><a href="{{ url('tag', tag) }}" rel="tag">{{ tag }}</a></li>
{% endfor %}
</ul>
{% endif %}
{%- endmacro %}

{% macro draft_note(lm) -%}
{% if lm.reviewed is false %}
<p class="translation-note" role="note">{{ _("This translation is a machine-assisted draft \
that no one has reviewed yet; the English page is the reference.") }}</p>
{% elif lm.fallbacks and lm.reviewed is none %}
<p class="translation-note" role="note">{{ _("This milestone is not translated yet: its text \
is shown in English.") }}</p>
{% endif %}
{%- endmacro %}

{% macro card(view, level) -%}
{% set m = view.milestone %}
{% set lm = loc(m) %}
<li class="milestone" id="m-{{ m.id }}" data-tags="{{ m.tags | join(' ') }}">
<article aria-labelledby="t-{{ m.id }}">
<h{{ level }} id="t-{{ m.id }}"{{ fb(lm, 'title') }}><a href="{{ url('milestone', m.id) }}">\
{{ lm.title }}</a></h{{ level }}>
<p class="date">{{ date(m.date, m.date_caveat) }}</p>
{% if lm.summary %}
<p class="summary"{{ fb(lm, 'summary') }}>{{ lm.summary }}</p>
{% endif %}
{{ tag_links(m.tags) }}
</article>
</li>
{%- endmacro %}

{% macro trail_list(trail) -%}
<ol class="audit">
{% for entry in trail %}
<li class="audit-{{ entry.kind }}">
<p><strong>{{ entry.label | t }}</strong>
<time datetime="{{ entry.recorded_at.isoformat() }}">{{ entry.recorded_at | utc_words }}</time>
<span class="muted">· {{ _("log position %(position)s", position=entry.position) }}</span></p>
{% if entry.reason %}
<p class="reason">{{ _("Reason:") }} <span{{ en }}>{{ entry.reason }}</span></p>
{% endif %}
{% if entry.changes %}
<dl class="changes"{{ en }}>
{% for change in entry.changes %}
<dt>{{ change.field }}</dt>
<dd>{% if change.old is not none %}<del><span class="visually-hidden">was: </span>\
{{ change.old }}</del> <span aria-hidden="true">→</span> <ins><span class="visually-hidden">\
now: </span>{{ change.value }}</ins>{% else %}{{ change.value }}{% endif %}</dd>
{% endfor %}
</dl>
{% endif %}
</li>
{% endfor %}
</ol>
{%- endmacro %}
""".replace("\\\n", "")

EDGY = "A & B <i>\"x\"</i> 'y'"


def translated(milestone: Milestone, *, reviewed: bool, summary: str = "") -> Milestone:
    return dataclasses.replace(milestone, translations=(Translation(
        language="mn", title=f"Гарчиг {EDGY}", summary=summary, translator="Орчуулагч",
        reviewed=reviewed),))


def chronicle() -> list[Milestone]:
    """One of each case the macros tell apart."""
    return [
        dataclasses.replace(make_milestone(1), date_caveat=f"approximately {EDGY}"),
        dataclasses.replace(make_milestone(2, date="1990-03-04"), tags=()),
        dataclasses.replace(make_milestone(3, tags=("peace-corps-1991", "trade", "visits"))),
        translated(make_milestone(4), reviewed=False, summary="Хураангуй <b>"),
        translated(make_milestone(5), reviewed=True),   # its summary falls back to English
        make_milestone(6, date="1921"),
    ]


@pytest.fixture
def views(store: SqlEventStore) -> list[MilestoneView]:
    record_milestones(store, chronicle())
    repo = MilestoneRepository(store)
    state = repo.get("milestone-6")
    changed = dataclasses.replace(make_milestone(6, date="1921-07-11", title=f"New {EDGY}"),
                                  tags=("diplomacy",))
    repo.save([Decision(state, revise(state, changed, f"a better date & <title> {EDGY}"))],
              {"by": "tests"})
    return list(read_page_data(caught_up(store)).milestones)


def trails(store: SqlEventStore, views: list[MilestoneView]) -> list[tuple[AuditEntry, ...]]:
    """Each view's trail from the log, and one made here with every field filled."""
    held = histories(caught_up(store), [view.id for view in views])
    made = AuditEntry(position=7, type="AnniversaryPostHeld", reason=EDGY,
                      recorded_at=dt.datetime(2024, 5, 6, 7, 8, tzinfo=dt.UTC),
                      changes=(Change("title", EDGY, None), Change("tags", "a; b", EDGY)))
    return [tuple(from_history(held.get(view.id, []))) for view in views] + [(made,), ()]


@pytest.mark.parametrize("language", ["en", "mn"])
def test_the_python_macros_give_the_jinja_macros_text(
        store: SqlEventStore, views: list[MilestoneView], language: str) -> None:
    renderer = renderer_for(Settings(feed={"base_url": "https://c.example.org/site"}), language)
    jinja: Any = renderer.env.from_string(JINJA_MACROS).module
    python = renderer.macros
    assert len(views) == 6
    cases: list[tuple[str, tuple[Any, ...]]] = []
    for view in views:
        m = view.milestone
        cases += [("card", (view, 2)), ("card", (view, 4)), ("date", (m.date, m.date_caveat)),
                  ("date", (m.date,)), ("tag_links", (m.tags,)),
                  ("draft_note", (python.loc(m),))]
    cases += [("trail_list", (trail,)) for trail in trails(store, views)]
    cases += [("date", (HistoricalDate.parse("1800-02"), EDGY)),
              ("tag_links", (("a&b", "<tag>", "two words"),))]
    for name, args in cases:
        made, expected = getattr(python, name)(*args), getattr(jinja, name)(*args)
        assert type(made) is Markup
        assert str(made) == str(expected), (name, args)
    notes = {str(python.draft_note(python.loc(view.milestone))) for view in views}
    assert len(notes) == (3 if language == "mn" else 1)   # unreviewed, untranslated, none
