"""bench/report/load.py: asv results files (and run metadata) -> the tidy frame."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from asv_files import BASE, FW_2B, HEAD, write_results
from conftest import cli

from bench import report
from bench.report.load import label


def test_tidy_frame_has_one_row_per_combination(results):
    frame = report.load_results(results)
    assert len(frame) == 2 * (3 + 3 + 3 + 3 + 3)
    row = frame[(frame.commit == BASE) & (frame.metric == "train_step") & (frame.framework == "torch")].iloc[0]
    assert row.value == 0.010 and row.batch_size == 128 and row.device == "cpu"
    assert row.ci_low == pytest.approx(0.0098) and row.unit == "seconds" and row.status == "ok"
    failed = frame[(frame.commit == HEAD) & (frame.metric == "predict") & (frame.framework == "tensorflow")]
    assert failed.status.iloc[0] == "failed"


def test_a_malformed_file_is_an_error_naming_it_or_skipped_when_asked(results):
    from bench.core.files import CorruptFile

    bad = results / "box" / "cccccccc-existing-py_test.json"
    bad.write_text("{ not json")
    with pytest.raises(CorruptFile, match="cccccccc-existing-py_test.json"):
        report.load_results(results)
    with pytest.warns(UserWarning, match="cccccccc-existing-py_test.json"):
        frame = report.load_results(results, skip_corrupt=True)
    assert set(frame.commit) == {BASE, HEAD}
    assert [s.split(":")[0] for s in frame.attrs["skipped_files"]] == ["box/cccccccc-existing-py_test.json"]


def test_a_stored_zero_or_a_bad_meta_file_is_named_not_a_crash(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )
    write_results(
        res,
        "box",
        HEAD,
        1_700_000_100_000,
        {"throughput.TrainStep.time_train_step": (FW_2B, [0.0] + [0.01] * 5, [None] * 6)},
    )
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / "deadbeef.json").write_text("[1]")
    proc = cli("report", "--no-plots", "--readme", "", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "deadbeef.json: run metadata that is not an object" in proc.stderr
    assert not (tmp_path / "results" / "report").exists()  # refused before anything is written
    proc = cli("report", "--no-plots", "--readme", "", "--skip-corrupt", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "skipping" in proc.stderr and "deadbeef.json" in proc.stderr
    page = (tmp_path / "results" / "report" / "index.html").read_text()
    assert 'id="skipped"' in page and "box/deadbeef.json" in page
    latest = (tmp_path / "results" / "report" / "latest.md").read_text()
    assert "inf" not in latest and "not a valid measurement" in latest
    assert "failed" in (tmp_path / "results" / "report" / "regressions.md").read_text()


def test_report_reads_parameter_names_and_units_from_asvs_benchmarks_json(tmp_path):
    """A new benchmark needs no positional rule in the report: its batch size, epochs and unit come
    from the benchmarks.json asv writes beside the results (issue 12)."""
    res = tmp_path / "asv"
    grid = [["'torch'"], ["'cpu'"], ["'adamw'"], ["64"]]
    write_results(res, "box", BASE, 1_700_000_000_000, {"extra.Optimizers.time_optimizer_step": (grid, [0.5], [None])})
    (res / "benchmarks.json").write_text(
        json.dumps(
            {
                "extra.Optimizers.time_optimizer_step": {
                    "param_names": ["framework", "device", "optimizer", "batch_size"],
                    "unit": "seconds",
                    "params": grid,
                },
                "version": 2,
            }
        )
    )
    row = report.load_results(res).iloc[0]
    assert (row.framework, row.setting, row.batch_size, row.unit) == ("torch", "adamw", 64, "seconds")
    assert (row.arm, row.param, row.params, row.key) == ("torch:cpu", 0, "torch, cpu, adamw, 64", "adamw, 64")
    assert pd.isna(row.epochs)


def test_a_cell_carries_the_engines_record_fields_with_their_meanings(tmp_path):
    """The engine's records stored as asv results and read back: every field the tidy frame shares with
    the record (load.RECORD) is the record's value, and no other column borrows a record field's name."""
    from dataclasses import fields

    from bench.store import asv_results
    from bench.store.record import Measurement, frame_of

    grid = [["'torch'"], ["'cpu'"], ["32", "128"]]
    made = [
        Measurement(
            arm="torch:cpu",
            framework="torch",
            device="cpu",
            benchmark="throughput.TrainStep.time_train_step",
            param=i,
            params=f"torch, cpu, {b}",
            key=str(b),
            round=r,
            value=0.01 * (i + 1) + r / 1000,
            unit="seconds",
            version="abc123",
            all_params=json.dumps(grid),
        )
        for i, b in enumerate((32, 128))
        for r in range(3)
    ]
    results = tmp_path / "asv"
    asv_results.store(frame_of(made), results, "box", BASE, "existing-py")
    frame = report.load_results(results).set_index("param", drop=False)
    for record in (m for m in made if m.round == 0):
        row = frame.loc[record.param]
        for f in ("arm", "framework", "device", "benchmark", "param", "params", "key", "unit", "status", "version"):
            assert row[f] == getattr(record, f), f
        assert row.value == pytest.approx(0.01 * (record.param + 1) + 0.001)  # the median of 3 rounds
        assert row.runs == 3 and row.batch_size == int(record.key)
    shared = set(report.load.COLUMNS) & {f.name for f in fields(Measurement)}
    assert shared == set(report.load.RECORD)


def test_a_rows_label_names_batch_setting_and_epochs_once_each():
    """One rule names a row for the verdict table and the change points: the batch size, else the
    setting (unless it is only the epochs again), then the epochs."""
    from types import SimpleNamespace as Row

    nan = float("nan")
    assert label(Row(framework="jax", device="cpu", batch_size=128, setting=nan, epochs=nan)) == "jax, cpu, batch 128"
    assert (
        label(Row(framework="torch", device="cpu", batch_size=nan, setting="fused", epochs=nan)) == "torch, cpu, fused"
    )
    assert (
        label(Row(framework="tensorflow", device="cpu", batch_size=nan, setting="5", epochs=5))
        == "tensorflow, cpu, 5 ep"
    )


def test_run_metadata_is_its_folders_and_a_foreign_file_cannot_override_it(tmp_path):
    """meta/zzz/x.json saying machine 'box' and box's commit: refused naming the file (it overrode the
    README run's metadata, whose fingerprint then wrote a README end marker and raw HTML)."""
    import json

    from asv_files import FW, write_results

    from bench.core.files import CorruptFile

    res = tmp_path / "results" / "asv"
    commit = "c" * 40
    write_results(
        res, "box", commit, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 3, [None] * 3)}
    )
    meta = tmp_path / "results" / "meta"
    (meta / "box").mkdir(parents=True)
    (meta / "box" / f"{commit[:8]}.json").write_text(
        json.dumps({"machine": "box", "commit": commit, "host": {"cpu_model": "real"}})
    )
    (meta / "zzz").mkdir()
    evil = {"machine": "box", "commit": commit, "host": {"cpu_model": "<!-- results:end --><img src=x>"}}
    (meta / "zzz" / "x.json").write_text(json.dumps(evil))
    with pytest.raises(CorruptFile, match="zzz/x.json"):
        report.load_results(res)
    frame = report.load_results(res, skip_corrupt=True)
    assert set(frame.cpu_model) == {"real"}


@pytest.mark.parametrize("case", ["host-list", "fingerprint-str", "nan-date", "deep"])
def test_stored_files_of_the_wrong_shape_are_a_refusal_naming_the_file(tmp_path, case):
    """Run metadata whose host is a list (AttributeError), results dated NaN (strftime failed), JSON nested
    200,000 deep (RecursionError): each a one-line CorruptFile naming the file, skipped with --skip-corrupt."""
    from asv_files import FW

    from bench.core.files import CorruptFile

    res = tmp_path / "results" / "asv"
    commit = "d" * 40
    path = write_results(
        res, "box", commit, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.01] * 3, [None] * 3)}
    )
    meta = tmp_path / "results" / "meta" / "box"
    meta.mkdir(parents=True)
    run = {"machine": "box", "commit": commit}
    if case == "host-list":
        run["host"] = ["a"]
    elif case == "fingerprint-str":
        run["fingerprint"] = "x"
    elif case == "nan-date":
        path.write_text(path.read_text().replace('"date": 1700000000000', '"date": NaN'))
    else:
        (meta / "ffffffff.json").write_text("[" * 200_000)
    target = path if case == "nan-date" else meta / ("ffffffff.json" if case == "deep" else f"{commit[:8]}.json")
    if case in ("host-list", "fingerprint-str"):
        target.write_text(json.dumps(run))
    with pytest.raises(CorruptFile, match=target.name):
        report.load_results(res)
    report.load_results(res, skip_corrupt=True)  # and skipped, never an internal error
