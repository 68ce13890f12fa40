"""Frameworks are plugins. An entry point in the `seqmnist_bench.frameworks` group names a module whose
LSTMModel subclasses, one per `variant`, are that framework; the built-ins register the same way
(pyproject.toml). What the harness needs before importing a framework (its variant names, the
distributions that carry its version, an install hint, what a fork server may preload) is read from the module's source, so listing
frameworks, asv's discovery and the CLI import none."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points

GROUP = "seqmnist_bench.frameworks"
BUILTINS = ("torch", "tensorflow", "jax")  # listed first, in this order; plugins after, by name


@dataclass(frozen=True)
class Plugin:
    name: str
    module: str
    variants: tuple[str, ...]  # the default ("fused": the library's own LSTM) first
    distributions: tuple[str, ...]  # pip distributions whose installed versions identify the framework
    requirement: str  # what to install when it is missing
    shares_process: bool = True  # False: cannot share a process with other frameworks (keras: one backend)
    preload: tuple[str, ...] = ()  # modules a fork server may import before forking the engine's workers
    # (the framework and nothing else, shown to measure as a fresh process: docs/validation.md); (): fresh ones


@lru_cache(maxsize=1)
def plugins() -> dict[str, Plugin]:
    """Every registered framework, by name."""
    found = {ep.name: ep.value.split(":")[0].strip() for ep in entry_points(group=GROUP)}
    order = [n for n in BUILTINS if n in found] + sorted(n for n in found if n not in BUILTINS)
    return {name: read(name, found[name]) for name in order}


def read(name: str, module: str) -> Plugin:
    """A plugin's declarations, from its module's source: module-level DISTRIBUTIONS and
    REQUIREMENT, and each class's `variant = "..."`."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return Plugin(name, module, ("fused",), (), f"the package that provides {module}")
    tree = ast.parse(open(spec.origin, encoding="utf-8").read(), spec.origin)
    consts = {
        t.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    variants = [
        _literal(node.value)
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "variant" for t in node.targets)
    ]
    variants = sorted(set(filter(None, variants)), key=lambda v: (v != "fused", variants.index(v)))
    dists = _literal(consts["DISTRIBUTIONS"]) if "DISTRIBUTIONS" in consts else (name,)
    requirement = _literal(consts["REQUIREMENT"]) if "REQUIREMENT" in consts else name
    shares = _literal(consts["SHARES_PROCESS"]) if "SHARES_PROCESS" in consts else True
    preload = _literal(consts["PRELOAD"]) if "PRELOAD" in consts else ()
    preload = tuple(m for m in preload or () if isinstance(m, str))
    return Plugin(name, module, tuple(variants) or ("fused",), tuple(dists), str(requirement), bool(shares), preload)


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None
