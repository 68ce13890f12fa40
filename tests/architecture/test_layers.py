"""The harness's layers, read from the source: every import (module level or inside a function) goes
to the same layer or one below, and no modules import each other in a circle. Fails on an upward
import or a circle; docs/design.md draws the same picture."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Bottom to top. A module may import its own layer and those listed before it.
LAYERS = {
    "core": ["bench.core"],
    "store": ["bench.store"],
    "workload": ["bench.workload"],
    "measure": ["bench.measure"],
    "suites": ["bench.suites"],
    "report": ["bench.report"],  # reads stored results; the report task (bench/tasks/report.py) uses it
    "tasks": ["bench.tasks"],
    "cli": ["bench.cli"],
}
ORDER = list(LAYERS)


def layer_of(module: str) -> str | None:
    best = None
    for layer, prefixes in LAYERS.items():
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                if best is None or len(p) > len(best[1]):
                    best = (layer, p)
    return best[0] if best else None


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every bench.* module `path` (under `root`) imports, resolving relative imports."""
    tree = ast.parse(path.read_text())
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("bench")}


def known_modules() -> set[str]:
    return {module_name(p) for p in (ROOT / "bench").rglob("*.py")}


def graph() -> dict[str, set[str]]:
    mods = known_modules()
    return {
        module_name(p): {m for m in imports(p) if m in mods and m != module_name(p)}
        for p in (ROOT / "bench").rglob("*.py")
    }


def test_every_module_has_a_layer():
    assert [m for m in known_modules() if m != "bench" and layer_of(m) is None] == []


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for module, targets in graph().items():
        for target in targets:
            a, b = layer_of(module), layer_of(target)
            if a and b and ORDER.index(b) > ORDER.index(a):
                upward.append(f"{module} ({a}) -> {target} ({b})")
    assert upward == []


def test_no_import_circle():
    g = graph()
    # a package's __init__ is not an edge to its modules: ignore package -> own submodule edges
    seen, stack, circles = set(), [], []

    def visit(node):
        if node in stack:
            circles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(g.get(node, ())):
            if not nxt.startswith(node + "."):
                visit(nxt)
        stack.pop()

    for node in sorted(g):
        visit(node)
    assert circles == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from ..measure import estimate\n", {"bench.measure", "bench.measure.estimate"}),
        ("from .runner import RunError\n", {"bench.runner", "bench.runner.RunError"}),
    ],
)
def test_the_walker_resolves_relative_imports(tmp_path, source, expected, monkeypatch):
    """The walker itself: a relative import in bench/report/x.py and bench/x.py (a copy of the layout in a
    temporary folder: the test never writes into the checkout)."""
    target = tmp_path / "bench" / ("report/_probe_tmp.py" if source.startswith("from ..") else "_probe_tmp.py")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source)
    assert imports(target, tmp_path) == expected
