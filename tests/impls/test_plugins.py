"""Frameworks are plugins (issue 12): the registry lists them without importing any, the Keras rows
pass the framework tests in a process of their own, and a plugin from outside this repository runs
through the harness and appears in the report with no edit to bench/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import numpy_plugin, plugin_env

ROOT = Path(__file__).resolve().parents[2]


def test_listing_frameworks_imports_none():
    code = (
        "import sys, impls; print(','.join(impls.FRAMEWORKS)); print(impls.VARIANTS['keras-jax']); "
        "print([m for m in ('torch', 'tensorflow', 'jax', 'keras') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.splitlines()
    assert out[0].split(",")[:5] == ["torch", "tensorflow", "jax", "keras-jax", "keras-torch"]
    assert out[1] == "('fused', 'unroll')" and out[2] == "[]"


# (framework, pytest -k): each row's default variant in make test, its others in make test-all too
# (Keras on PyTorch's jit compiles with torch.compile, about 40 s a model here: 180 s of its 200).
KERAS_SELECTIONS = [
    pytest.param("keras-jax", "keras-jax and not keras-jax-unroll", id="keras-jax"),
    pytest.param("keras-torch", "keras-torch and not keras-torch-jit and not keras-torch-unroll", id="keras-torch"),
    pytest.param("keras-jax", "keras-jax-unroll", id="keras-jax-unroll", marks=pytest.mark.long),
    pytest.param("keras-torch", "keras-torch-jit or keras-torch-unroll", id="keras-torch-jit", marks=pytest.mark.long),
]


@pytest.mark.parametrize("framework, selection", KERAS_SELECTIONS)
def test_keras_rows_pass_the_framework_tests_in_a_process_of_their_own(framework, selection):
    """Keras holds one backend per process, so its rows' equivalence (logits 1e-4, weights after 3 Adam
    steps 1e-5 against the float64 reference), interface and bf16 tests run in a pytest of their own."""
    pytest.importorskip("keras")
    backend = framework.split("-")[1]
    pytest.importorskip(backend)
    env = dict(os.environ, SEQMNIST_TEST_FRAMEWORKS=framework)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            "tests/impls/test_equivalence.py",
            "tests/impls/test_precision.py",
            "tests/impls/test_interface.py",
            "-k",
            selection,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1200,
    )
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-3000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= (5 if " not " not in selection else 15) and "failed" not in summary, summary
    # the only skips allowed: the unrolled variants on the 784-step sequence (checked on 28 steps)
    skips = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("784 unrolled steps" in line for line in skips), skips


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    """A folder holding a plugin module and the dist-info that registers its entry point."""
    return numpy_plugin(tmp_path_factory.mktemp("plugin"))


def test_an_outside_plugin_is_available_and_equivalent(plugin_dir):
    code = (
        "import impls, numpy as np; print(impls.available()['numpy-ref']); m = impls.load('numpy-ref')(); "
        "x = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32); print(m.predict(x).shape)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=plugin_env(plugin_dir)
    )
    assert proc.stdout.split() == ["None", "(4,", "10)"], proc.stderr[-2000:]


@pytest.mark.slow  # not timed: its cell's spread (">999%" beside another test) is shown, never judged
@pytest.mark.long  # make test-all; make test runs the plugin through `run` in tests/end_to_end/test_kills.py
def test_an_outside_plugin_runs_through_the_harness_and_the_report(plugin_dir, tmp_path):
    """run --quick (asv cold start and memory, replicated train/predict) and report, in a clone, with
    the plugin on PYTHONPATH: its row is measured and published beside the built-ins."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    env = plugin_env(plugin_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(repo), env["PYTHONPATH"]])
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.cli",
            "run",
            "--quick",
            "--frameworks",
            "numpy-ref",
            "--bench",
            "TrainStep|Predict|cold_start|peakmem",
            "--processes",
            "2",
            "--machine",
            "plug",
        ],
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"numpy-ref\s*\|[^\n]*?[\d,]+ ±", run.stdout), run.stdout[-2000:]  # the summary table's row
    report = subprocess.run(
        [sys.executable, "-m", "bench.cli", "report", "--no-plots", "--readme", ""],
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
        timeout=600,
    )
    assert report.returncode == 0, report.stderr[-2000:]
    latest = (repo / "results" / "report" / "latest.md").read_text()
    row = next(line for line in latest.splitlines() if line.startswith("| numpy-ref"))
    assert re.search(r"\| [\d,]+ ±(>)?[\d.]+%", row), row  # train samples/s from 2 processes, with its interval
    # (its width is what the machine gave: '>999%' when the two processes differ by more)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    meta = json.loads((repo / "results" / "meta" / "plug" / f"{head[:8]}.json").read_text())
    assert meta["frameworks"]["numpy-ref"]["available"] and meta["frameworks"]["numpy-ref"]["version"]


def test_a_keras_plugin_refused_in_a_tensorflow_process_leaves_the_backend_alone():
    """Loading every framework in one process (impls.available) must not leave KERAS_BACKEND pointing at
    another backend for the processes it starts, and TensorFlow's rows ignore a stray KERAS_BACKEND."""
    pytest.importorskip("tensorflow")
    code = (
        "import os, impls; impls.load('tensorflow'); reasons = impls.available(); "
        "print(reasons['keras-jax'] is not None, reasons['keras-torch'] is not None, os.environ['KERAS_BACKEND'])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert proc.stdout.split() == ["True", "True", "tensorflow"], proc.stderr[-2000:]
    stray = subprocess.run(
        [sys.executable, "-c", "import impls; impls.load('tensorflow'); print('ok')"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert stray.stdout.strip() == "ok", stray.stderr[-2000:]
