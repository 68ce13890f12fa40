"""The command line as a user meets it: help, clear errors, train on every sequence variant,
and the pieces of the heavy-variants suite that need no framework."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import impls
from bench.data import as_sequence
from bench.harness import train_step_flops
from bench.runner import RunOptions, build_env, chunk_regex

from conftest import framework_params


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_help_names_every_command():
    out = cli("--help").stdout
    for command in ("train", "run", "report", "compare"):
        assert command in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--framework", "torch", "--data-dir", "/nonexistent"], "does not exist"),
        (["train", "--framework", "torch", "--epochs", "0"], "must be >= 1"),
        (["train", "--framework", "mxnet"], "invalid choice"),
        (["train", "--framework", "torch", "--precision", "fp8"], "invalid choice"),
        (["train", "--framework", "jax", "--precision", "tf32", "--data-dir", "/nonexistent"], "tf32 is a GPU"),
        (["report", "--threshold", "3", "--results", "/nonexistent"], "threshold"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_traceback(args, message):
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("framework", framework_params())
@pytest.mark.parametrize("sequence", ["row", "permuted"])
def test_train_command_on_tiny_data(tiny_idx, framework, sequence):
    proc = cli("train", "--framework", framework, "--sequence", sequence, "--epochs", "2", "--batch-size", "32",
               "--data-dir", str(tiny_idx), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "unverified" in proc.stderr  # the tiny set is not MNIST, and is said so
    assert len(re.findall(r"^epoch \d/2: loss [\d.]+, test accuracy [\d.]+", proc.stderr, re.M)) == 2
    assert re.search(rf"{framework}/fused cpu float32 \({sequence} sequence\): test accuracy [\d.]+ after 2 epoch", proc.stdout)


@pytest.mark.parametrize("framework", framework_params())
def test_train_bf16_on_tiny_data(tiny_idx, framework):
    import impls

    args = ("train", "--framework", framework, "--precision", "bf16", "--epochs", "1", "--batch-size", "32",
            "--data-dir", str(tiny_idx), "--no-progress")
    variant = "fused"
    refused = impls.load(framework).unavailable("cpu", "bf16")
    if refused:  # this CPU has no bfloat16 kernel for the fused layer: a named refusal, then the cell loop
        proc = cli(*args)
        assert proc.returncode == 2 and "error: bf16 needs" in proc.stderr and "Traceback" not in proc.stderr
        variant = "cell"
    proc = cli(*args, "--variant", variant)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(rf"{framework}/{variant} cpu bf16 \(row sequence\): test accuracy [\d.]+ after 1 epoch", proc.stdout)


def test_unknown_variant_is_rejected():
    proc = cli("train", "--framework", "jax", "--variant", "xla", "--data-dir", ".")
    assert proc.returncode == 2 and "unknown variant 'xla' for jax" in proc.stderr


def test_sequence_views():
    images = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28)
    assert as_sequence(images, "row") is images
    pixel = as_sequence(images, "pixel")
    assert pixel.shape == (2, 784, 1) and np.array_equal(pixel[:, :, 0], images.reshape(2, 784))
    permuted = as_sequence(images, "permuted")
    assert permuted.shape == (2, 784, 1)
    assert np.array_equal(np.sort(permuted[:, :, 0], axis=1), pixel[:, :, 0])  # same pixels
    assert not np.array_equal(permuted, pixel)
    assert np.array_equal(as_sequence(images, "permuted"), permuted)  # one fixed order
    assert impls.sequence_config("pixel").n_steps == 784
    with pytest.raises(ValueError, match="unknown sequence"):
        as_sequence(images, "spiral")


def test_flop_count_of_a_train_step():
    # 3 x (28 steps x 2*128*(28+128)*512 + 2*128*128*10)
    assert train_step_flops(impls.LSTMConfig()) == 3 * (28 * 2 * 128 * 156 * 512 + 2 * 128 * 128 * 10)


def test_quick_runs_leave_the_heavy_variants_out():
    quick = chunk_regex("torch", "cpu", quick=True)
    assert not re.search(quick, "variants.Sequences.time_sequence_train_step('torch', 'cpu', 'row')")
    assert re.search(quick, "throughput.TrainStep.time_train_step('torch', 'cpu', 32)")
    asked = chunk_regex("torch", "cpu", user="variants", quick=True)
    assert re.search(asked, "variants.Sequences.time_sequence_train_step('torch', 'cpu', 'row')")
    assert not re.search(chunk_regex("jax", "gpu"), "throughput.TrainStep.time_train_step('jax', 'cpu', 32)")


def test_relative_data_dir_reaches_asv_as_absolute(tmp_path, monkeypatch):
    """asv runs benchmarks in a temporary folder, so a relative path from the user must be resolved."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQMNIST_DATA_DIR", "data/mnist")
    assert build_env(RunOptions(), tmp_path)["SEQMNIST_DATA_DIR"] == str(tmp_path / "data" / "mnist")
    env = build_env(RunOptions(data_dir="other"), tmp_path)
    assert env["SEQMNIST_DATA_DIR"] == str(tmp_path / "other")


def test_asv_is_skipped_when_bench_selects_only_the_replicated_throughput():
    """asv exits 1 on 'No benchmarks selected': a --bench that picks only the throughput measured in
    replicated processes must not run asv (and report a failure) for nothing."""
    from pathlib import Path

    from bench.replicate import ASV_EXCLUDE
    from bench.runner import RunOptions, selected, suite_names

    names = suite_names(Path(__file__).resolve().parents[1])
    assert not selected(names, RunOptions(bench="TrainStep|Predict"), ASV_EXCLUDE)
    assert selected(names, RunOptions(bench="TrainStep|cold_start"), ASV_EXCLUDE)
    assert selected(names, RunOptions(bench="TrainStep"), "")  # --processes 0: asv times it
    assert not selected(names, RunOptions(bench="variants", quick=False), ASV_EXCLUDE + r"(?!variants\.)")
