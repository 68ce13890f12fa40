"""Regression verdicts and published tables, from small asv results files written here."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from asv_files import write_results
from bench import report

BASE, HEAD = "a" * 40, "b" * 40
FW = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["128"]]
FW2 = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"]]
ACC = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["5"]]


def ci(v, rel=0.02):
    return (v * (1 - rel), v * (1 + rel))


def base_values():
    return {
        "throughput.TrainStep.time_train_step": (FW, [0.010, 0.020, 0.015], [ci(0.010), ci(0.020), ci(0.015)]),
        "throughput.Predict.time_predict": (FW, [0.004, 0.008, 0.006], [ci(0.004, 0.2), ci(0.008), ci(0.006)]),
        "cold_start.ColdStart.timeraw_cold_start": (FW2, [1.5, 3.0, 2.0], [ci(1.5), ci(3.0), ci(2.0)]),
        "memory.HostMemory.peakmem_train": (FW2, [4e8, 8e8, 5e8], [None, None, None]),
        "accuracy.Accuracy.track_test_error": (ACC, [0.021, 0.021, 0.021], [None, None, None]),
    }


@pytest.fixture
def results(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, base_values())
    head = base_values()
    # torch train step: planted 30% slowdown; tensorflow: 3% wobble inside its CI
    head["throughput.TrainStep.time_train_step"] = (FW, [0.013, 0.0206, 0.015], [ci(0.013), ci(0.0206), ci(0.015)])
    # torch predict: 15% slower but its interval (+-20%) overlaps the base's: noise, not a verdict
    # jax predict: 30% faster; tensorflow predict failed at head (null)
    head["throughput.Predict.time_predict"] = (FW, [0.0046, None, 0.0042], [ci(0.0046, 0.2), None, ci(0.0042)])
    # jax accuracy dropped 97.9% -> 97.0% (error 0.021 -> 0.030)
    head["accuracy.Accuracy.track_test_error"] = (ACC, [0.021, 0.021, 0.030], [None, None, None])
    # cold start: jax skipped at head (NaN) -> gone
    head["cold_start.ColdStart.timeraw_cold_start"] = (FW2, [1.5, 3.0, float("nan")], [ci(1.5), ci(3.0), None])
    write_results(res, "box", HEAD, 1_700_000_100_000, head)
    return res


def verdicts(frame):
    out = report.compare(frame, "box", BASE, HEAD, 0.10)
    return {(r.metric, r.framework): r.verdict for r in out.itertuples()}


def test_tidy_frame_has_one_row_per_combination(results):
    frame = report.load_results(results)
    assert len(frame) == 2 * (3 + 3 + 3 + 3 + 3)
    row = frame[(frame.commit == BASE) & (frame.metric == "train_step") & (frame.framework == "torch")].iloc[0]
    assert row.value == 0.010 and row.batch_size == 128 and row.device == "cpu"
    assert row.ci_low == pytest.approx(0.0098) and row.unit == "seconds" and row.status == "ok"
    failed = frame[(frame.commit == HEAD) & (frame.metric == "predict") & (frame.framework == "tensorflow")]
    assert failed.status.iloc[0] == "failed"


def test_planted_30_percent_slowdown_is_a_regression(results):
    v = verdicts(report.load_results(results))
    assert v[("train_step", "torch")] == "regression"


def test_three_percent_wobble_is_unchanged(results):
    assert verdicts(report.load_results(results))[("train_step", "tensorflow")] == "unchanged"


def test_change_inside_overlapping_intervals_is_noise(results):
    assert verdicts(report.load_results(results))[("predict", "torch")] == "unchanged"


def test_faster_is_an_improvement_and_accuracy_drop_a_regression(results):
    v = verdicts(report.load_results(results))
    assert v[("predict", "jax")] == "improvement"
    assert v[("test_error", "jax")] == "regression"
    assert v[("test_error", "torch")] == "unchanged"


def test_failed_and_gone(results):
    v = verdicts(report.load_results(results))
    assert v[("predict", "tensorflow")] == "failed"
    assert v[("cold_start", "jax")] == "gone"


def test_change_text_reads_in_the_metric_direction(results):
    out = report.compare(report.load_results(results), "box", BASE, HEAD, 0.10)
    torch_train = out[(out.metric == "train_step") & (out.framework == "torch")].iloc[0]
    assert torch_train.ratio == pytest.approx(1.3)
    assert torch_train.change == "-23.1% samples/s (one process each: asv's in-process interval only)"
    jax_acc = out[(out.metric == "test_error") & (out.framework == "jax")].iloc[0]
    assert jax_acc.change.startswith("-0.90 accuracy points (1 seed each")


def _replicated(tmp_path, head_factor, spread):
    """Five processes per side for torch's train step: per-process values base 10 ms x noise."""
    import numpy as np

    rng = np.random.default_rng(0)
    res = tmp_path / "results" / "asv"
    for commit, factor, date in ((BASE, 1.0, 1_700_000_000_000), (HEAD, head_factor, 1_700_000_100_000)):
        values = list(0.010 * factor * np.exp(rng.normal(0, spread, 5)))
        bench = {"throughput.TrainStep.time_train_step": (FW, [float(np.median(values)), 0.02, 0.015],
                                                           [ci(0.010), ci(0.02), ci(0.015)])}
        write_results(res, "box", commit, date, bench,
                      samples={"throughput.TrainStep.time_train_step": [values, None, None]})
    return report.load_results(res)


def test_replicated_runs_give_verdicts_from_an_interval_over_processes(tmp_path):
    frame = _replicated(tmp_path, 1.30, 0.02)
    cell = frame[(frame.commit == HEAD) & (frame.framework == "torch")].iloc[0]
    assert cell.runs == 5 and 0 < cell.spread < 0.1
    out = report.compare(frame, "box", BASE, HEAD, 0.10)
    row = out[out.framework == "torch"].iloc[0]
    assert row.verdict == "regression"
    assert "(95% CI" in row.change and "5 vs 5 processes, separate runs" in row.change


def test_replicated_noise_wider_than_the_change_is_not_a_verdict(tmp_path):
    out = report.compare(_replicated(tmp_path, 1.12, 0.15), "box", BASE, HEAD, 0.10)
    assert out[out.framework == "torch"].iloc[0].verdict == "inconclusive"


def test_table_cells_show_their_interval_when_several_processes_stand_behind_them(tmp_path):
    frame = _replicated(tmp_path, 1.0, 0.02)
    table, _ = report.comparison_table(frame, "box", HEAD, "cpu")
    cell = table.loc["torch", "train samples/s @128"]
    assert re.fullmatch(r"[\d,]+ ±\d\.\d% \(\d\.\d\dx\)", cell), cell
    assert "±" not in table.loc["tensorflow", "train samples/s @128"]  # one process: no interval shown


def test_malformed_file_is_skipped_with_a_warning(results):
    bad = results / "box" / "cccccccc-existing-py_test.json"
    bad.write_text("{ not json")
    with pytest.warns(UserWarning, match="cccccccc-existing-py_test.json"):
        frame = report.load_results(results)
    assert set(frame.commit) == {BASE, HEAD}


def test_default_revisions_are_newest_and_previous_on_one_machine(results):
    write_results(results, "other", "c" * 40, 1_800_000_000_000, base_values())
    frame = report.load_results(results)
    with pytest.raises(report.ReportError, match="several machines"):
        report.pick_revisions(frame, None, None, None)
    assert report.pick_revisions(frame, None, None, "box") == ("box", BASE, HEAD)
    assert report.pick_revisions(frame, "aaaa", "bbbb", "box") == ("box", BASE, HEAD)
    with pytest.raises(report.ReportError, match="no earlier commit"):
        report.pick_revisions(frame, None, None, "other")


def test_comparison_table_has_ratios_and_footnoted_na(results):
    frame = report.load_results(results)
    table, notes = report.comparison_table(frame, "box", HEAD, "cpu")
    assert table.loc["tensorflow", "train samples/s @128"] == "6,214 (0.63x)"
    assert table.loc["jax", "train samples/s @128"] == "8,533 (0.87x)"
    assert table.loc["torch", "train samples/s @128"] == "9,846 (1.00x)"  # the fastest sets 1.00x
    assert table.loc["jax", "test accuracy (5 ep)"] == "0.9700"
    assert table.loc["tensorflow", "predict samples/s @128"].startswith("n/a [")
    assert any("failed" in n for n in notes)
    assert table.loc["torch", "host peak MiB"] == "381"


def run_cli(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "bench.cli", "report", *args], cwd=tmp_path,
                          capture_output=True, text=True)


def test_cli_gate_exit_codes_and_files(results, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_START}\nold\n{report.README_END}\nrest\n")
    proc = run_cli(tmp_path, "--fail-on-regression")
    assert proc.returncode == 1, proc.stderr
    assert "regression" in proc.stdout
    out = tmp_path / "results" / "report"
    for name in ("results.csv", "latest.md", "latest.csv", "latest.html", "regressions.md",
                 "throughput_box_cpu.png", "history_box_cpu.png"):
        assert (out / name).is_file(), name
    text = readme.read_text()
    assert "\nold\n" not in text and "train samples/s @128" in text and text.endswith(f"{report.README_END}\nrest\n")
    assert run_cli(tmp_path).returncode == 0  # no gate asked for: report only
    missing = run_cli(tmp_path, "--base", "deadbeef")
    assert missing.returncode == 2 and "unknown revision" in missing.stderr


def test_cli_no_results_exits_2(tmp_path):
    proc = run_cli(tmp_path)
    assert proc.returncode == 2 and "no asv results" in proc.stderr


# The heavy-variants suite: a third parameter that is not a batch size, and (framework, device, mode, epochs).
VARIANT = [["'torch'", "'jax'"], ["'cpu'"], ["'fused'", "'cell'"]]
PREC = [["'torch'", "'jax'"], ["'cpu'"], ["'float32'", "'tf32'", "'bf16'"]]
PREC_ACC = [["'torch'", "'jax'"], ["'cpu'"], ["'float32'", "'tf32'", "'bf16'"], ["5"]]
PEAK = [["'torch'", "'jax'"], ["'cpu'"]]
NAN = float("nan")


def variant_values(cell_torch=0.05, bf16_jax_error=0.02, peak_torch=200.0):
    return {
        "variants.ImplementationVariants.time_variant_train_step":
            (VARIANT, [0.01, cell_torch, 0.02, 0.03], [ci(0.01), ci(cell_torch), ci(0.02), ci(0.03)]),
        "variants.Precisions.time_precision_train_step":
            (PREC, [0.016, NAN, 0.008, 0.02, NAN, 0.04], [None] * 6),
        "variants.PrecisionAccuracy.track_precision_test_error":
            (PREC_ACC, [0.021, NAN, 0.022, 0.021, NAN, bf16_jax_error], [None] * 6),
        "variants.PrecisionAccuracy.track_precision_time_to_accuracy":
            (PREC_ACC, [18.0, NAN, 12.5, 24.0, NAN, NAN], [None] * 6),
        "variants.MatmulPeak.track_matmul_gflops": (PEAK, [peak_torch, 190.0], [ci(peak_torch), ci(190.0)]),
    }


@pytest.fixture
def variant_results(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, variant_values())
    # torch cell 40% slower, jax bf16 accuracy 98.0% -> 90.0%, torch matmul peak 200 -> 150 GFLOP/s
    write_results(res, "box", HEAD, 1_700_000_100_000, variant_values(0.07, 0.10, 150.0))
    return res


def test_variant_params_are_kept_apart_and_epochs_read_from_the_fourth(variant_results):
    frame = report.load_results(variant_results)
    acc = frame[(frame.metric == "precision_test_error") & (frame.commit == BASE)]
    assert sorted(acc.param.unique()) == ["bf16", "float32", "tf32"]
    assert set(acc.epochs) == {5}
    out = report.compare(frame, "box", BASE, HEAD, 0.10)
    got = {(r.metric, r.framework, r.param): r.verdict for r in out.itertuples()}
    assert got["variant_train_step", "torch", "cell"] == "regression"
    assert got["variant_train_step", "torch", "fused"] == "unchanged"  # not merged with cell
    assert got["precision_test_error", "jax", "bf16"] == "regression"
    assert got["precision_test_error", "jax", "float32"] == "unchanged"
    peak = out[(out.metric == "matmul_gflops") & (out.framework == "torch")].iloc[0]
    assert peak.verdict == "regression"  # fewer GFLOP/s is worse, unlike every other stored value
    text = report.render_regressions(out, "box", BASE, HEAD, 0.10)
    assert "torch, cpu, cell" in text and "jax, cpu, bf16, 5 ep" in text


def test_precision_tables_name_each_mode_and_its_accuracy(variant_results):
    frame = report.load_results(variant_results)
    md = "\n".join(report.variants_tables(frame, "box", BASE, "cpu"))
    assert "train samples/s at batch 128 by precision" in md
    speed = md.split("by precision**")[1].split("**")[0]
    assert re.search(r"\| torch +\| 8,000 +\| 16,000 +\|", speed)  # float32 then bf16
    assert "test accuracy by precision after 5 epoch(s)" in md
    assert "0.9780 (12.5 s to 0.97)" in md  # torch bf16
    assert "0.9800" in md and "tf32 is not shown" in md
    header = md.split("test accuracy by precision")[1].splitlines()[2]
    assert header.index("float32") < header.index("bf16")  # PRECISIONS order, not alphabetical
