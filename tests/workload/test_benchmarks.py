"""bench/workload/benchmarks.py: one entry per asv benchmark, checked against the suites asv discovers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from asv_files import BASE, write_results

from bench import report
from bench.workload.benchmarks import (
    BENCHMARKS,
    DEFAULT_KEY,
    HOST_MATMUL,
    METRICS,
    PAIRED,
    SEED_FIELDS,
    TABLE_METRICS,
    TRAIN_STEP,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def discovered():
    """The benchmarks asv itself finds in bench/suites, as asv_runner discovers them."""
    from asv_runner.discovery import disc_benchmarks

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return {b.name: b for b in disc_benchmarks("suites")}
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_every_suite_benchmark_has_one_entry_with_asvs_params_and_unit(discovered):
    assert set(BENCHMARKS) == set(discovered)
    for name, bench in discovered.items():
        assert BENCHMARKS[name].params == tuple(bench.param_names), name
        assert BENCHMARKS[name].unit == bench.unit, name


def test_short_names_are_unique_and_the_table_columns_are_entries():
    assert len(METRICS) == len(BENCHMARKS)
    assert TABLE_METRICS[:2] == ["train_step", "predict"]
    assert all(METRICS[m].column for m in TABLE_METRICS)
    assert [m.name for m in BENCHMARKS.values() if m.higher_is_better] == ["matmul_gflops"]


def test_display_and_headers_read_from_the_entry():
    m = METRICS["train_step"]
    assert m.shown(0.01, 128) == pytest.approx(12_800) and m.format(12_800.4) == "12,800"
    assert m.header(128, None) == "train samples/s @128"
    assert METRICS["test_error"].header(None, 5) == "test accuracy (5 ep)"
    assert METRICS["test_error"].format(METRICS["test_error"].shown(0.0213)) == "0.9787"
    assert METRICS["train"].shown(2**21) == 2.0


def test_without_benchmarks_json_the_entry_gives_the_parameter_names(tmp_path):
    """Results copied without benchmarks.json: batch and epochs come from the entry, not position."""
    res = tmp_path / "asv"
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {
            "accuracy.Accuracy.track_test_error": ([["'torch'"], ["'cpu'"], ["5"]], [0.02], [None]),
            "variants.PrecisionAccuracy.track_precision_test_error": (
                [["'torch'"], ["'cpu'"], ["'bf16'"], ["3"]],
                [0.03],
                [None],
            ),
            "throughput.TrainStep.time_train_step": ([["'torch'"], ["'cpu'"], ["64"]], [0.01], [None]),
        },
    )
    frame = report.load_results(res).set_index("metric")
    assert frame.loc["test_error", "epochs"] == 5 and pd.isna(frame.loc["test_error", "batch_size"])
    assert frame.loc["precision_test_error", "epochs"] == 3 and frame.loc["precision_test_error", "setting"] == "bf16"
    assert frame.loc["train_step", "batch_size"] == 64


def test_who_measures_what_and_the_default_keys_come_from_the_entries(discovered):
    """The engine's regex, the within-arm default keys and the seed-log fields are read off the table: each
    default key is one of asv's values of that benchmark's third parameter, and the regex names exactly
    the paired entries among everything asv discovers."""
    paired = {name for name in discovered if re.match("^" + PAIRED + "$", name)}
    assert paired == {name for name, m in BENCHMARKS.items() if m.paired}
    assert {"throughput.TrainStep.time_train_step", "baseline.HostMatmul.time_host_matmul"} <= paired
    assert not any(n.startswith(("cold_start.", "memory.", "accuracy.")) for n in paired)  # asv measures these
    assert TRAIN_STEP in paired and HOST_MATMUL in paired
    for name, key in DEFAULT_KEY.items():
        values = [str(v).strip("'") for v in discovered[name].params[2]]
        assert key in values, (name, key, values)
    assert set(SEED_FIELDS.values()) == {n for n in discovered if n.startswith("accuracy.")}
