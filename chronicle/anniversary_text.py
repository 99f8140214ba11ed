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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from chronicle.fieldchecks import Problem, text_problems

__all__ = [
    "MAX_TEMPLATE_LENGTH",
    "TEMPLATE_VARIABLES",
    "AnniversaryText",
    "MalformedAnniversary",
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
        used = meta.find_undeclared_variables(_ENV.parse(source))
    except TemplateSyntaxError as exc:
        return f"is not a valid template: {exc.message or exc}"
    unknown = sorted(used - set(TEMPLATE_VARIABLES))
    if unknown:
        return (f"uses unknown variable(s) {', '.join(unknown)} "
                f"(known: {', '.join(TEMPLATE_VARIABLES)})")
    try:
        rendered = compiled(source).render(_SAMPLE)
    except TemplateError as exc:
        known = ", ".join(TEMPLATE_VARIABLES)
        return f"is not a valid template: {exc.message or exc} (variables: {known})"
    if not rendered.strip():
        return "renders as an empty text"
    return None


class MalformedAnniversary(ValueError):
    """A stored anniversary payload without the shape this code reads."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AnniversaryText:
    """An editor's own yearly post text, in any language.

    ``round`` replaces ``text`` in round years (5, 10, … by `posting.round_every`).
    """

    text: str
    round: str | None = None

    def problems(self, name: str) -> list[Problem]:
        found = text_problems(f"{name}.text", self.text, required=True)
        found += text_problems(f"{name}.round", self.round, optional=True, required=True)
        for key, source in (("text", self.text), ("round", self.round)):
            problem = template_problem(source) if isinstance(source, str) else None
            if problem is not None and not any(p.field == f"{name}.{key}" for p in found):
                found.append(Problem(f"{name}.{key}", problem))
        return found

    def to_payload(self) -> dict[str, Any]:
        return {"text": self.text, "round": self.round}

    @classmethod
    def from_payload(cls, data: object) -> AnniversaryText:
        if not isinstance(data, Mapping):
            raise MalformedAnniversary(
                f"anniversary payload must be an object, not {type(data).__name__}")
        unknown = sorted(set(data) - {"text", "round"})
        if unknown:
            raise MalformedAnniversary(f"anniversary payload has unknown field(s): "
                                       f"{', '.join(unknown)}")
        if "text" not in data:
            raise MalformedAnniversary("anniversary payload lacks 'text'")
        return cls(text=data["text"], round=data.get("round"))
