"""Issue 11's reliability sweep: each test fails on the behaviour the issue found and passes after
the fix (numbers are the issue's items)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from asv_files import write_results
from bench import report

ROOT = Path(__file__).resolve().parents[1]
A, B = "a" * 40, "b" * 40
FW = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["32", "128"]]
HID = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["64", "128"]]
FW2 = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"]]


def cli(*args, cwd=None, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, **kw)


def cli_env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT), **extra)


# 1 ---------------------------------------------------------------------------------------------
def test_1_two_asv_environments_of_one_commit_make_one_table(tmp_path):
    """asv.conf.json's matrix gives a commit one results file per environment: the tables take the
    newest ok value per cell instead of crashing on a duplicate framework index."""
    res = tmp_path / "asv"
    train = {"throughput.TrainStep.time_train_step": (FW, [0.01, 0.02] * 3, [None] * 6),
             "throughput.MinimalLoop.time_minimal_train_step": (FW, [0.009, 0.018] * 3, [None] * 6),
             "variants.Hidden.time_hidden_train_step": (HID, [0.01, 0.02] * 3, [None] * 6),
             "variants.Peak.track_matmul_gflops": (FW2, [100.0, 90.0, 80.0], [None] * 3)}
    write_results(res, "box", A, 1_700_000_000_000, train, env="virtualenv-py3.11-torch")
    write_results(res, "box", A, 1_700_000_000_000, train, env="virtualenv-py3.11-jax")
    frame = report.load_results(res)
    table, notes = report.comparison_table(frame, "box", A, "cpu")
    assert table.loc["torch", "train samples/s @128"].startswith("6,400")
    assert table.loc["jax", "harness / minimal loop @128"] == "0.90"
    assert any("GFLOP/s" in t for t in report.variants_tables(frame, "box", A, "cpu"))


# 2 ---------------------------------------------------------------------------------------------
def test_2_a_failed_cell_reads_failed_not_not_run(tmp_path):
    res = tmp_path / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {
        "throughput.TrainStep.time_train_step": (FW, [0.01, None, 0.02, 0.04, 0.01, 0.02], [None] * 6)})
    frame = report.load_results(res)
    table, notes = report.comparison_table(frame, "box", A, "cpu")
    assert table.loc["torch", "train samples/s @32"].startswith("3,200")
    cell = table.loc["torch", "train samples/s @128"]
    note = notes[int(cell.split("[")[1].rstrip("]")) - 1]
    assert "failed" in note and "not run" not in note


# 3 ---------------------------------------------------------------------------------------------
BASELINE_THREADS = {
    "torch": "import torch; print(torch.get_num_threads(), torch.backends.cuda.matmul.fp32_precision)",
    "tensorflow": "import tensorflow as tf; print(tf.config.threading.get_intra_op_parallelism_threads(), "
                  "'tf32' if tf.config.experimental.tensor_float_32_execution_enabled() else 'ieee')",
    "jax": "import os, jax; print(len(os.sched_getaffinity(0)), jax.config.jax_default_matmul_precision)",
}


@pytest.mark.parametrize("framework", ["torch", "tensorflow", "jax"])
def test_3_minimal_loop_gets_the_models_thread_budget_and_full_float32(framework):
    """Under a 1-core affinity mask (taskset -c 0) the minimal loop gets 1 thread, as the models do,
    and TF32 off, as the models have it."""
    pytest.importorskip(framework)
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 cores to tell a 1-core mask from the machine's count")
    module = {"torch": "torch_loop", "tensorflow": "tf_loop", "jax": "jax_loop"}[framework]
    code = (f"import os; os.sched_setaffinity(0, [0]); from bench.baselines import {module}; "
            f"{module}.make_step(8); {BASELINE_THREADS[framework]}")
    env = cli_env(TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("SEQMNIST_THREADS", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-1500:]
    threads, precision = proc.stdout.split()[-2:]
    assert threads == "1" and precision in ("ieee", "highest")


def test_3_jax_single_thread_flags_are_ones_xla_reads():
    """Every XLA_FLAGS token the single-thread budget sets is a `--flag` XLA knows (an unknown one aborts)."""
    pytest.importorskip("jax")
    env = cli_env(SEQMNIST_THREADS="1")
    env.pop("XLA_FLAGS", None)
    code = "import os, impls.jax_lstm as m, jax.numpy as j; print(float(j.ones(3).sum())); print(os.environ['XLA_FLAGS'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("3.0"), proc.stderr[-1500:]
    flags = proc.stdout.splitlines()[1].split()
    assert flags and all(f.startswith("--xla_") for f in flags)


def test_3_a_broken_minimal_loop_fails_instead_of_skipping(monkeypatch):
    """Only 'cannot run here' is a skip; a bug in the minimal loop is a failed benchmark."""
    pytest.importorskip("torch")
    from bench.baselines import torch_loop
    from bench.suites import baseline

    def broken(batch_size, device):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(torch_loop, "make_step", broken)
    monkeypatch.setattr(baseline, "_STEPS", {})
    with pytest.raises(RuntimeError, match="planted bug") as raised:
        baseline.MinimalLoop().setup("torch", "cpu", 128)
    assert type(raised.value) is RuntimeError  # not asv's skip (NotImplementedError is a RuntimeError)
    with pytest.raises(NotImplementedError):  # asv's skip: no GPU here
        baseline.MinimalLoop().setup("torch", "gpu", 128)


# 9 ---------------------------------------------------------------------------------------------
def test_9_tensorflow_synchronize_without_a_result_waits_for_all_queued_work(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    import impls

    calls = []
    monkeypatch.setattr(tf.test.experimental, "sync_devices", lambda: calls.append(1))
    model = impls.load("tensorflow")(impls.LSTMConfig(), device="cpu", seed=0)
    model.synchronize()
    assert calls == [1]
