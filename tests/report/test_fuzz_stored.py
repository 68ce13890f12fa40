"""Issue 48: stored results are untrusted input. A few hundred random mutations of the committed results
(types, NaN, inf, huge numbers, deep nesting, control characters, long strings, other names) fed to
`load_results` and to `merge` (what `history restore` does with a branch): every outcome is a loaded
frame or a one-line refusal naming the file, never an internal error."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from bench.cli import main
from bench.core.errors import RunError
from bench.report import load_results

DEEP: list = [1]
for _ in range(40):
    DEEP = [DEEP]
MACHINE = "epyc-2core-avx2-d370c003"  # a committed machine with full runs, rounds and metadata
VALUES = [
    None,
    float("nan"),
    float("inf"),
    -1,
    0,
    1e308,
    -1e308,
    2**70,
    "",
    "x" * 5000,
    "\x1b]0;owned\x07",
    "a\n::warning title=x::y",
    "<!-- results:end --><img src=x>",
    '=HYPERLINK("http://x")',
    "../../../outside/PWN",
    [],
    {},
    True,
    DEEP,
    {"a": {"b": {"c": {"d": {"e": {}}}}}},
]


def _paths(node, prefix=()):
    """Every path into a JSON value (keys and indices), the value itself included."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):
            yield from _paths(v, (*prefix, i))


def _mutated(data, rng: random.Random):
    paths = list(_paths(data))
    path = rng.choice(paths[1:] or paths)
    value = rng.choice(VALUES)
    if not path:
        return value
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """One machine's committed results (asv results, machine file, run metadata) and benchmarks.json."""
    base = tmp_path_factory.mktemp("fuzz") / "results"
    for sub in ("asv", "meta"):
        shutil.copytree(ROOT / "results" / sub / MACHINE, base / sub / MACHINE)
    shutil.copy(ROOT / "results" / "asv" / "benchmarks.json", base / "asv" / "benchmarks.json")
    return base


def _targets(results: Path) -> list[Path]:
    return sorted(p for p in results.rglob("*.json") if p.name != "fingerprint.json")


@pytest.mark.parametrize("seed", range(8))
def test_load_results_gives_a_frame_or_a_refusal_naming_the_file(committed, tmp_path, seed):
    rng = random.Random(seed)
    for trial in range(30):
        results = tmp_path / f"t{trial}" / "results"
        shutil.copytree(committed, results)
        target = rng.choice(_targets(results))
        data = json.loads(target.read_text())
        for _ in range(rng.randint(1, 3)):
            data = _mutated(data, rng)
        target.write_text(json.dumps(data))
        try:
            frame = load_results(results / "asv")
        except RunError as exc:
            said = str(exc)
            assert target.name in said and "\n" not in said, f"seed {seed}, trial {trial}: {said[:300]}"
            continue
        except RecursionError:  # json's own depth limit on a deeply nested file is still a refusal
            pytest.fail(f"seed {seed}, trial {trial}: {target.name} raised RecursionError")
        assert len(frame) > 0


def test_merge_of_mutated_results_is_a_merge_or_a_one_line_refusal(committed, tmp_path, capsys):
    """What `history restore` does with a branch's files (merge.plan, then merge.apply), through the
    command's own entry point (bench.cli.main, which `seqmnist-bench` calls), in this process: 40
    interpreters would take most of the test's time."""
    rng = random.Random(99)
    for trial in range(40):
        source = tmp_path / f"s{trial}" / "results"
        shutil.copytree(committed, source)
        target = rng.choice(_targets(source))
        target.write_text(json.dumps(_mutated(json.loads(target.read_text()), rng)))
        into = tmp_path / f"d{trial}" / "results"
        into.mkdir(parents=True)
        status = main(["merge", str(source), "--into", str(into)])
        stderr = capsys.readouterr().err
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr[-2000:]
        if status != 0:
            errors = [line for line in stderr.splitlines() if line.startswith("error:")]
            assert status == 2 and len(errors) == 1 and target.name in errors[0], stderr[-2000:]
