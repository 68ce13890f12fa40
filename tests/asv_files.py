"""Write small asv results files (format version 2) for report tests, as asv itself lays them out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report

COLUMNS = [
    "result",
    "params",
    "version",
    "started_at",
    "duration",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "stats_number",
    "stats_repeat",
    "samples",
    "profile",
]


def write_machine(results: Path, machine: str) -> None:
    (results / machine).mkdir(parents=True, exist_ok=True)
    (results / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))


def write_results(
    results: Path,
    machine: str,
    commit: str,
    date_ms: int,
    benchmarks: dict,
    samples: dict | None = None,
    env: str = "existing-py_test",
    version: str = "1",
) -> Path:
    """benchmarks: name -> (params [[repr, ...], ...], values [...], cis [(lo, hi) or None, ...]);
    samples: name -> per-combination lists of per-process values (asv's --record-samples); version: every
    benchmark's asv version."""
    write_machine(results, machine)
    out = {}
    for name, (params, values, cis) in benchmarks.items():
        lo = [c[0] if c else None for c in cis]
        hi = [c[1] if c else None for c in cis]
        n = [1 if v is not None else None for v in values]
        out[name] = [values, params, version, 0, 1.0, lo, hi, values, values, n, n, (samples or {}).get(name)]
    doc = {
        "commit_hash": commit,
        "env_name": env,
        "date": date_ms,
        "params": {"machine": machine, "python": "3.11"},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "result_columns": COLUMNS,
        "results": out,
        "durations": {},
        "version": 2,
    }
    path = results / machine / f"{commit[:8]}-{env}.json"
    path.write_text(json.dumps(doc))
    return path


# Small result sets shared by the report tests: commits, parameter grids, values.
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


def replicated_frame(tmp_path, head_factor, spread):
    """Five processes per side for torch's train step: per-process values base 10 ms x noise."""
    import numpy as np

    rng = np.random.default_rng(0)
    res = tmp_path / "results" / "asv"
    for commit, factor, date in ((BASE, 1.0, 1_700_000_000_000), (HEAD, head_factor, 1_700_000_100_000)):
        values = list(0.010 * factor * np.exp(rng.normal(0, spread, 5)))
        bench = {
            "throughput.TrainStep.time_train_step": (
                FW,
                [float(np.median(values)), 0.02, 0.015],
                [ci(0.010), ci(0.02), ci(0.015)],
            )
        }
        write_results(
            res, "box", commit, date, bench, samples={"throughput.TrainStep.time_train_step": [values, None, None]}
        )
    return report.load_results(res)


# The heavy-variants suite: a third parameter that is not a batch size, and (framework, device, mode, epochs).
VARIANT = [["'torch'", "'jax'"], ["'cpu'"], ["'fused'", "'cell'"]]


PREC = [["'torch'", "'jax'"], ["'cpu'"], ["'float32'", "'tf32'", "'bf16'"]]


PREC_ACC = [["'torch'", "'jax'"], ["'cpu'"], ["'float32'", "'tf32'", "'bf16'"], ["5"]]


PEAK = [["'torch'", "'jax'"], ["'cpu'"]]


NAN = float("nan")


def variant_values(cell_torch=0.05, bf16_jax_error=0.02, peak_torch=200.0):
    return {
        "variants.ImplementationVariants.time_variant_train_step": (
            VARIANT,
            [0.01, cell_torch, 0.02, 0.03],
            [ci(0.01), ci(cell_torch), ci(0.02), ci(0.03)],
        ),
        "variants.Precisions.time_precision_train_step": (PREC, [0.016, NAN, 0.008, 0.02, NAN, 0.04], [None] * 6),
        "variants.PrecisionAccuracy.track_precision_test_error": (
            PREC_ACC,
            [0.021, NAN, 0.022, 0.021, NAN, bf16_jax_error],
            [None] * 6,
        ),
        "variants.PrecisionAccuracy.track_precision_time_to_accuracy": (
            PREC_ACC,
            [18.0, NAN, 12.5, 24.0, NAN, NAN],
            [None] * 6,
        ),
        "variants.MatmulPeak.track_matmul_gflops": (PEAK, [peak_torch, 190.0], [ci(peak_torch), ci(190.0)]),
    }


FW_2B = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["32", "128"]]


HID = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["64", "128"]]


def round_row(framework: str, benchmark: str, key: str, round_no: int, samples: list[float], number: int = 10) -> dict:
    """One stored paired-rounds row (bench.store.record.Measurement's columns) for `framework` on cpu."""
    return {
        "arm": f"{framework}:cpu",
        "framework": framework,
        "device": "cpu",
        "benchmark": benchmark,
        "param": 0,
        "params": f"{framework}, cpu, {key}",
        "key": key,
        "round": round_no,
        "value": sum(samples) / len(samples),
        "samples": tuple(samples),
        "bracket": (),
        "number": number,
        "unit": "seconds",
        "status": "ok",
        "reason": "",
    }


def stores_agree(results: Path, machine: str, commit: str) -> None:
    """The two stores of a commit's paired rounds say the same: every ok row of the rounds file is one
    sample of its benchmark and parameters in the asv results, in round order, and nothing more."""
    from asv.results import iter_results_for_machine_and_hash

    from bench.store import rounds_file

    frame = rounds_file.load_for(results, machine, commit)
    assert frame is not None, "no rounds file"
    frame = frame[(frame.status == "ok") & (frame.benchmark != "(worker)")]
    (res,) = list(iter_results_for_machine_and_hash(str(results), machine, commit))
    for (bench, param), group in frame.groupby(["benchmark", "param"]):
        stored = res.get_result_samples(bench, res.get_result_params(bench))[int(param)]
        want = [float(v) for v in group.sort_values("round").value]
        assert stored == pytest.approx(want), f"{bench} [{param}]: asv {stored} != rounds {want}"
