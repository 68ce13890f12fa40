"""bench/runner.py: what a run selects and hands to asv, and what it refuses before writing anything.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bench.runner import RunOptions, build_env, chunk_regex

from conftest import ROOT, cli, cli_env


def test_every_accuracy_benchmark_asks_for_the_data_check():
    """`--bench variants` or one accuracy benchmark by full name selects training on MNIST, so the run
    checks the data and records it (the old test matched the regex against one literal name)."""
    import re

    from bench.runner import NEEDS_DATA, RunOptions, selected, suite_names

    names = suite_names(ROOT)
    for bench in ("variants", "accuracy.Accuracy.track_test_error", "PrecisionAccuracy", "SequenceAccuracy"):
        assert any(re.search(NEEDS_DATA, n) for n in selected(names, RunOptions(bench=bench))), bench
    assert not any(re.search(NEEDS_DATA, n) for n in selected(names, RunOptions(bench="TrainStep")))


def test_the_tools_own_writes_do_not_make_the_tree_dirty(tmp_path):
    from bench.runner import dirty_tree

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "results" / "asv").mkdir(parents=True)
    (tmp_path / "results" / "asv" / "benchmarks.json").write_text("{}")
    (tmp_path / "README.md").write_text("table")
    (tmp_path / "code.py").write_text("x = 1")
    git("add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    (tmp_path / "results" / "asv" / "benchmarks.json").write_text('{"new": 1}')
    (tmp_path / "README.md").write_text("new table")
    assert not dirty_tree(tmp_path)
    (tmp_path / "code.py").write_text("x = 2")
    assert dirty_tree(tmp_path)


@pytest.mark.parametrize("name", ["..", ".", "-x", "a/b", "x" * 300])
def test_unusable_machine_names_are_refused_before_anything_is_written(name, tmp_path):
    proc = cli("run", f"--machine={name}", "--bench", "TrainStep", env=cli_env(HOME=str(tmp_path)))
    assert proc.returncode == 2 and "machine name" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / ".asv-machine.json").exists()


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

    from bench.replicate import ASV_EXCLUDE
    from bench.runner import RunOptions, selected, suite_names

    names = suite_names(Path(__file__).resolve().parents[1])
    assert not selected(names, RunOptions(bench="TrainStep|Predict"), ASV_EXCLUDE)
    assert selected(names, RunOptions(bench="TrainStep|cold_start"), ASV_EXCLUDE)
    assert selected(names, RunOptions(bench="TrainStep"), "")  # --processes 0: asv times it
    assert not selected(names, RunOptions(bench="variants", quick=False), ASV_EXCLUDE + r"(?!variants\.)")
