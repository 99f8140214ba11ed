"""The pages' Jinja environment renders what Jinja's own does: its short ways (outputs escaped
in C, plain callables called directly, the environment's globals shared) change no byte."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

import pytest
from jinja2 import DictLoader, Environment, StrictUndefined, pass_context, pass_environment
from jinja2.exceptions import UndefinedError
from jinja2.runtime import Context
from markupsafe import Markup

from chronicle.pages.quickjinja import PageEnvironment, escape_output

TEMPLATES = {
    "macros.html": "{% macro item(x) %}<li>{{ x }}</li>{% endmacro %}",
    "base.html": "<title>{% block title %}{% endblock %}</title>{% block main %}{% endblock %}",
    "page.html": """{% extends "base.html" %}
{% from "macros.html" import item %}
{% block title %}{{ title }} · {{ site }}{% endblock %}
{% block main %}
{{ text }}|{{ safe }}|{{ number }}|{{ nothing }}|{{ shout(text) }}|{{ bound(text) }}
{{ fixed() }}|{{ who() }}|{{ env_name() }}|{{ counter() }}|{{ item(text) }}
{% for x in items %}{% set seen = x %}{{ item(x) }}{{ loop_seen() }}{% endfor %}
{% set local = "a<b" %}{{ local }}{{ loop_seen() }}
{% endblock %}""",
    "undefined.html": "{{ missing }}",
    "folded.html": "<p>{{ 'a&b' }}</p>{% if number %}<i>{{ 1 + 1 }}</i>{% endif %}\n",
    "stops.html": "[{{ stops() }}]",
}


@pass_context
def who(context: Context) -> str:
    return f"<{context['title']}>"


@pass_context
def loop_seen(context: Context) -> str:
    """A context function inside a loop sees what the loop set (Jinja's `_loop_vars`)."""
    return str(context.get("seen", "-"))


@pass_environment
def env_name(environment: Environment) -> str:
    return type(environment).__name__.replace("PageEnvironment", "Environment")


class Counter:
    """A callable object that wants the context, as Jinja lets a class's `__call__` ask."""

    @pass_context
    def __call__(self, context: Context) -> str:
        return f"count {len(context['items'])}"


class Shouter:
    def shout(self, text: str) -> str:
        return text.upper() + " & more"


def stops() -> str:
    raise StopIteration


def environment(kind: type[Environment]) -> Environment:
    env = kind(loader=DictLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals.update(site="S&P", shout=str.upper, bound=Shouter().shout,
                       fixed=partial(str, "<fixed>"), who=who, env_name=env_name,
                       counter=Counter(), loop_seen=loop_seen, stops=stops)
    return env


CONTEXT: dict[str, Any] = {"title": "Tom & \"Jerry\" <'x'>", "text": "a<b>&'\"",
                           "safe": Markup("<em>kept</em>"), "number": 1987, "nothing": None,
                           "items": ["<one>", Markup("<two>"), 3]}


def test_the_pages_environment_renders_what_jinja_renders() -> None:
    expected = environment(Environment).get_template("page.html").render(CONTEXT)
    quick = environment(PageEnvironment)
    assert quick.get_template("page.html").render(CONTEXT) == expected
    assert "a&lt;b&gt;&amp;&#39;&#34;" in expected and "<em>kept</em>" in expected
    assert "&lt;Tom &amp; &#34;Jerry&#34; &lt;&#39;x&#39;&gt;&gt;" in expected   # who()
    assert "count 3" in expected and "&lt;one&gt;" in expected and "<li><two></li>" in expected
    assert "&lt;one&gt;</li>&lt;one&gt;" in expected   # the loop's `seen` reached loop_seen


@pytest.mark.parametrize("name", ["page.html", "folded.html"])
def test_an_output_of_several_parts_is_one_yield(name: str) -> None:
    """Text and `{{ … }}` side by side reach the page as one string (each yield resumes every
    enclosing generator), the same text as Jinja's part by part; parts Jinja folds into one
    constant are yielded as they are."""
    plain = environment(Environment).get_template(name)
    quick = environment(PageEnvironment).get_template(name)
    expected = list(plain.generate(CONTEXT))
    chunks = list(quick.generate(CONTEXT))
    assert "".join(chunks) == "".join(expected)
    assert all(type(chunk) in (str, Markup) for chunk in chunks)
    assert len(chunks) < len(expected) if name == "page.html" else chunks == expected


def test_templates_are_loaded_once_unless_they_may_reload() -> None:
    """Without auto_reload a template is loaded once (its source is not read again), as
    Jinja's cache does; with it, a changed source is loaded again."""
    for reload in (False, True):
        quick = environment(PageEnvironment)
        quick.auto_reload = reload
        loader = cast(DictLoader, quick.loader)
        page = quick.get_template("page.html")
        assert page.render(CONTEXT) == environment(Environment).get_template(
            "page.html").render(CONTEXT)
        base = quick.get_template("base.html")
        loader.mapping = {**TEMPLATES, "base.html": "changed{% block main %}{% endblock %}"}
        assert quick.get_template("page.html") is page
        assert (quick.get_template("base.html") is base) is not reload
        assert page.render(CONTEXT).startswith("changed") is reload


def test_globals_set_after_loading_still_reach_the_templates() -> None:
    """Templates share the environment's globals rather than a copy taken when loaded."""
    quick = environment(PageEnvironment)
    template = quick.get_template("stops.html")
    quick.globals["stops"] = lambda: "later"
    assert template.render() == "[later]"


def test_failures_are_jinja_s_own() -> None:
    for kind in (Environment, PageEnvironment):
        env = environment(kind)
        with pytest.raises(UndefinedError):
            env.get_template("undefined.html").render()
        with pytest.raises(UndefinedError):   # StopIteration becomes an undefined value
            env.get_template("stops.html").render()


@pytest.mark.parametrize("value", ["plain <&>'\"", Markup("<b>safe</b>"), 42, 1.5, None,
                                   "ünïcode <монгол>"])
def test_escape_output_is_escape_as_text(value: object) -> None:
    from markupsafe import escape

    assert escape_output(value) == str(escape(value))
