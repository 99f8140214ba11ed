"""Imports run one way (shared/DESIGN.md): from the faces down to the domain and the store.

A small AST walk over chronicle/ collects every import, module-level or inside a function
(a hidden cycle is still a cycle), and every module imported by a string
(`importlib.import_module`), then checks the house's rules against it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "chronicle"

FACES = ("chronicle.cli", "chronicle.web", "chronicle.site", "chronicle.bench",
         "chronicle.__main__")
FEATURES = ("chronicle.loader", "chronicle.feeds", "chronicle.posting", "chronicle.publishers",
            "chronicle.pages", "chronicle.replication")
DOMAIN = ("chronicle.domain", "chronicle.repository", "chronicle.upcasters")

# (importer, imported): known breaks of a rule, each with the reason it still stands. The test
# also fails when one no longer occurs, so the list only shrinks.
KNOWN: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST) -> Iterator[str]:
    """Every module `tree` imports by an import statement, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            for alias in node.names:   # `from chronicle import pages` imports chronicle.pages
                candidate = f"{node.module}.{alias.name}"
                if _exists(candidate):
                    yield candidate


def imported_by_string(tree: ast.AST) -> Iterator[str]:
    """Modules imported by name at run time (`importlib.import_module`, `__import__`)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in ("import_module", "__import__"):
            first = node.args[0]
            computed = not (isinstance(first, ast.Constant) and isinstance(first.value, str))
            yield "<a computed name>" if computed else str(first.value)


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return ((PACKAGE / relative).with_suffix(".py").is_file()
            or (PACKAGE / relative / "__init__.py").is_file())


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Module → the chronicle modules it imports; module → what it imports by a string."""
    edges: dict[str, set[str]] = {}
    strings: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = module_name(path)
        edges[name] = {m for m in imported(tree) if m.split(".")[0] == "chronicle"}
        if found := set(imported_by_string(tree)):
            strings[name] = found
    return edges, strings


GRAPH, STRING_IMPORTS = graph()


def within(module: str, packages: tuple[str, ...]) -> bool:
    """`module` is one of `packages` or inside one (never: every module is in "chronicle")."""
    return any(module == p or module.startswith(f"{p}.") for p in packages if p != "chronicle")


def breaks(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(source, target) for source, targets in GRAPH.items() if within(source, importers)
            for target in targets if within(target, forbidden)}


def unexplained(found: set[tuple[str, str]]) -> list[str]:
    return sorted(f"{source} imports {target}" for source, target in found - KNOWN)


def test_the_walk_sees_the_package_and_its_hidden_imports() -> None:
    assert len(GRAPH) > 100
    assert "chronicle.store.sql" in GRAPH["chronicle.store"]
    assert "chronicle.pages" in GRAPH["chronicle.site"]           # `from chronicle import pages`
    assert "chronicle.web.pages" in GRAPH["chronicle.web.routes"]
    assert "chronicle.posting.review" in GRAPH["chronicle.cli.review_cmds"]  # inside a function


def test_the_domain_and_the_store_import_nothing_above_them() -> None:
    above = (*FACES, *FEATURES, "chronicle.projections")
    assert unexplained(breaks(("chronicle.domain", "chronicle.store"), above)) == []


def test_the_store_knows_no_domain() -> None:
    assert unexplained(breaks(("chronicle.store",), DOMAIN)) == []


def test_the_read_models_import_no_feature() -> None:
    assert unexplained(breaks(("chronicle.projections",), (*FACES, *FEATURES))) == []


def test_the_feeds_know_no_pages_and_the_publishers_no_posting() -> None:
    found = (breaks(("chronicle.feeds",), ("chronicle.pages", "chronicle.posting"))
             | breaks(("chronicle.publishers",), ("chronicle.posting",)))
    assert unexplained(found) == []


def test_nothing_below_the_faces_imports_a_face() -> None:
    below = tuple(sorted(m for m in GRAPH if not within(m, FACES) and m != "chronicle"))
    assert unexplained(breaks(below, FACES)) == []


def test_no_module_is_imported_by_a_string() -> None:
    assert STRING_IMPORTS == {}
    tree = ast.parse("def f():\n    importlib.import_module('chronicle.pages')\n")
    assert list(imported_by_string(tree)) == ["chronicle.pages"]


def test_each_known_break_still_occurs() -> None:
    """Once fixed, a break leaves KNOWN too (so the list cannot hide a new one)."""
    gone = [f"{source} no longer imports {target}: drop it from KNOWN"
            for source, target in sorted(KNOWN) if target not in GRAPH[source]]
    assert gone == []
