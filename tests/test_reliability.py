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
             "baseline.MinimalLoop.time_minimal_train_step": (FW, [0.009, 0.018] * 3, [None] * 6),
             "variants.HiddenScaling.time_hidden_train_step": (HID, [0.01, 0.02] * 3, [None] * 6),
             "variants.MatmulPeak.track_matmul_gflops": (FW2, [100.0, 90.0, 80.0], [None] * 3)}
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
    code = (f"import os; os.sched_setaffinity(0, [0]); import impls; impls.load({framework!r}).minimal_loop(8, 'cpu'); "
            f"{BASELINE_THREADS[framework]}")
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
    import impls
    from bench.suites import baseline

    def broken(cls, batch_size, device):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(impls.load("torch"), "minimal_loop", classmethod(broken))
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


# 4 ---------------------------------------------------------------------------------------------
def test_4_every_accuracy_benchmark_asks_for_the_data_check():
    """`--bench variants` or one accuracy benchmark by full name selects training on MNIST, so the run
    checks the data and records it (the old test matched the regex against one literal name)."""
    import re

    from bench.runner import NEEDS_DATA, RunOptions, selected, suite_names

    names = suite_names(ROOT)
    for bench in ("variants", "accuracy.Accuracy.track_test_error", "PrecisionAccuracy", "SequenceAccuracy"):
        assert any(re.search(NEEDS_DATA, n) for n in selected(names, RunOptions(bench=bench))), bench
    assert not any(re.search(NEEDS_DATA, n) for n in selected(names, RunOptions(bench="TrainStep")))


# 6 ---------------------------------------------------------------------------------------------
def test_6_a_bug_in_the_report_is_raised_not_turned_into_unreadable_files(tmp_path, monkeypatch):
    res = tmp_path / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {
        "throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)})

    def bug(*args):
        raise KeyError("planted bug in the report")

    from bench.report import load

    monkeypatch.setattr(load, "_rows", bug)
    with pytest.raises(KeyError, match="planted bug"):
        report.load_results(res)


def test_6_an_internal_value_error_is_not_called_a_usage_error(monkeypatch, capsys):
    from bench import cli as cli_module

    def bug(args):
        raise ValueError("planted internal bug")

    parser = cli_module.build_parser()
    monkeypatch.setattr(cli_module, "cmd_report", bug)
    monkeypatch.setattr(cli_module, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["report"].set_defaults(func=bug)
    with pytest.raises(ValueError, match="planted internal bug"):
        cli_module.main(["report"])


# 8 ---------------------------------------------------------------------------------------------
def test_8_ci_caches_run_metadata_with_the_results():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "benchmarks.yml").read_text())
    caches = [step["with"]["path"] for job in workflow["jobs"].values() for step in job["steps"]
              if "actions/cache" in step.get("uses", "") and "results/asv" in step.get("with", {}).get("path", "")]
    assert caches, "no cache of results/asv"
    for paths in caches:
        assert "results/meta" in paths.split()


# 10 / 11 ---------------------------------------------------------------------------------------
def _stored(res: Path, value: float, started: int, machine="box", commit=A):
    path = write_results(res, machine, commit, 1_700_000_000_000, {
        "accuracy.Accuracy.track_test_error": ([["'torch'"], ["'cpu'"], ["5"]], [value], [None])})
    doc = json.loads(path.read_text())
    doc["started_at"] = {"accuracy.Accuracy.track_test_error": started}
    doc["results"]["accuracy.Accuracy.track_test_error"][3] = started
    path.write_text(json.dumps(doc))
    return path


def test_11_a_quick_run_never_replaces_a_full_result(tmp_path):
    from bench import history

    res = tmp_path / "asv"
    _stored(res, 0.021, 1000)  # the full 5-epoch run
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"machine": "box", "commit": A, "quick": False}))
    before = history.snapshot(res, "box", A)
    prov = history.provenance(meta, before)
    _stored(res, 0.300, 2000)  # a quick 1-epoch run re-measured it
    kept = history.keep_full(before, res, "box", A, prov)
    assert kept == ["accuracy.Accuracy.track_test_error"]
    assert report.load_results(res).value.tolist() == [0.021]
    # a quick result from a quick run is fair game for the next run
    meta.write_text(json.dumps({"machine": "box", "commit": A, "quick": True}))
    before = history.snapshot(res, "box", A)
    _stored(res, 0.250, 3000)
    assert history.keep_full(before, res, "box", A, history.provenance(meta, before)) == []
    assert report.load_results(res).value.tolist() == [0.25]


def test_11_each_stored_result_names_the_run_that_made_it(tmp_path):
    from bench import history

    res = tmp_path / "asv"
    _stored(res, 0.021, 1000)
    before = history.snapshot(res, "box", A)
    prov = {"accuracy.Accuracy.track_test_error": {"quick": False, "started": "full run"}}
    assert history.updated_provenance(prov, before, res, "box", A, {"quick": True, "started": "quick"}) == prov
    _stored(res, 0.022, 2000)
    now = history.updated_provenance(prov, before, res, "box", A, {"quick": False, "started": "second full"})
    assert now["accuracy.Accuracy.track_test_error"]["started"] == "second full"


def test_11_replicated_values_of_one_framework_leave_the_others_stored(tmp_path):
    """A --frameworks torch run adds torch's processes; tensorflow's and jax's stay as they were."""
    from asv.results import Results

    from bench import replicate

    res = tmp_path / "asv"
    name = "throughput.TrainStep.time_train_step"
    grid = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["32", "128"]]
    write_results(res, "box", A, 1_700_000_000_000, {name: (grid, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06], [None] * 6)},
                  samples={name: [[0.01, 0.011], [0.02], [0.03], [0.04], [0.05], [0.06]]}, env="existing-py")
    rows = pd.DataFrame([{"benchmark": name, "param": 0, "process": p, "value": v, "status": "ok",
                          "all_params": json.dumps(grid), "version": "1"} for p, v in ((1, 0.012), (2, 0.013))])
    replicate.store(rows, res, "box", A, "existing-py", append=True)
    stored = Results.load(str(next((res / "box").glob(f"{A[:8]}-*.json"))), machine_name="box")
    values = stored.get_result_value(name, grid)
    assert values[1:] == [0.02, 0.03, 0.04, 0.05, 0.06]
    assert stored.get_result_samples(name, grid)[0] == [0.01, 0.011, 0.012, 0.013]  # a run adds its processes


# 12 --------------------------------------------------------------------------------------------
def test_12_a_benchmark_failing_at_head_fails_the_report_gate(tmp_path):
    res = tmp_path / "results" / "asv"
    ok = {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)}
    write_results(res, "box", A, 1_700_000_000_000, ok)
    write_results(res, "box", B, 1_700_000_100_000, {
        "throughput.TrainStep.time_train_step": (FW, [None] + [0.01] * 5, [None] * 6)})
    proc = cli("report", "--no-plots", "--readme", "", "--fail-on-regression", cwd=tmp_path)
    assert proc.returncode == 1 and "failed" in proc.stdout, proc.stderr


def test_12_compare_never_calls_a_pair_skipped_on_both_sides_failed():
    from bench.compare import estimates

    rows = [{"framework": "torch", "device": "gpu", "benchmark": "throughput.TrainStep.time_train_step", "param": 0,
             "params": "torch, gpu, 32", "round": 1, "side": side, "value": float("nan"), "status": "skipped",
             "reason": "no GPU"} for side in ("base", "head")]
    assert estimates(pd.DataFrame(rows), 0.03, 0.95).empty


# 13 --------------------------------------------------------------------------------------------
def test_13_the_tools_own_writes_do_not_make_the_tree_dirty(tmp_path):
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


# 15 --------------------------------------------------------------------------------------------
def test_15_more_threads_than_cores_is_refused():
    n = len(os.sched_getaffinity(0)) + 1
    for args, env in ((["run", "--threads", str(n)], None), (["train", "--framework", "torch"], cli_env(SEQMNIST_THREADS=str(n)))):
        proc = cli(*args, env=env)
        assert proc.returncode == 2 and "core" in proc.stderr and "Traceback" not in proc.stderr


def test_15_readme_is_published_only_from_a_complete_full_run(tmp_path):
    res = tmp_path / "results" / "asv"
    full = {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)}
    write_results(res, "box", A, 1_700_000_000_000, full)
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / f"{A[:8]}.json").write_text(json.dumps({"machine": "box", "commit": A, "quick": False}))
    partial = {"throughput.TrainStep.time_train_step": ([["'torch'"], ["'cpu'"], ["32", "128"]], [0.02] * 2, [None] * 2)}
    write_results(res, "box", B, 1_700_000_100_000, partial)
    (tmp_path / "results" / "meta" / "box" / f"{B[:8]}.json").write_text(json.dumps({"machine": "box", "commit": B, "quick": True}))
    table = report.readme_table(report.load_results(res))
    assert f"`{A[:8]}`" in table and "12,800" in table  # 128 / 0.01, not the quick torch-only 6,400


def test_15_report_refuses_base_equal_head_and_bad_revisions_before_writing(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)})
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{report.README_START}\nold\n{report.README_END}\n")
    same = cli("report", "--base", A[:8], "--head", A[:8], cwd=tmp_path)
    assert same.returncode == 2 and "same commit" in same.stderr
    bad = cli("report", "--base", "nosuchrev", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown revision" in bad.stderr
    assert "\nold\n" in readme.read_text() and not (tmp_path / "results" / "report").exists()


def test_15_the_header_names_the_data_the_accuracy_was_measured_on(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {
        "accuracy.Accuracy.track_test_error": ([["'torch'"], ["'cpu'"], ["1"]], [0.19], [None])})
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / f"{A[:8]}.json").write_text(json.dumps(
        {"machine": "box", "commit": A, "data": "unverified IDX data (no known checksum) from /fashion", "dirty": True}))
    header = report.header_line(report.load_results(res), "box", A)
    assert "unverified IDX data (no known checksum) from /fashion" in header and "recorded as dirty" in header


# 16 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["..", ".", "-x", "a/b", "x" * 300])
def test_16_unusable_machine_names_are_refused_before_anything_is_written(name, tmp_path):
    proc = cli("run", f"--machine={name}", "--bench", "TrainStep", env=cli_env(HOME=str(tmp_path)))
    assert proc.returncode == 2 and "machine name" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / ".asv-machine.json").exists()


# 17 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, env, message", [
    (["run", "--bench", "("], {}, "not a regular expression"),
    (["compare", "HEAD", "HEAD", "--bench", "("], {}, "not a regular expression"),
    (["noise", "--seed", "99999999999999999999999"], {}, "must be in 0.."),
    (["compare", "HEAD~1", "HEAD", "--threshold", "abc"], {}, "expected a number, got 'abc'"),
    (["run", "--processes", "x"], {}, "expected an integer"),
    (["run", "--quick"], {"SEQMNIST_ACCURACY_EPOCHS": "0"}, "SEQMNIST_ACCURACY_EPOCHS='0': must be a positive integer"),
    (["run", "--quick"], {"SEQMNIST_SEQUENCE_EPOCHS": "lots"}, "SEQMNIST_SEQUENCE_EPOCHS='lots'"),
    (["train", "--framework", "torch", "--seed", "-1"], {}, "must be in 0.."),
])
def test_17_bad_input_is_a_named_error_with_exit_2(args, env, message):
    proc = cli(*args, env=cli_env(**env))
    assert proc.returncode == 2, proc.stderr[-800:]
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_17_an_unreadable_data_folder_or_checksum_list_is_a_data_error(tiny_idx, monkeypatch):
    from bench.data import DataError, load_mnist

    (tiny_idx / "SHA256SUMS").write_bytes(b"\xff\xfe not text")
    with pytest.raises(DataError, match="SHA256SUMS: cannot read"):
        load_mnist(tiny_idx)
    (tiny_idx / "SHA256SUMS").unlink()

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "is_file", denied)
    with pytest.raises(DataError, match="cannot read it"):
        load_mnist(tiny_idx)


def test_17_a_stored_zero_or_a_bad_meta_file_is_named_not_a_crash(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)})
    write_results(res, "box", B, 1_700_000_100_000, {"throughput.TrainStep.time_train_step": (FW, [0.0] + [0.01] * 5, [None] * 6)})
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / "deadbeef.json").write_text("[1]")
    proc = cli("report", "--no-plots", "--readme", "", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "skipping run metadata" in proc.stderr
    latest = (tmp_path / "results" / "report" / "latest.md").read_text()
    assert "inf" not in latest and "not a valid measurement" in latest
    assert "failed" in (tmp_path / "results" / "report" / "regressions.md").read_text()


def test_17_report_out_that_is_a_file_is_refused(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)})
    (tmp_path / "taken").write_text("mine")
    proc = cli("report", "--out", "taken", cwd=tmp_path)
    assert proc.returncode == 2 and "not a folder" in proc.stderr and (tmp_path / "taken").read_text() == "mine"


# 18 --------------------------------------------------------------------------------------------
def test_18_a_bench_regex_matching_nothing_is_exit_2_not_a_failure():
    proc = cli("run", "--bench", "NoSuchBench", "--frameworks", "torch")
    assert proc.returncode == 2 and "no benchmark matches --bench 'NoSuchBench'" in proc.stderr


def test_18_report_from_a_subfolder_writes_beside_the_results(tmp_path):
    (tmp_path / "asv.conf.json").write_text("{}")
    res = tmp_path / "results" / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)})
    sub = tmp_path / "bench"
    sub.mkdir()
    for args in ([], ["--results", "../results/asv"]):
        proc = cli("report", "--no-plots", *args, cwd=sub)
        assert proc.returncode == 0, proc.stderr
        assert not (sub / "results").exists() and (tmp_path / "results" / "report" / "latest.md").is_file()


def test_15_a_new_hosts_quick_run_is_published_until_it_has_a_full_one(tmp_path):
    res = tmp_path / "results" / "asv"
    meta = tmp_path / "results" / "meta" / "box"
    meta.mkdir(parents=True)
    for commit, date, value, quick in ((A, 1_700_000_000_000, 0.01, True), (B, 1_700_000_100_000, 0.02, True)):
        write_results(res, "box", commit, date, {"throughput.TrainStep.time_train_step": (FW, [value] * 6, [None] * 6)})
        (meta / f"{commit[:8]}.json").write_text(json.dumps({"machine": "box", "commit": commit, "quick": quick}))
    assert f"`{B[:8]}`" in report.readme_table(report.load_results(res))  # the newest quick one
    (meta / f"{A[:8]}.json").write_text(json.dumps({"machine": "box", "commit": A, "quick": False}))
    assert f"`{A[:8]}`" in report.readme_table(report.load_results(res))  # a full one wins over a newer quick one


def test_15_a_run_that_left_a_framework_out_does_not_replace_the_readme(tmp_path):
    """asv and the replicated store fill unselected frameworks' cells with skips (NaN): those do not
    make a run complete."""
    res = tmp_path / "results" / "asv"
    write_results(res, "box", A, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 6, [None] * 6)})
    nan = float("nan")
    write_results(res, "box", B, 1_700_000_100_000, {
        "throughput.TrainStep.time_train_step": (FW, [0.02, 0.02, nan, nan, 0.02, 0.02], [None] * 6)})
    assert f"`{A[:8]}`" in report.readme_table(report.load_results(res))


def test_report_reads_parameter_names_and_units_from_asvs_benchmarks_json(tmp_path):
    """A new benchmark needs no positional rule in the report: its batch size, epochs and unit come
    from the benchmarks.json asv writes beside the results (issue 12)."""
    res = tmp_path / "asv"
    grid = [["'torch'"], ["'cpu'"], ["'adamw'"], ["64"]]
    write_results(res, "box", A, 1_700_000_000_000, {"extra.Optimizers.time_optimizer_step": (grid, [0.5], [None])})
    (res / "benchmarks.json").write_text(json.dumps({
        "extra.Optimizers.time_optimizer_step": {"param_names": ["framework", "device", "optimizer", "batch_size"],
                                                 "unit": "seconds", "params": grid},
        "version": 2}))
    row = report.load_results(res).iloc[0]
    assert (row.framework, row.param, row.batch_size, row.unit) == ("torch", "adamw", 64, "seconds")
    assert pd.isna(row.epochs)
