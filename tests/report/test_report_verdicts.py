"""bench/report/verdicts.py: regression verdicts between two stored runs, from small asv results files
written here.
"""

from __future__ import annotations

import pytest
from asv_files import BASE, FW_2B, HEAD, base_values, replicated_frame, write_results
from conftest import cli

from bench import report


def verdicts(frame):
    out = report.verdicts_between(frame, "box", BASE, HEAD, 0.10)
    return {(r.metric, r.framework): r.verdict for r in out.itertuples()}


def test_planted_30_percent_slowdown_is_a_regression(results):
    v = verdicts(report.load_results(results))
    assert v[("train_step", "torch")] == "regression"


def test_three_percent_wobble_is_unchanged(results):
    assert verdicts(report.load_results(results))[("train_step", "tensorflow")] == "unchanged"


def test_a_change_whose_interval_straddles_the_threshold_is_inconclusive(results):
    """torch predict +15% with asv's +-20% in-process intervals on both sides: head/base's interval from
    them straddles the threshold, so the one rule (the one `compare` uses) says inconclusive, not a verdict."""
    assert verdicts(report.load_results(results))[("predict", "torch")] == "inconclusive"


def test_faster_is_an_improvement_and_accuracy_drop_a_regression(results):
    v = verdicts(report.load_results(results))
    assert v[("predict", "jax")] == "improvement"
    assert v[("test_error", "jax")] == "regression"
    assert v[("test_error", "torch")] == "unchanged"


def test_failed_and_gone(results):
    """A benchmark that ran at base and no longer runs at head fails (the gate's hole: it read "gone" and
    passed), unless --allow-gone names it."""
    frame = report.load_results(results)
    v = verdicts(frame)
    assert v[("predict", "tensorflow")] == "failed"
    assert v[("cold_start", "jax")] == "failed"
    allowed = report.verdicts_between(frame, "box", BASE, HEAD, 0.10, allow_gone=r"^cold_start\.")
    assert set(allowed[allowed.metric == "cold_start"].verdict) >= {"gone"}


STATUSES = ("ok", "failed", "skipped", "missing")
VALUE = {"ok": 0.01, "failed": None, "skipped": float("nan")}


def _report_verdict(tmp_path, base: str, head: str, selected: dict | None = None) -> str | None:
    """report's verdict for one benchmark whose status is `base` at BASE and `head` at HEAD."""
    import json

    res = tmp_path / f"{base}-{head}" / "results" / "asv"
    grid = [["'torch'"], ["'cpu'"], ["128"]]
    name = "throughput.TrainStep.time_train_step"
    for commit, status, hour in ((BASE, base, 0), (HEAD, head, 1)):
        found = {name: (grid, [VALUE[status]], [None])} if status in VALUE else {}
        other = {"throughput.Predict.time_predict": (grid, [0.004], [None])}  # every commit has a result
        write_results(res, "box", commit, 1_700_000_000_000 + hour * 3_600_000, {**found, **other})
    if selected is not None:
        meta = res.parent / "meta" / "box"
        meta.mkdir(parents=True, exist_ok=True)
        (meta / f"{HEAD[:8]}.json").write_text(json.dumps({"machine": "box", "commit": HEAD, "selected": selected}))
    out = report.verdicts_between(report.load_results(res), "box", BASE, HEAD, 0.10)
    row = out[out.benchmark == name]
    return row.verdict.iloc[0] if len(row) else None


def _compare_verdict(base: str, head: str) -> str | None:
    """compare's verdict for the same statuses, from paired rounds of the two arms."""
    import pandas as pd

    from bench.store.record import Measurement, frame_of
    from bench.tasks.compare import estimates

    rows = []
    for side, status in (("base", base), ("head", head)):
        if status == "missing":
            continue
        for r in range(1, 7):
            rows.append(
                Measurement(arm=side, framework="torch", device="cpu", benchmark="throughput.TrainStep.time_train_step", param=0, params="torch, cpu, 128", key="128",
                            round=r, value=0.01 if status == "ok" else float("nan"), samples=(0.01, 0.01) if status == "ok"
                            else (), status=status, reason="" if status == "ok" else f"{status} here", version="2")
            )  # fmt: skip
    out = estimates(frame_of(rows) if rows else pd.DataFrame(), 0.10, 0.95)
    return out.verdict.iloc[0] if len(out) else None


@pytest.mark.parametrize("base", STATUSES)
@pytest.mark.parametrize("head", STATUSES)
def test_compare_and_report_give_one_verdict_for_every_status_pair(tmp_path, base, head):
    """One rule (stats.status_verdict): the paired compare and the report between runs agree; a benchmark
    that ran at base and is skipped or missing at head fails the gate in both."""
    from bench.measure import stats

    said = _report_verdict(tmp_path, base, head)
    if base != "missing" or head != "missing":
        assert said == _compare_verdict(base, head)
    if base == "ok" and head in ("skipped", "missing", "failed"):
        assert stats.gate_fails([said])


def test_a_benchmark_the_heads_run_did_not_select_is_not_measured_and_fails_nothing(tmp_path):
    from bench.measure import stats

    selected = {"benchmarks": ["throughput.Predict.time_predict"], "keys": None}
    said = _report_verdict(tmp_path, "ok", "missing", selected)
    assert said == "not measured" and not stats.gate_fails([said])
    quick = {"benchmarks": ["throughput.TrainStep.time_train_step"], "keys": "(64)?"}  # its rounds timed 64 only
    assert _report_verdict(tmp_path / "q", "ok", "missing", quick) == "not measured"
    asked = {"benchmarks": ["throughput.TrainStep.time_train_step"], "keys": None}
    assert _report_verdict(tmp_path / "a", "ok", "missing", asked) == "failed"


def test_change_text_reads_in_the_metric_direction(results):
    out = report.verdicts_between(report.load_results(results), "box", BASE, HEAD, 0.10)
    torch_train = out[(out.metric == "train_step") & (out.framework == "torch")].iloc[0]
    assert torch_train.ratio == pytest.approx(1.3)
    assert torch_train.change == "-23.1% samples/s (one process each: asv's in-process interval only)"
    jax_acc = out[(out.metric == "test_error") & (out.framework == "jax")].iloc[0]
    assert jax_acc.change.startswith("-0.90 accuracy points (1 seed each")


def test_replicated_runs_give_verdicts_from_an_interval_over_processes(tmp_path):
    frame = replicated_frame(tmp_path, 1.30, 0.02)
    cell = frame[(frame.commit == HEAD) & (frame.framework == "torch")].iloc[0]
    assert cell.runs == 5 and 0 < cell.spread < 0.1
    out = report.verdicts_between(frame, "box", BASE, HEAD, 0.10)
    row = out[out.framework == "torch"].iloc[0]
    assert row.verdict == "regression"
    assert "(95% CI" in row.change and "5 vs 5 processes, separate runs" in row.change


def test_replicated_noise_wider_than_the_change_is_not_a_verdict(tmp_path):
    out = report.verdicts_between(replicated_frame(tmp_path, 1.12, 0.15), "box", BASE, HEAD, 0.10)
    assert out[out.framework == "torch"].iloc[0].verdict == "inconclusive"


def test_default_revisions_are_newest_and_previous_on_one_machine(results):
    write_results(results, "other", "c" * 40, 1_790_000_000_000, base_values())
    frame = report.load_results(results)
    with pytest.raises(report.ReportError, match="several machines"):
        report.pick_revisions(frame, None, None, None)
    assert report.pick_revisions(frame, None, None, "box") == ("box", BASE, HEAD)
    assert report.pick_revisions(frame, "aaaa", "bbbb", "box") == ("box", BASE, HEAD)
    with pytest.raises(report.ReportError, match="no earlier commit"):
        report.pick_revisions(frame, None, None, "other")


def test_variant_params_are_kept_apart_and_epochs_read_from_the_fourth(variant_results):
    frame = report.load_results(variant_results)
    acc = frame[(frame.metric == "precision_test_error") & (frame.commit == BASE)]
    assert sorted(acc.setting.unique()) == ["bf16", "float32", "tf32"]
    assert set(acc.epochs) == {5}
    out = report.verdicts_between(frame, "box", BASE, HEAD, 0.10)
    got = {(r.metric, r.framework, r.setting): r.verdict for r in out.itertuples()}
    assert got["variant_train_step", "torch", "cell"] == "regression"
    assert got["variant_train_step", "torch", "fused"] == "unchanged"  # not merged with cell
    assert got["precision_test_error", "jax", "bf16"] == "regression"
    assert got["precision_test_error", "jax", "float32"] == "unchanged"
    peak = out[(out.metric == "matmul_gflops") & (out.framework == "torch")].iloc[0]
    assert peak.verdict == "regression"  # fewer GFLOP/s is worse, unlike every other stored value
    text = report.render_regressions(out, "box", BASE, HEAD, 0.10)
    assert "torch, cpu, cell" in text and "jax, cpu, bf16, 5 ep" in text


def test_a_benchmark_failing_at_head_fails_the_report_gate(tmp_path):
    res = tmp_path / "results" / "asv"
    ok = {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    write_results(res, "box", BASE, 1_700_000_000_000, ok)
    write_results(
        res,
        "box",
        HEAD,
        1_700_000_100_000,
        {"throughput.TrainStep.time_train_step": (FW_2B, [None] + [0.01] * 5, [None] * 6)},
    )
    proc = cli("report", "--no-plots", "--readme", "", "--fail-on-regression", cwd=tmp_path)
    assert proc.returncode == 1 and "failed" in proc.stdout, proc.stderr


def seeded(tmp_path, head_errors):
    """Accuracy from 5 seeds per side (each seed one asv sample, as the runner stores them)."""
    import statistics

    res = tmp_path / "results" / "asv"
    grid = [["'torch'"], ["'cpu'"], ["5"]]
    base_errors = [0.020, 0.022, 0.021, 0.023, 0.019]
    for commit, errors, date in ((BASE, base_errors, 1_700_000_000_000), (HEAD, head_errors, 1_700_000_100_000)):
        write_results(
            res,
            "box",
            commit,
            date,
            {"accuracy.Accuracy.track_test_error": (grid, [statistics.median(errors)], [None])},
            samples={"accuracy.Accuracy.track_test_error": [errors]},
        )
    row = report.verdicts_between(report.load_results(res), "box", BASE, HEAD, 0.10).iloc[0]
    return row.verdict, row.change


def test_an_accuracy_change_within_the_seed_spread_is_not_a_regression(tmp_path):
    # median error +14% (beyond the 10% threshold), but the seeds scatter as much: no verdict either way
    verdict, change = seeded(tmp_path, [0.024, 0.026, 0.021, 0.027, 0.019])
    assert verdict == "inconclusive"
    assert "5 vs 5 seeds" in change and "seed-to-seed spread" in change


def test_an_accuracy_drop_beyond_the_seed_spread_is_a_regression(tmp_path):
    verdict, change = seeded(tmp_path, [0.030, 0.032, 0.031, 0.033, 0.029])  # error +43%, 1 point of accuracy
    assert verdict == "regression" and change.startswith("-1.00 accuracy points")


def test_a_benchmark_gone_at_head_keeps_what_base_says_of_its_cell(tmp_path):
    """No train-step results at head at all (removed on purpose, --allow-gone): each row is matched on the
    record's identity, and its batch size (shown in the report) comes from base, the side that has the cell."""
    res = tmp_path / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, base_values())
    head = base_values()
    del head["throughput.TrainStep.time_train_step"]
    write_results(res, "box", HEAD, 1_700_000_100_000, head)
    out = report.verdicts_between(report.load_results(res), "box", BASE, HEAD, 0.10, allow_gone="TrainStep")
    gone = out[out.metric == "train_step"]
    assert set(gone.verdict) == {"gone"} and list(gone.batch_size) == [128, 128, 128]
    assert "torch, cpu, batch 128" in report.render_regressions(out, "box", BASE, HEAD, 0.10)


def test_report_fails_the_gate_when_a_benchmark_stops_running_at_head_unless_allowed(tmp_path):
    _report_verdict(tmp_path, "ok", "skipped")
    res = tmp_path / "ok-skipped" / "results" / "asv"
    gate = ["report", "--results", str(res), "--base", BASE, "--head", HEAD, "--fail-on-regression"]
    gate += ["--no-plots", "--readme", ""]
    assert cli(*gate).returncode == 1
    allowed = cli(*gate, "--allow-gone", r"TrainStep")
    assert allowed.returncode == 0, allowed.stderr


def test_a_paired_compare_across_a_version_bump_says_method_changed_and_passes():
    """compare's two sides measured by different versions of a benchmark (a pull request that changes how
    it is measured): 'method changed', no ratio verdict, the gate passes."""
    from bench.measure import stats
    from bench.store.record import Measurement, frame_of
    from bench.tasks.compare import estimates

    rows = [
        Measurement(arm=side, framework="torch", device="cpu", benchmark="throughput.TrainStep.time_train_step", param=0, params="torch, cpu, 128", key="128", round=r,
                    value=0.01 * (1.3 if side == "head" else 1.0), samples=(0.01, 0.01), version=version)
        for side, version in (("base", "1"), ("head", "2"))
        for r in range(1, 7)
    ]  # fmt: skip
    out = estimates(frame_of(rows), 0.03, 0.95)
    assert list(out.verdict) == [stats.METHOD_CHANGED] and "1 -> 2" in out.reason.iloc[0]
    assert not stats.gate_fails(out.verdict)


def test_results_an_engine_with_fixed_malloc_thresholds_took_read_as_that_method(tmp_path):
    import json

    res = tmp_path / "results" / "asv"
    grid = [["'torch'"], ["'cpu'"], ["128"]]
    write_results(res, "box", BASE, 1_700_000_000_000, {
        "throughput.TrainStep.time_train_step": (grid, [0.01], [None]),
        "cold_start.ColdStart.timeraw_cold_start": (grid, [2.0], [None]),
    })  # fmt: skip
    meta = tmp_path / "results" / "meta" / "box"
    meta.mkdir(parents=True)
    fixed = {"MALLOC_MMAP_THRESHOLD_": "33554432"}
    (meta / f"{BASE[:8]}.json").write_text(json.dumps({"machine": "box", "commit": BASE, "worker_allocator": fixed}))
    frame = report.load_results(res).set_index("benchmark")
    assert frame.loc["throughput.TrainStep.time_train_step", "version"] == "1+fixed-malloc"
    assert frame.loc["cold_start.ColdStart.timeraw_cold_start", "version"] == "1"  # asv's own processes: defaults
