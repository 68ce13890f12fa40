"""bench/report/tables.py: the comparison, variants and README tables."""

from __future__ import annotations

import json
import re

from asv_files import ACC, BASE, FW2, FW_2B, HEAD, HID, replicated_frame, write_results

from bench import report


def test_table_cells_show_their_interval_when_several_processes_stand_behind_them(tmp_path):
    frame = replicated_frame(tmp_path, 1.0, 0.02)
    table, _ = report.comparison_table(frame, "box", HEAD, "cpu")
    cell = table.loc["torch", "train samples/s @128"]
    assert re.fullmatch(r"[\d,]+ ±\d\.\d% \(5 processes\) \(\d\.\d\dx\)", cell), cell  # fewer than 6: said
    assert "±" not in table.loc["tensorflow", "train samples/s @128"]  # one process: no interval shown


def test_two_wildly_different_processes_give_a_width_a_reader_can_read(tmp_path):
    """Two processes 30x apart: a t interval on 1 degree of freedom, once printed as ±9021713669.0%."""
    res = tmp_path / "results" / "asv"
    values = [0.001, 0.030]
    write_results(
        res,
        "box",
        HEAD,
        1_700_000_000_000,
        {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)},
        samples={"throughput.TrainStep.time_train_step": [values] + [None] * 5},
    )
    table, _ = report.comparison_table(report.load_results(res), "box", HEAD, "cpu")
    cell = next(c for c in table.stack() if "±" in c)
    assert "±>999% (2 processes)" in cell, cell


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


def test_two_asv_environments_of_one_commit_make_one_table(tmp_path):
    """asv.conf.json's matrix gives a commit one results file per environment: the tables take the
    newest ok value per cell instead of crashing on a duplicate framework index."""
    res = tmp_path / "asv"
    train = {
        "throughput.TrainStep.time_train_step": (FW_2B, [0.01, 0.02] * 3, [None] * 6),
        "baseline.MinimalLoop.time_minimal_train_step": (FW_2B, [0.009, 0.018] * 3, [None] * 6),
        "variants.HiddenScaling.time_hidden_train_step": (HID, [0.01, 0.02] * 3, [None] * 6),
        "variants.MatmulPeak.track_matmul_gflops": (FW2, [100.0, 90.0, 80.0], [None] * 3),
    }
    write_results(res, "box", BASE, 1_700_000_000_000, train, env="virtualenv-py3.11-torch")
    write_results(res, "box", BASE, 1_700_000_000_000, train, env="virtualenv-py3.11-jax")
    frame = report.load_results(res)
    table, notes = report.comparison_table(frame, "box", BASE, "cpu")
    assert table.loc["torch", "train samples/s @128"].startswith("6,400")
    assert table.loc["jax", "harness / minimal loop @128"] == "0.90"
    assert any("GFLOP/s" in t for t in report.variants_tables(frame, "box", BASE, "cpu"))


def test_a_failed_cell_reads_failed_not_not_run(tmp_path):
    res = tmp_path / "asv"
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {"throughput.TrainStep.time_train_step": (FW_2B, [0.01, None, 0.02, 0.04, 0.01, 0.02], [None] * 6)},
    )
    frame = report.load_results(res)
    table, notes = report.comparison_table(frame, "box", BASE, "cpu")
    assert table.loc["torch", "train samples/s @32"].startswith("3,200")
    cell = table.loc["torch", "train samples/s @128"]
    note = notes[int(cell.split("[")[1].rstrip("]")) - 1]
    assert "failed" in note and "not run" not in note


def test_readme_is_published_only_from_a_complete_full_run(tmp_path):
    res = tmp_path / "results" / "asv"
    full = {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    write_results(res, "box", BASE, 1_700_000_000_000, full)
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / f"{BASE[:8]}.json").write_text(
        json.dumps({"machine": "box", "commit": BASE, "quick": False})
    )
    partial = {
        "throughput.TrainStep.time_train_step": ([["'torch'"], ["'cpu'"], ["32", "128"]], [0.02] * 2, [None] * 2)
    }
    write_results(res, "box", HEAD, 1_700_000_100_000, partial)
    (tmp_path / "results" / "meta" / "box" / f"{HEAD[:8]}.json").write_text(
        json.dumps({"machine": "box", "commit": HEAD, "quick": True})
    )
    table = report.readme_table(report.load_results(res))
    assert f"`{BASE[:8]}`" in table and "12,800" in table  # 128 / 0.01, not the quick torch-only 6,400


def test_the_header_names_the_data_the_accuracy_was_measured_on(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {"accuracy.Accuracy.track_test_error": ([["'torch'"], ["'cpu'"], ["1"]], [0.19], [None])},
    )
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / f"{BASE[:8]}.json").write_text(
        json.dumps(
            {
                "machine": "box",
                "commit": BASE,
                "data": "unverified IDX data (no known checksum) from /fashion",
                "dirty": True,
            }
        )
    )
    header = report.header_line(report.load_results(res), "box", BASE)
    assert "unverified IDX data (no known checksum)" in header and "recorded as dirty" in header
    assert "/fashion" not in header  # published text names the data, never this machine's folder


def test_no_published_table_or_page_holds_the_data_folders_path(tmp_path):
    """The run records the data by name and checksum; older metadata that still holds a path is scrubbed
    in the README table, the Markdown tables and the page."""
    folder = "/home/someone/private/mnist-data"
    res = tmp_path / "results" / "asv"
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {
            "accuracy.Accuracy.track_test_error": ([["'torch'"], ["'cpu'"], ["1"]], [0.02], [None]),
            "throughput.TrainStep.time_train_step": ([["'torch'"], ["'cpu'"], ["128"]], [0.01], [None]),
        },
    )
    (tmp_path / "results" / "meta" / "box").mkdir(parents=True)
    (tmp_path / "results" / "meta" / "box" / f"{BASE[:8]}.json").write_text(
        json.dumps(
            {
                "machine": "box",
                "commit": BASE,
                "data": f"MNIST (SHA-256 verified) from {folder}: 60000 train / 10000 test images",
                "skipped": {"jax:cpu": f"no data under {folder}/raw"},
            }
        )
    )
    frame = report.load_results(res)
    published = "\n".join(report.latest_tables(frame).values()) + (report.readme_table(frame) or "")
    page = report.write_page(frame, tmp_path / "out").read_text()
    for text in (published, page):
        assert "MNIST (SHA-256 verified)" in text
        assert folder not in text and "/home/" not in text


def test_a_new_hosts_quick_run_is_published_until_it_has_a_full_one(tmp_path):
    res = tmp_path / "results" / "asv"
    meta = tmp_path / "results" / "meta" / "box"
    meta.mkdir(parents=True)
    for commit, date, value, quick in ((BASE, 1_700_000_000_000, 0.01, True), (HEAD, 1_700_000_100_000, 0.02, True)):
        write_results(
            res, "box", commit, date, {"throughput.TrainStep.time_train_step": (FW_2B, [value] * 6, [None] * 6)}
        )
        (meta / f"{commit[:8]}.json").write_text(json.dumps({"machine": "box", "commit": commit, "quick": quick}))
    assert f"`{HEAD[:8]}`" in report.readme_table(report.load_results(res))  # the newest quick one
    (meta / f"{BASE[:8]}.json").write_text(json.dumps({"machine": "box", "commit": BASE, "quick": False}))
    assert f"`{BASE[:8]}`" in report.readme_table(report.load_results(res))  # a full one wins over a newer quick one


def test_a_run_that_left_a_framework_out_does_not_replace_the_readme(tmp_path):
    """asv and the replicated store fill unselected frameworks' cells with skips (NaN): those do not
    make a run complete."""
    res = tmp_path / "results" / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )
    nan = float("nan")
    write_results(
        res,
        "box",
        HEAD,
        1_700_000_100_000,
        {"throughput.TrainStep.time_train_step": (FW_2B, [0.02, 0.02, nan, nan, 0.02, 0.02], [None] * 6)},
    )
    assert f"`{BASE[:8]}`" in report.readme_table(report.load_results(res))


def test_a_partial_run_on_another_machine_does_not_move_the_readme_there(tmp_path):
    """The README shows the machine with the newest complete run: a newer one-framework run on a
    second machine is not one."""
    res = tmp_path / "results" / "asv"
    write_results(
        res, "box", BASE, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)}
    )
    write_results(
        res,
        "other",
        HEAD,
        1_700_000_100_000,
        {"throughput.TrainStep.time_train_step": ([["'torch'"], ["'cpu'"], ["32", "128"]], [0.02] * 2, [None] * 2)},
    )
    table = report.readme_table(report.load_results(res))
    assert f"`{BASE[:8]}`" in table and "box" in table and "other" not in table


def test_a_later_partial_or_quick_run_does_not_replace_a_machines_tables(tmp_path):
    """The tables, plots and page show each machine's newest complete run, a full one before a quick one:
    a later `--bench` run of one framework (or a quick run) does not turn them into n/a."""
    res = tmp_path / "results" / "asv"
    full = {"throughput.TrainStep.time_train_step": (FW_2B, [0.01, 0.02] * 3, [None] * 6)}
    one = {"throughput.TrainStep.time_train_step": ([["'torch'"], ["'cpu'"], ["32", "128"]], [0.01, 0.02], [None] * 2)}
    write_results(res, "box", BASE, 1_700_000_000_000, full)
    write_results(res, "box", HEAD, 1_700_000_100_000, one)  # newer, but only torch
    assert report.latest_commits(report.load_results(res)) == {"box": BASE}
    assert "box/cpu" in report.latest_tables(report.load_results(res))
    third = "c" * 40
    write_results(res, "box", third, 1_700_000_200_000, full)  # newer and complete, but quick
    meta = tmp_path / "results" / "meta" / "box"
    meta.mkdir(parents=True)
    (meta / f"{third[:8]}.json").write_text(json.dumps({"machine": "box", "commit": third, "quick": True}))
    assert report.latest_commits(report.load_results(res)) == {"box": BASE}
    (meta / f"{third[:8]}.json").write_text(json.dumps({"machine": "box", "commit": third, "quick": False}))
    assert report.latest_commits(report.load_results(res)) == {"box": third}


def test_a_skipped_accuracy_blames_missing_data_only_when_the_run_had_none(tmp_path):
    res = tmp_path / "results" / "asv"
    nan = float("nan")
    write_results(
        res, "box", HEAD, 1_700_000_000_000, {"accuracy.Accuracy.track_test_error": (ACC, [0.02, nan, nan], [None] * 3)}
    )
    meta = tmp_path / "results" / "meta" / "box" / f"{HEAD[:8]}.json"
    meta.parent.mkdir(parents=True)
    for data, says_mnist in (("MNIST, sha256 3f2a...", False), ("unavailable: no MNIST files in the folder", True)):
        meta.write_text(json.dumps({"machine": "box", "commit": HEAD, "data": data}))
        table, notes = report.comparison_table(report.load_results(res), "box", HEAD, "cpu")
        text = " ".join(notes)
        assert ("needs the real MNIST files" in text) == says_mnist, notes


def test_a_quick_runs_untimed_batch_sizes_say_why(tmp_path):
    res = tmp_path / "results" / "asv"
    nan = float("nan")
    values = [nan, 0.01, nan, 0.02, nan, 0.015]  # FW_2B: (framework, device, batch 32 / 128); 32 not timed
    write_results(
        res, "box", HEAD, 1_700_000_000_000, {"throughput.TrainStep.time_train_step": (FW_2B, values, [None] * 6)}
    )
    meta = tmp_path / "results" / "meta" / "box" / f"{HEAD[:8]}.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"machine": "box", "commit": HEAD, "quick": True}))
    table, notes = report.comparison_table(report.load_results(res), "box", HEAD, "cpu")
    assert table.loc["torch", "train samples/s @128"].startswith("12,800")
    assert "train samples/s @32" not in table  # nothing measured there: only what the run timed is shown
    assert any(
        n.startswith("Left out, nothing measured: train samples/s @32") and "a quick run times batch 128 only" in n
        for n in notes
    ), notes


def test_a_benchmark_unknown_to_benchmarks_json_is_shown_without_an_internal_error(tmp_path):
    """A samples/s benchmark asv's benchmarks.json does not describe: its parameters are read by
    position, so it has no batch size and no samples/s; the report still builds (it was a TypeError)."""
    import json

    from asv_files import BASE, FW, HEAD, base_values, ci, write_results
    from conftest import cli

    res = tmp_path / "results" / "asv"
    for commit, later in ((BASE, 0), (HEAD, 100_000)):
        values = base_values()
        values["throughput.TrainStepNew.time_train_step"] = (FW, [0.01, 0.02, 0.015], [ci(0.01), ci(0.02), ci(0.015)])
        write_results(res, "box", commit, 1_700_000_000_000 + later, values)
    described = {"param_names": ["framework", "device", "batch_size"], "unit": "seconds"}
    (res / "benchmarks.json").write_text(json.dumps({"version": 2, "throughput.TrainStep.time_train_step": described}))
    proc = cli("report", "--results", str(res), "--readme", "", "--no-plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr


def test_a_note_keeps_its_code_spans_and_nothing_else_becomes_markdown():
    from bench.core.text import md_note

    assert md_note("from a later run (`2dc1465f`): a|b <i>") == "from a later run (`2dc1465f`): a\\|b &lt;i>"
    assert md_note("an odd ` backtick") == "an odd \\` backtick"  # no code span opens
    assert md_note("Measured at `2dc1465f`. Same  as `a`, `b`\n") == "Measured at `2dc1465f`. Same as `a`, `b`"
