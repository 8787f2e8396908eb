"""The package's shape: no import cycle among its modules, engine/ never imports api/, no module over 400 lines.

Imports are read from the source (every ``import`` and ``from ... import``, also inside functions, since those
run too); imports under ``if TYPE_CHECKING:`` are left out, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"engine": "biotoets.engine", "api": "biotoets.api"}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for folder, name in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([name, *parts])] = path
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that this module imports when it runs."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        out |= {t for t in targets if t in known and t != name}
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_reader_sees_imports_and_cycles(tmp_path: Path) -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    known = {"biotoets.api.a", "biotoets.api.b", "biotoets.api.d", "biotoets.api.sub", "biotoets.api.sub.c"}
    a = tmp_path / "a.py"
    a.write_text("from typing import TYPE_CHECKING\nfrom .sub import c\n\ndef f():\n    from . import b\n"
                 "if TYPE_CHECKING:\n    from . import d\n")
    assert imports_of("biotoets.api.a", a, known) == {"biotoets.api.sub", "biotoets.api.sub.c", "biotoets.api.b"}


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_engine_imports_nothing_of_api() -> None:
    upward = {m: sorted(d for d in deps if d.startswith("biotoets.api"))
              for m, deps in graph().items() if m.startswith("biotoets.engine")}
    assert {m: d for m, d in upward.items() if d} == {}


@pytest.mark.parametrize("folder", ["api", "engine"])
def test_no_module_over_400_lines(folder: str) -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in (ROOT / folder).rglob("*.py")}
    assert {p: n for p, n in sorted(sizes.items()) if n > MAX_LINES} == {}
