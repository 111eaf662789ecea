"""The package's layout: no import cycle among its modules, no module over 400 lines, a small flat core.

The import graph is computed from the source with ``ast``: every import that runs counts, at module
level or inside a function; an import under ``if TYPE_CHECKING:`` does not (it never runs). An import of
``pkg.mod`` is an edge to ``pkg.mod``; ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg`` (its ``__init__``). The implicit import of a parent package's ``__init__`` when a
submodule loads is not an edge: it is not written anywhere, and every package would be a cycle with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ijime_flow"
MAX_LINES = 400
MAX_TOP_LEVEL = 20
# modules that may pass MAX_LINES, each with the reason it cannot be split
ALLOWED_LONG: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
                edges.update(t for t in targets if t in mods)
                continue
            if node.level:
                base_parts = here.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base not in mods:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                edges.add(sub if sub in mods else base)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first repeated at the end), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour.get(nxt) == WHITE:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = BLACK
        return None

    for start in sorted(graph):
        if colour[start] == WHITE:
            found = dfs(start)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph(modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_graph_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    # the detector itself must be able to fail: a cycle made only by a function-level import is found,
    # one made only under TYPE_CHECKING is not
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a.py").write_text("from . import b\n", encoding="utf-8")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n", encoding="utf-8")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .d import y\n", encoding="utf-8")
    (pkg / "d.py").write_text("from pkg.c import z\n", encoding="utf-8")
    mods = {".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p for p in pkg.rglob("*.py")}
    graph = import_graph(mods)
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.a"}
    assert graph["pkg.c"] == set()
    assert graph["pkg.d"] == {"pkg.c"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    del graph["pkg.b"]
    assert find_cycle(graph) is None


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_over_400_lines(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    if name in ALLOWED_LONG:
        return
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES}): split it along a seam"


def test_allow_list_is_short_and_current() -> None:
    assert len(ALLOWED_LONG) <= 2
    for name in ALLOWED_LONG:
        assert name in modules(), f"{name} is allowed to be long but no longer exists"


def test_flat_core_is_small() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, f"{len(top)} modules directly in ijime_flow/: {top}"


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


VERIFICATION = ["ijime_flow.audit.verify", "ijime_flow.audit.chain", "ijime_flow.audit.rules", "ijime_flow.audit.legality",
                "ijime_flow.audit.links", "ijime_flow.audit.run", "ijime_flow.audit.problems"]


@pytest.mark.parametrize("name", VERIFICATION)
def test_verification_does_not_import_the_engine(name: str) -> None:
    # the engine calls verification, never the other way: verification is given a Ledger
    graph = import_graph(modules())
    assert name in graph
    assert not reachable(graph, name) & {"ijime_flow.engine", "ijime_flow.case", "ijime_flow"}


def test_the_store_imports_nothing_of_what_builds_its_rows() -> None:
    # the store defines the row types it stores; the projection (and everything above it) imports the store
    graph = import_graph(modules())
    allowed = {"ijime_flow.events", "ijime_flow.canonical", "ijime_flow.errors"}
    for name in graph:
        if name == "ijime_flow.store" or name.startswith("ijime_flow.store."):
            outside = {m for m in reachable(graph, name) if not m.startswith("ijime_flow.store")} - allowed
            assert not outside, f"{name} imports {sorted(outside)}"


def test_subpackages_do_not_import_the_package_facade() -> None:
    # ``from ijime_flow import Engine`` is for users; inside, a module imports the module that defines a name
    graph = import_graph(modules())
    offenders = sorted(name for name, edges in graph.items() if "ijime_flow" in edges)
    assert offenders == []
