"""A milestone's own anniversary text: the Jinja templates an editor writes in its YAML.

Pure and shared by the domain (which validates a milestone's templates) and the posting composer
(which renders them): both must agree on the sandbox, the strictness and the variables, or a
template that passed ``chronicle check`` could fail at 09:00 on the day.

Variables (the same in every language): ``years`` (int), ``ordinal`` ("40th"), ``date`` (day and
month in words, "January 27"), ``full_date`` (with the year, "January 27, 1987"), ``year`` (the
historical year) and ``title``. The composer appends the milestone's link itself, so a template
never holds one.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "MAX_TEMPLATE_LENGTH",
    "TEMPLATE_VARIABLES",
    "compiled",
    "template_problem",
]

MAX_TEMPLATE_LENGTH = 600
TEMPLATE_VARIABLES = ("years", "ordinal", "date", "full_date", "year", "title")
_SAMPLE: dict[str, Any] = {
    "years": 40, "ordinal": "40th", "date": "January 27", "full_date": "January 27, 1987",
    "year": 1987, "title": "A milestone",
}
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@functools.lru_cache(maxsize=512)
def compiled(source: str) -> Template:
    """The template of `source` in the shared sandbox (compiled once per distinct source)."""
    return _ENV.from_string(source)


def template_problem(source: str) -> str | None:
    """Why `source` cannot be a milestone's anniversary text, or None when it can."""
    if len(source) > MAX_TEMPLATE_LENGTH:
        return f"is {len(source)} characters long; at most {MAX_TEMPLATE_LENGTH}"
    if _LINK.search(source):
        return "must not contain a link: the post appends the milestone's link itself"
    try:
        rendered = compiled(source).render(_SAMPLE)
    except TemplateError as exc:
        known = ", ".join(TEMPLATE_VARIABLES)
        return f"is not a valid template: {exc.message or exc} (variables: {known})"
    if not rendered.strip():
        return "renders as an empty text"
    return None
