"""bench/tasks/run.py: what a run selects and hands to asv, and what it refuses before writing anything."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, cli, cli_env

from bench.tasks.run import RunOptions, build_env, chunk_regex


def test_every_accuracy_benchmark_asks_for_the_data_check():
    """`--bench variants` or one accuracy benchmark by full name selects training on MNIST, so the run
    checks the data and records it (the old test matched the regex against one literal name)."""
    import re

    from bench.tasks.run import NEEDS_DATA, RunOptions, selected, suite_names

    names = suite_names(ROOT)
    for bench in ("variants", "accuracy.Accuracy.track_test_error", "PrecisionAccuracy", "SequenceAccuracy"):
        assert any(re.search(NEEDS_DATA, n) for n in selected(names, RunOptions(bench=bench))), bench
    assert not any(re.search(NEEDS_DATA, n) for n in selected(names, RunOptions(bench="TrainStep")))


def test_the_tools_own_writes_do_not_make_the_tree_dirty(tmp_path):
    from bench.tasks.run import dirty_tree

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
    assert re.search(quick, "cold_start.ColdStart.timeraw_cold_start('torch', 'cpu')")
    for full_only in (
        "accuracy.Accuracy.track_test_error('torch', 'cpu')",
        "memory.HostMemory.peakmem_train('torch', 'cpu')",
    ):
        assert not re.search(quick, full_only)  # the full run's: the quick question is throughput
        assert re.search(
            chunk_regex("torch", "cpu", user=full_only.split(".")[0], quick=True), full_only
        )  # unless asked
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

    from bench.tasks.run import ASV_EXCLUDE, RunOptions, selected, suite_names

    names = suite_names(Path(__file__).resolve().parents[2])
    assert not selected(names, RunOptions(bench="TrainStep|Predict"), ASV_EXCLUDE)
    assert selected(names, RunOptions(bench="TrainStep|cold_start"), ASV_EXCLUDE)
    assert selected(names, RunOptions(bench="TrainStep"), "")  # --processes 0: asv times it
    assert not selected(names, RunOptions(bench="variants", quick=False), ASV_EXCLUDE + r"(?!variants\.)")


def test_each_accuracy_seed_is_stored_as_one_sample_and_the_value_is_their_median(tmp_path):
    """The seed log train_runs writes becomes the stored samples (replacing asv's single value), so the
    report has a seed-to-seed spread; a time most seeds did not reach stays as asv stored it (n/a)."""
    import json

    from asv_files import BASE, write_results

    from bench import report
    from bench.tasks.seeds import store_seeds

    root = tmp_path
    results = root / "results" / "asv"
    grid = [["'torch'", "'jax'"], ["'cpu'"], ["5"]]
    write_results(
        results,
        "box",
        BASE,
        1_700_000_000_000,
        {
            "accuracy.Accuracy.track_test_error": (grid, [0.021, 0.030], [None, None]),
            "accuracy.Accuracy.track_time_to_accuracy": (grid, [12.0, float("nan")], [None, None]),
        },
    )
    (results / "benchmarks.json").write_text(
        json.dumps(
            {
                name: {"params": grid, "param_names": ["framework", "device", "epochs"], "unit": unit, "version": "2"}
                for name, unit in (
                    ("accuracy.Accuracy.track_test_error", "error rate"),
                    ("accuracy.Accuracy.track_time_to_accuracy", "seconds"),
                )
            }
        )
    )
    log = tmp_path / "seeds.jsonl"
    log.write_text(
        json.dumps(
            {
                "key": "torch:cpu:float32",
                "epochs": 5,
                "test_error": [0.021, 0.019, 0.024],
                "time_to_accuracy": [12.0, 11.0, None],
            }
        )
        + "\n"
        + json.dumps(
            {
                "key": "jax:cpu:float32",
                "epochs": 5,
                "test_error": [0.030, 0.031, 0.029],
                "time_to_accuracy": [None, None, 30.0],
            }
        )
        + "\n"
    )
    assert store_seeds(log, root, "box", BASE) == 3  # torch error and time, jax error
    frame = report.load_results(results).set_index(["metric", "framework"])
    torch = frame.loc[("test_error", "torch")]
    assert torch.value == pytest.approx(0.021) and torch.runs == 3 and torch.spread > 0
    assert frame.loc[("time_to_accuracy", "torch")].value == pytest.approx(11.5)
    assert frame.loc[("time_to_accuracy", "jax")].status == "skipped"  # 1 of 3 seeds reached 0.97
    table, _ = report.comparison_table(report.load_results(results), "box", BASE, "cpu")
    assert table.loc["torch", "test accuracy (5 ep)"].endswith("(3 seeds)")


def test_a_full_run_adds_to_full_results_only_and_replaces_a_quick_runs():
    from bench.tasks.run import appends

    chosen = ["throughput.TrainStep.time_train_step", "throughput.Predict.time_predict"]
    full = {name: {"quick": False} for name in chosen}
    assert appends(full, chosen, quick=False, dirty=False)
    assert appends({}, chosen, quick=False, dirty=False)  # nothing stored: nothing to mix with
    assert not appends({**full, chosen[1]: {"quick": True}}, chosen, quick=False, dirty=False)
    assert appends({**full, "cold_start.ColdStart.timeraw_cold_start": {"quick": True}}, chosen, False, False)
    assert not appends(full, chosen, quick=True, dirty=False)
    assert not appends(full, chosen, quick=False, dirty=True)


def test_a_run_without_accuracy_keeps_the_data_note_of_the_accuracy_stored(tmp_path):
    import json

    from bench.tasks.run import meta_path, write_meta

    base = {"machine": "box", "commit": "a" * 40}
    write_meta(tmp_path, {**base, "data": "MNIST (SHA-256 verified)"})
    write_meta(tmp_path, {**base, "data": "not needed: no accuracy benchmark selected"})
    assert json.loads(meta_path(tmp_path, "box", "a" * 40).read_text())["data"] == "MNIST (SHA-256 verified)"


def test_the_rounds_say_when_the_run_to_run_term_alone_exceeds_the_target():
    """The stop rule includes the machine's run-to-run term; where that term alone is wider than the
    target, no number of rounds meets it, and the run says so instead of seeming to try."""
    from bench.tasks.run import _rerun_term

    assert _rerun_term(0.0, 0.05) == ""
    assert "±2.0%" in _rerun_term(0.01, 0.05) and "budget" not in _rerun_term(0.01, 0.05)
    assert "±3.2%" in _rerun_term(
        0.016, 0.03
    )  # expm1(1.96 x 0.016): the page's term, one function and "the budget ends the rounds" in _rerun_term(0.016, 0.03)


def test_a_quick_runs_rounds_get_what_is_left_of_its_ten_minutes():
    """Issue 49: the quick run's budget is the whole run's (asv's part kept aside), not its rounds' alone."""
    from bench.tasks.selection import ASV_RESERVE, BUDGET, QUICK_RUN, rounds_budget

    assert QUICK_RUN == 600.0
    assert rounds_budget(True, None, spent=40.0) == QUICK_RUN - 40.0 - ASV_RESERVE
    assert rounds_budget(True, None, spent=QUICK_RUN) == 0.0  # nothing left: the minimum rounds, then stop
    assert rounds_budget(False, None, spent=40.0) == BUDGET
    assert rounds_budget(True, 90.0, spent=40.0) == 90.0  # --budget says it


def test_jaxs_workers_stage_with_its_compile_cache_and_nothing_else_changes(monkeypatch, tmp_path):
    """The one staging-only setting (shown to change no timed sample of JAX's: docs/validation.md): the
    run's engine starts JAX's workers with JAX's compilation cache under the harness's cache folder, and
    no other framework's (Keras on JAX's train step measured faster with it); the settings that change a
    timed value are still dropped (rounds.closed_env); a folder the user set stays theirs."""
    from bench.measure import forks, rounds
    from bench.tasks import run

    started: dict = {}

    def fake_rounds(arms, plan, env, start, **kw):
        for arm in arms:
            start(arm, plan.bench, rounds.arm_env(arm, env))
        raise KeyboardInterrupt  # enough: what each worker was started with

    monkeypatch.setattr(rounds, "run_rounds", fake_rounds)
    monkeypatch.setattr(
        forks, "Worker", lambda tree, framework, device, bench, env, zygote: started.update({framework: env})
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "MALLOC_ARENA_MAX": "2", "PATH": "/usr/bin"}
    arms = [rounds.Arm(f"{fw}:cpu", tmp_path, fw, "cpu") for fw in ("jax", "keras-jax", "torch")]
    with pytest.raises(KeyboardInterrupt):
        run._run_engine(
            run.RunOptions(fresh_processes=True, quiet=True), tmp_path, arms, rounds.Plan(bench="x"), env, None, None
        )
    assert started["jax"]["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "seqmnist-bench" / "jax")
    assert started["jax"]["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    assert not any(k.startswith("JAX_") for fw in ("keras-jax", "torch") for k in started[fw])
    assert "MALLOC_ARENA_MAX" not in started["jax"] and "MALLOC_ARENA_MAX" not in started["torch"]
    assert rounds.compile_cache({"JAX_COMPILATION_CACHE_DIR": "/mine"})["JAX_COMPILATION_CACHE_DIR"] == "/mine"
