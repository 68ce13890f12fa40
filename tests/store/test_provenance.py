"""bench/store/provenance.py: what a run keeps of the results stored before it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from asv_files import BASE, write_results

from bench import report
from bench.store import provenance


# 10 / 11 ---------------------------------------------------------------------------------------
def _stored(res: Path, value: float, started: int, machine="box", commit=BASE):
    path = write_results(
        res,
        machine,
        commit,
        1_700_000_000_000,
        {"accuracy.Accuracy.track_test_error": ([["'torch'"], ["'cpu'"], ["5"]], [value], [None])},
    )
    doc = json.loads(path.read_text())
    doc["started_at"] = {"accuracy.Accuracy.track_test_error": started}
    doc["results"]["accuracy.Accuracy.track_test_error"][3] = started
    path.write_text(json.dumps(doc))
    return path


def test_a_quick_run_never_replaces_a_full_result(tmp_path):
    res = tmp_path / "asv"
    _stored(res, 0.021, 1000)  # the full 5-epoch run
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"machine": "box", "commit": BASE, "quick": False}))
    before = provenance.snapshot(res, "box", BASE)
    prov = provenance.provenance(meta, before)
    _stored(res, 0.300, 2000)  # a quick 1-epoch run re-measured it
    kept = provenance.keep_full(before, res, "box", BASE, prov)
    assert kept == ["accuracy.Accuracy.track_test_error"]
    assert report.load_results(res).value.tolist() == [0.021]
    # a quick result from a quick run is fair game for the next run
    meta.write_text(json.dumps({"machine": "box", "commit": BASE, "quick": True}))
    before = provenance.snapshot(res, "box", BASE)
    _stored(res, 0.250, 3000)
    assert provenance.keep_full(before, res, "box", BASE, provenance.provenance(meta, before)) == []
    assert report.load_results(res).value.tolist() == [0.25]


def test_each_stored_result_names_the_run_that_made_it(tmp_path):
    res = tmp_path / "asv"
    _stored(res, 0.021, 1000)
    before = provenance.snapshot(res, "box", BASE)
    prov = {"accuracy.Accuracy.track_test_error": {"quick": False, "started": "full run"}}
    assert provenance.updated_provenance(prov, before, res, "box", BASE, {"quick": True, "started": "quick"}) == prov
    _stored(res, 0.022, 2000)
    now = provenance.updated_provenance(prov, before, res, "box", BASE, {"quick": False, "started": "second full"})
    assert now["accuracy.Accuracy.track_test_error"]["started"] == "second full"


def test_replicated_values_of_one_framework_leave_the_others_stored(tmp_path):
    """A --frameworks torch run adds torch's processes; tensorflow's and jax's stay as they were."""
    from asv.results import Results

    from bench.store import asv_results as replicate

    res = tmp_path / "asv"
    name = "throughput.TrainStep.time_train_step"
    grid = [["'torch'", "'tensorflow'", "'jax'"], ["'cpu'"], ["32", "128"]]
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {name: (grid, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06], [None] * 6)},
        samples={name: [[0.01, 0.011], [0.02], [0.03], [0.04], [0.05], [0.06]]},
        env="existing-py",
    )
    rows = pd.DataFrame(
        [
            {
                "benchmark": name,
                "param": 0,
                "round": p,
                "value": v,
                "status": "ok",
                "all_params": json.dumps(grid),
                "version": "1",
            }
            for p, v in ((1, 0.012), (2, 0.013))
        ]
    )
    replicate.store(rows, res, "box", BASE, "existing-py", append=True)
    stored = Results.load(str(next((res / "box").glob(f"{BASE[:8]}-*.json"))), machine_name="box")
    values = stored.get_result_value(name, grid)
    assert values[1:] == [0.02, 0.03, 0.04, 0.05, 0.06]
    assert stored.get_result_samples(name, grid)[0] == [0.01, 0.011, 0.012, 0.013]  # a run adds its processes


def test_a_quick_run_puts_back_the_descriptions_it_only_reparametrized(tmp_path):
    """asv's rewrite after a quick run: accuracy's epochs 5 -> 1 (put back), a benchmark with a new
    version (kept as asv wrote it), a new benchmark (kept); with only the epochs changed, the very bytes."""
    path = tmp_path / "benchmarks.json"
    acc = {"param_names": ["framework", "epochs"], "params": [["'torch'"], ["5"]], "unit": "unitless", "version": "a"}
    cold = {"param_names": ["framework"], "params": [["'torch'"]], "unit": "seconds", "version": "1"}
    before = json.dumps({"accuracy.A": acc, "cold.C": cold, "version": 2}, indent=4).encode()
    quick = {**acc, "params": [["'torch'"], ["1"]]}

    path.write_text(json.dumps({"accuracy.A": quick, "cold.C": cold, "version": 2}, sort_keys=True))
    assert provenance.keep_descriptions(before, path)
    assert path.read_bytes() == before

    path.write_text(json.dumps({"accuracy.A": quick, "cold.C": {**cold, "version": "2"}, "new.N": cold, "version": 2}))
    assert provenance.keep_descriptions(before, path)
    kept = json.loads(path.read_text())
    assert kept["accuracy.A"] == acc and kept["cold.C"]["version"] == "2" and kept["new.N"] == cold
    assert path.read_text() == json.dumps(kept, indent=4, sort_keys=True)  # as asv writes it, no newline added

    assert not provenance.keep_descriptions(None, path)  # nothing was published before: asv's file stands
    assert not provenance.keep_descriptions(path.read_bytes(), path)  # nothing to put back
