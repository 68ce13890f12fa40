"""The rules the commands act on, below the command line: the gates' exit status and what `run`
measures in paired rounds."""

from __future__ import annotations

import re

import pandas as pd

from bench.report import gate_status
from bench.tasks.compare import exit_status
from bench.tasks.run import RunOptions, paired_pattern
from bench.workload.benchmarks import PAIRED


def test_compare_exits_1_on_a_regression_or_a_failure_at_head_and_0_otherwise():
    assert exit_status(pd.DataFrame({"verdict": ["unchanged", "regression"]})) == 1
    assert exit_status(pd.DataFrame({"verdict": ["unchanged", "failed"]})) == 1
    assert exit_status(pd.DataFrame({"verdict": ["unchanged", "inconclusive", "improvement", "gone"]})) == 0
    assert exit_status(pd.DataFrame({"verdict": []})) == 0


def test_report_gate_fails_only_when_asked_and_by_the_same_rule_as_compare():
    result = pd.DataFrame({"verdict": ["regression"]})
    assert gate_status(result, fail_on_regression=True) == 1
    assert gate_status(result, fail_on_regression=False) == 0
    assert gate_status(pd.DataFrame({"verdict": ["unchanged"]}), fail_on_regression=True) == 0
    assert gate_status(pd.DataFrame({"verdict": ["failed"]}), fail_on_regression=True) == 1  # compare's rule
    assert gate_status(pd.DataFrame(), fail_on_regression=True) == 0


def test_run_measures_throughput_in_rounds_and_variants_only_in_a_full_run():
    names = [
        "throughput.TrainStep.time_train_step",
        "baseline.HostMatmul.time_host_matmul",
        "variants.Precisions.time_precision_train_step",
        "cold_start.ColdStart.timeraw_cold_start",
    ]
    full = [n for n in names if re.search(paired_pattern(RunOptions()), n)]
    quick = [n for n in names if re.search(paired_pattern(RunOptions(quick=True)), n)]
    narrowed = [n for n in names if re.search(paired_pattern(RunOptions(bench="TrainStep")), n)]
    assert full == names[:3] and quick == names[:1] and narrowed == names[:1]  # quick: the train step, not the baseline
    asked = [n for n in names if re.search(paired_pattern(RunOptions(quick=True, bench="baseline")), n)]
    assert asked == names[1:2]  # unless --bench names it
    assert not re.match("^" + PAIRED, "cold_start.ColdStart.timeraw_cold_start")


def test_a_full_runs_batch_sizes_each_get_processes_of_their_own_unless_variants_are_selected():
    from bench.tasks.run import RunOptions
    from bench.tasks.selection import KEY_GROUPS, key_groups

    assert key_groups(RunOptions(quick=True)) == ()
    assert key_groups(RunOptions(bench=r"^(throughput|baseline)\.")) == KEY_GROUPS
    assert key_groups(RunOptions()) == ()  # the variants' ratios to their default are paired in one process
    assert key_groups(RunOptions(bench="variants")) == ()


def test_run_times_each_framework_in_a_process_alone():
    """`run`'s closed division, quick and full: each framework's process alone (taking the frameworks'
    samples in turn leaned their ratios to PyTorch's: docs/validation.md, "One process at a time")."""
    from bench.tasks.run import _rounds_plan

    assert _rounds_plan(RunOptions(quick=True), "torch:cpu", 600.0).one_at_a_time
    assert _rounds_plan(RunOptions(), "torch:cpu", 600.0).one_at_a_time
