"""End to end, as a user runs it: asv run (quick, one framework, tiny data) -> report -> compare
with a planted slowdown, in a throwaway clone of this repository."""
from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write_idx

ROOT = Path(__file__).resolve().parents[1]
MACHINE = "ci-smoke"
pytestmark = pytest.mark.slow


def _torch_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is None


def cli(clone: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, SEQMNIST_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "bench.cli", *args], cwd=clone, env=env, capture_output=True, text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if _torch_missing():
        pytest.skip("torch is not installed")
    base = tmp_path_factory.mktemp("pipeline")
    repo = base / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "ci@example.invalid"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "ci"], check=True)
    data = base / "tiny"
    data.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 256), ("t10k", 64)):
        write_idx(data / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(data / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n))
    return repo, data


def _result_file(repo: Path, commit: str) -> dict:
    files = list((repo / "results" / "asv" / MACHINE).glob(f"{commit[:8]}-*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def test_quick_run_stores_positive_values_and_na_for_skips(clone):
    repo, data = clone
    proc = cli(repo, "run", "--quick", "--frameworks", "torch", "--data-dir", str(data), "--machine", MACHINE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "torch" in proc.stdout and "train samples/s @128" in proc.stdout  # the summary table
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    results = _result_file(repo, head)["results"]
    for name in ("throughput.TrainStep.time_train_step", "throughput.Predict.time_predict",
                 "cold_start.ColdStart.timeraw_cold_start", "memory.HostMemory.peakmem_train",
                 "accuracy.Accuracy.track_test_error", "baseline.MinimalLoop.time_minimal_train_step"):
        values, params = results[name][0], results[name][1]
        combos = list(itertools.product(*params))
        for combo, value in zip(combos, values):
            if combo[:2] == ("'torch'", "'cpu'"):
                assert value is not None and value > 0, (name, combo, value)
            else:
                assert value is not None and math.isnan(value), (name, combo, value)  # skipped, not failed
    meta = json.loads((repo / "results" / "meta" / MACHINE / f"{head[:8]}.json").read_text())
    assert meta["frameworks"]["torch"]["version"].startswith("2.13")
    assert meta["host"]["threads"] == 1


def test_report_writes_tables_and_plots(clone):
    repo, _ = clone
    proc = cli(repo, "report")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = repo / "results" / "report"
    for name in ("results.csv", "latest.md", "latest.csv", "latest.html", f"throughput_{MACHINE}_cpu.png"):
        assert (out / name).is_file(), name
    latest = (out / "latest.md").read_text()
    assert "| torch" in latest and "n/a [" in latest  # tensorflow/jax were not run: footnoted


def test_compare_detects_a_planted_slowdown(clone):
    repo, data = clone
    target = repo / "impls" / "torch_lstm.py"
    source = target.read_text()
    planted = source.replace(
        "        self.optimizer.zero_grad(set_to_none=True)\n",
        "        __import__('time').sleep(0.03)  # planted slowdown\n        self.optimizer.zero_grad(set_to_none=True)\n",
    )
    assert planted != source
    target.write_text(planted)
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "planted slowdown"], check=True)
    proc = cli(repo, "compare", "HEAD~1", "HEAD", "--quick", "--frameworks", "torch", "--devices", "cpu",
               "--bench", "TrainStep", "--rounds", "1", "--data-dir", str(data), "--machine", MACHINE)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    report = (repo / "results" / "report" / "regressions.md").read_text()
    assert "| regression | throughput.TrainStep.time_train_step | torch, cpu, batch 32" in report


def test_compare_refuses_a_dirty_tree(clone):
    repo, data = clone
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nlocal edit\n")
    try:
        proc = cli(repo, "compare", "HEAD~1", "HEAD", "--quick")
        assert proc.returncode == 2
        assert "uncommitted changes" in proc.stderr
    finally:
        subprocess.run(["git", "-C", str(repo), "checkout", "README.md"], check=True)
