"""Every module, file and function that the README, docs/ or a docstring names exists (issue 47): a
renamed or moved name fails here, not in a newcomer's search."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = {"py", "md", "json", "csv", "txt", "html", "j2", "png", "svg", "gz", "toml", "cfg", "yml", "sh"}


def _modules() -> dict[str, Path]:
    """Every module of bench/ and impls/ by its dotted name (a package by its folder's)."""
    out = {}
    for path in [*(ROOT / "bench").rglob("*.py"), *(ROOT / "impls").rglob("*.py")]:
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()
STEMS: dict[str, list[str]] = {}
for _dotted in MODULES:
    STEMS.setdefault(_dotted.rsplit(".", 1)[-1], []).append(_dotted)


def _defined(path: Path) -> dict[str, set[str]]:
    """A module's top-level names, each with what a class of that name defines (not what it imports: a
    name is given where it is defined)."""
    out: dict[str, set[str]] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            members = {
                n.name if isinstance(n, (ast.FunctionDef, ast.ClassDef)) else n.target.id  # type: ignore[union-attr]
                for n in ast.walk(node)
                if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                or isinstance(n, ast.AnnAssign)
                and isinstance(n.target, ast.Name)
            }
            out[node.name] = members if isinstance(node, ast.ClassDef) else set()
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out.update({n.id: set() for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):  # a package's own names
                out.update({e.value: set() for e in ast.walk(node.value) if isinstance(e, ast.Constant)})
    return out


def _resolves(module: str, attrs: list[str]) -> bool:
    """Whether `module` defines attrs[0] (and, for a class, attrs[1])."""
    attrs = [a for a in attrs if a not in EXTENSIONS]
    if not attrs:
        return True
    names = _defined(MODULES[module])
    if attrs[0] not in names:
        return False
    inner = names[attrs[0]]
    return len(attrs) < 2 or not inner or attrs[1] in inner or attrs[1].startswith("__")


def _texts():
    """(where, text) of the README, every page of docs/ and every docstring of bench/ and impls/."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        yield path.relative_to(ROOT), path.read_text()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if doc := ast.get_docstring(node):
                    yield path.relative_to(ROOT), doc


def unknown_names(text: str) -> list[str]:
    """The names in `text` that do not exist: repository paths, dotted bench./impls. names, and
    module.name where module is one of the project's (stats.z, record.key_of)."""
    bad = []
    for path in re.findall(r"(?<![\w/.])((?:bench|impls|tests|docs)/[\w/.-]*\w)", text):
        folder, _, last = path.rpartition("/")
        stem, *attrs = last.split(".")
        if attrs and attrs[0] not in EXTENSIONS:  # bench/tasks/selection.QUICK_KEYS: a module's name
            module = f"{folder}/{stem}".replace("/", ".")
            if module not in MODULES or not _resolves(module, attrs):
                bad.append(path)
        elif not any(ROOT.glob(path + "*")):  # a file, a folder, or the stem of files named after it
            bad.append(path)
    for dotted in re.findall(r"(?<![\w/.])((?:bench|impls)(?:\.[A-Za-z_]\w*)+)", text):
        parts = dotted.split(".")
        module = next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in MODULES), None)
        if module is None or not _resolves(module, parts[len(module.split(".")) :]):
            bad.append(dotted)
    for stem, attr, inner in re.findall(r"(?<![\w/.`-])`?([a-z_]+)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?", text):
        if stem in STEMS and stem not in ("bench", "impls") and attr not in EXTENSIONS:
            candidates = STEMS[stem]
            if not any(
                _resolves(c, [attr, inner] if inner else [attr]) or f"{c}.{attr}" in MODULES for c in candidates
            ):
                bad.append(f"{stem}.{attr}")
    return bad


def test_every_name_the_docs_and_docstrings_give_exists():
    missing = [f"{where}: {name}" for where, text in _texts() for name in unknown_names(text)]
    assert not missing, missing


def test_the_check_finds_a_moved_name():
    """The names this check was written for (issue 47's stale words), and names that exist."""
    assert unknown_names("bench.measure.rounds.Measurement") == ["bench.measure.rounds.Measurement"]
    assert unknown_names("see bench/measure/runner.py and stats.z_score") == [
        "bench/measure/runner.py",
        "stats.z_score",
    ]
    assert unknown_names("bench.store.record.Measurement, stats.z, bench/measure/stats.py, rounds.Plan.budget") == []
