"""bench/report/paired.py: the stored rounds become every published interval: main-table cells with
their ratio to torch, variants cells with their ratio to the framework's default, the matmul share."""

from __future__ import annotations

import math
import random
import re

import pandas as pd
from asv_files import BASE, FW, VARIANT, round_row, write_results

from bench import report
from bench.store import rounds_file

TRAIN = "throughput.TrainStep.time_train_step"
VAR = "variants.ImplementationVariants.time_variant_train_step"
MATMUL = "baseline.HostMatmul.time_host_matmul"


def _rows(rng, rounds=8):
    """torch 10 ms, jax 15 ms per train step; cell 1.5x fused in both; numpy matmul 80 ms; every round
    a shared drift of up to +-30% and 1% noise per sample."""
    truth = {
        ("torch", TRAIN, "128"): 0.010,
        ("jax", TRAIN, "128"): 0.015,
        ("tensorflow", TRAIN, "128"): 0.020,
        ("torch", VAR, "fused"): 0.010,
        ("torch", VAR, "cell"): 0.015,
        ("jax", VAR, "fused"): 0.015,
        ("jax", VAR, "cell"): 0.0225,
        ("torch", MATMUL, ""): 0.08,
        ("jax", MATMUL, ""): 0.08,
        ("tensorflow", MATMUL, ""): 0.08,
    }
    out = []
    for r in range(1, rounds + 1):
        drift = math.exp(rng.gauss(0, 0.3))
        for (fw, bench, key), t in truth.items():
            samples = [t * drift * math.exp(rng.gauss(0, 0.01)) for _ in range(4)]
            out.append(round_row(fw, bench, key, r, samples))
    return pd.DataFrame(out)


def test_cells_ratios_and_variants_come_with_intervals_from_the_rounds(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {TRAIN: (FW, [0.010, 0.020, 0.015], [None] * 3), VAR: (VARIANT, [0.010, 0.015, 0.015, 0.0225], [None] * 4)},
    )
    rounds_file.save(_rows(random.Random(1)), res, "box", BASE, append=False)
    frame = report.load_results(res)
    table, notes = report.comparison_table(frame, "box", BASE, "cpu")
    cell = table.loc["jax", "train samples/s @128"]
    assert "· 0.67x [" in cell and "±" in cell  # 10 ms / 15 ms, with its interval
    ratio = frame[(frame.framework == "jax") & (frame.metric == "train_step")].iloc[0]
    assert ratio.speedup_low < 2 / 3 < ratio.speedup_high and ratio.speedup_high / ratio.speedup_low < 1.03
    assert table.loc["torch", "train samples/s @128"].endswith("1.00x ref")
    share = table.loc["torch", "train @128: % of host matmul peak"]
    assert "[" in share  # the matmul timed in the same rounds gives the share an interval
    sections = report.sections.variant_sections(frame, "box", BASE, "cpu")
    variants = sections[0].table
    assert "· 0.67x [" in variants.loc["torch", "cell"] and "±" in variants.loc["torch", "cell"]
    assert "paired rounds" in " ".join(sections[0].notes)


def test_batch_against_batch_is_a_samples_per_second_ratio_paired_in_the_process(tmp_path):
    res = tmp_path / "results" / "asv"
    grid = [["'torch'"], ["'cpu'"], ["128", "1024"]]
    write_results(res, "box", BASE, 1_700_000_000_000, {TRAIN: (grid, [0.010, 0.050], [None] * 2)})
    rng = random.Random(2)
    rows = []
    for r in range(1, 9):
        drift = math.exp(rng.gauss(0, 0.3))
        for key, t in (("128", 0.010), ("1024", 0.050)):
            v = t * drift * math.exp(rng.gauss(0, 0.01))
            rows.append(round_row("torch", TRAIN, key, r, [v], number=1))
    rounds_file.save(pd.DataFrame(rows), res, "box", BASE, append=False)
    frame = report.load_results(res).set_index("batch_size")
    row = frame.loc[1024]
    assert row.within_low < 1.6 < row.within_high and row.within_high / row.within_low < 1.05  # 20,480 / 12,800


def test_a_measured_run_to_run_spread_widens_the_published_ratio_intervals(tmp_path):
    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, {TRAIN: (FW, [0.010, 0.020, 0.015], [None] * 3)})
    rounds_file.save(_rows(random.Random(1)), res, "box", BASE, append=False)

    def jax_ratio():
        frame = report.load_results(res)
        return frame[(frame.framework == "jax") & (frame.metric == "train_step")].iloc[0], frame

    before, _ = jax_ratio()
    from bench.store import reruns

    reruns.save(res.parent, "box", {"tau": 0.02, "pairs": 64, "ratios": 32, "agreed": 0.7}, ["a.csv", "b.csv"], None)
    after, frame = jax_ratio()
    assert after.speedup == before.speedup
    assert after.speedup_low < before.speedup_low and after.speedup_high > before.speedup_high
    assert math.log(after.speedup_high / after.speedup) >= 1.96 * 0.02  # at least the run-to-run term
    assert "run-to-run spread (log sd 2.0%" in report.header_line(frame, "box", BASE)


def test_a_carry_over_in_the_stored_rounds_is_named_under_the_table(tmp_path):
    """torch's samples after jax's are 8% slower than after its own in every round: the table's notes
    name it with its interval; the same rounds without it name nothing."""
    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, {TRAIN: (FW, [0.010, 0.020, 0.015], [None] * 3)})
    rng = random.Random(3)

    def rows(carry: float) -> pd.DataFrame:
        out = []
        for r in range(1, 9):
            drift = math.exp(rng.gauss(0, 0.3))
            after = ["torch:cpu", "jax:cpu", "tensorflow:cpu", "jax:cpu"]
            torch = [0.010 * drift * (carry if a == "jax:cpu" else 1.0) * math.exp(rng.gauss(0, 0.005)) for a in after]
            out.append({**round_row("torch", TRAIN, "128", r, torch), "after": tuple(after)})
            for fw, t in (("jax", 0.015), ("tensorflow", 0.020)):
                out.append(round_row(fw, TRAIN, "128", r, [t * drift * math.exp(rng.gauss(0, 0.005))] * 2))
        return pd.DataFrame(out)

    rounds_file.save(rows(1.08), res, "box", BASE, append=False)
    notes = report.comparison_table(report.load_results(res), "box", BASE, "cpu")[1]
    carried = [n for n in notes if n.startswith("Carry-over")]
    assert len(carried) == 1, notes
    found = re.search(r"torch:cpu after jax:cpu \+([\d.]+)% \[\+([\d.]+)%, \+([\d.]+)%\]", carried[0])
    assert found and float(found[2]) <= 8.0 <= float(found[3]) and abs(float(found[1]) - 8.0) < 1.0, carried
    assert "tensorflow" not in carried[0]
    rounds_file.save(rows(1.0), res, "box", BASE, append=False)
    notes = report.comparison_table(report.load_results(res), "box", BASE, "cpu")[1]
    assert not [n for n in notes if n.startswith("Carry-over")]


def test_a_ratio_wider_than_its_target_is_marked_in_its_cell_and_counted_in_one_line(tmp_path):
    """The same rounds with a run-to-run term of 0 (every ratio narrow) and of 3% (every ratio wider
    than the full run's ±5%): the marked ratios and the one-line note follow. (The cells, each
    process's own value, swing ±30% from round to round here: every one is marked wide.)"""
    from bench.report.tables import WIDE
    from bench.store import reruns

    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, {TRAIN: (FW, [0.010, 0.020, 0.015], [None] * 3)})
    rounds_file.save(_rows(random.Random(1)), res, "box", BASE, append=False)
    table, notes = report.comparison_table(report.load_results(res), "box", BASE, "cpu")
    ratios = table["train samples/s @128"].str.split("·").str[1]
    assert not any(WIDE in r for r in ratios)
    assert any(n.startswith(f"{WIDE} 0 of 2 ratios wider than ±5% and 3 of 3 cells wider than ±10%") for n in notes)
    reruns.save(res.parent, "box", {"tau": 0.03, "pairs": 64, "ratios": 32, "agreed": 0.7}, ["a.csv", "b.csv"], None)
    table, notes = report.comparison_table(report.load_results(res), "box", BASE, "cpu")
    ratios = table["train samples/s @128"].str.split("·").str[1]
    assert [WIDE in r for r in ratios.loc[["torch", "tensorflow", "jax"]]] == [False, True, True]
    (note,) = [n for n in notes if n.startswith(WIDE)]
    assert note.startswith(f"{WIDE} 2 of 2 ratios wider than ±5%") and "\n" not in note and len(note) < 300


def test_fewer_rounds_than_an_interval_needs_are_said_in_the_cell_without_a_width(tmp_path):
    """46.1: `run --rounds 3` publishes its cells and ratios, each saying that 3 rounds are too few for
    a 95% interval, with no width printed, and the note under the table says why."""
    res = tmp_path / "results" / "asv"
    write_results(res, "box", BASE, 1_700_000_000_000, {TRAIN: (FW, [0.010, 0.020, 0.015], [None] * 3)})
    rounds_file.save(_rows(random.Random(1), rounds=3), res, "box", BASE, append=False)
    frame = report.load_results(res)
    table, notes = report.comparison_table(frame, "box", BASE, "cpu")
    cell = table.loc["jax", "train samples/s @128"]
    assert "(3 rounds: too few for an interval)" in cell and "±" not in cell, cell
    assert "[too few rounds]" in cell and "◊" not in cell, cell  # not marked wider than its target either
    assert any("3 round(s) only" in n for n in notes), notes
