"""Jinja with less work per page: the same templates and the same bytes, fewer calls.

A milestone page makes about a hundred outputs (`{{ … }}`) and sixty calls; at 100,000
milestones in two languages that is most of the static export's rendering. Two of Jinja's
general paths are shortened here, each for the cases whose result is known:

- An output under autoescape is `escape(value)`: a Python function that wraps the escaped
  text in a new `Markup`, which the page's join then flattens again. `QuickEscapes` emits
  `environment.escape_output(value)` instead, which escapes a plain string in C and returns
  it as a string (a Markup passes through; anything else goes to `escape`).
- Every call goes through `Context.call`, which asks the callable, and its `__call__`,
  whether it wants the context passed in: three attribute look-ups and a method wrapper.
  `DirectCalls` asks a function, method, `functools.partial`, builtin or macro once.
- Every part of an output (a run of text, a `{{ … }}`) is a `yield` of its own, and a yield
  inside a block resumes the block's generator, the base template's and the page's: about
  two hundred a milestone page. `QuickEscapes` yields an output's parts as one joined string
  (the page's join gives the same text), about forty yields a page.
- `get_template` (each render, and each `{% extends %}`) asks Jinja's LRU cache, behind a
  lock; without `auto_reload` the environment holds each template by name instead.
"""

from __future__ import annotations

import types
from collections.abc import Callable, MutableMapping
from functools import partial
from typing import Any, cast

from jinja2 import Environment, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr
from jinja2.runtime import Context, Macro
from markupsafe import Markup, escape

try:
    from markupsafe import _escape_inner  # MarkupSafe 3: the C escape, str to str
except ImportError:   # pragma: no cover - older MarkupSafe escapes in C whole
    def _escape_inner(text: str, /) -> str:
        return str(escape(text))

_escape_text: Callable[[str], str] = _escape_inner

__all__ = ["DirectCalls", "PageEnvironment", "QuickEscapes", "escape_output"]

PLAIN = frozenset({types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                   types.BuiltinMethodType, partial, Macro})


def escape_output(value: Any) -> str:
    """What `escape(value)` gives, as a string for the page's join (the same text)."""
    kind = type(value)
    if kind is str:
        return _escape_text(value)
    if kind is Markup:
        return cast(str, value)   # already safe: its text as it is
    return escape(value)


class QuickEscapes(CodeGenerator):
    """Compiles an autoescaped output to `environment.escape_output(…)`, and an output of
    several parts to one `yield` of their join (see the module)."""

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        """Outside a buffer, Jinja yields each part of an output (text, `{{ … }}`) on its
        own, and every yield resumes each enclosing generator (block, base template, page);
        compiled as for a buffer, whose `extend` or `append` `write` turns into one yield."""
        if frame.buffer is not None or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        frame.buffer = _JOINED
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None

    def write(self, x: str) -> None:
        if x.startswith(_JOINED):
            x = _YIELDS[x]
        super().write(x)

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


_JOINED = "__joined_output"   # the buffer name `QuickEscapes.visit_Output` compiles for
_YIELDS = {f"{_JOINED}.extend((": 'yield "".join((', f"{_JOINED}.append(": "yield identity("}


class DirectCalls(Context):
    """`Context.call` with a short way for the callables of PLAIN types."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if type(__obj) not in PLAIN or getattr(__obj, "jinja_pass_arg", None) is not None:
            return super().call(__obj, *args, **kwargs)
        if kwargs:   # what Context.call drops for such callables
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


class PageEnvironment(Environment):
    """An Environment whose templates escape and call the short way (see the module), and
    read the environment's globals themselves.

    Jinja gives each template a ChainMap over the globals, which every render copies into a
    dict key by key (a twentieth of a milestone page); our templates have no globals of their
    own, so they share the environment's dict and a render copies it in C. A template loaded
    with globals of its own still gets the ChainMap (and Jinja's `update` of it stays there).
    """

    code_generator_class = QuickEscapes
    context_class = DirectCalls
    escape_output = staticmethod(escape_output)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: dict[tuple[str, str | None], Template] = {}

    def get_template(self, name: str | Template, parent: str | None = None,
                     globals: MutableMapping[str, Any] | None = None) -> Template:
        """Jinja's template, held by name: without `auto_reload` a loaded template is never
        looked at again, but Jinja's cache (an LRU behind a lock) was asked on every render,
        twice for a page that extends base.html."""
        if globals is not None or self.auto_reload or not isinstance(name, str):
            return super().get_template(name, parent, globals)
        found = self._held.get((name, parent))
        if found is None:
            found = self._held[name, parent] = super().get_template(name, parent)
        return found

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return self.globals if d is None else super().make_globals(d)
