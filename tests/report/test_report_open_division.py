"""bench/report/open_division.py: the open row is the candidate whose speed-up over the closed row is
proved by its interval, never a sample's luck; where none is, the closed row stands."""

from __future__ import annotations

import math
import random

import pandas as pd
from asv_files import BASE, round_row, write_results

from bench import report
from bench.report.open_division import choose, open_table
from bench.store import rounds_file

VAR = "variants.ImplementationVariants.time_variant_train_step"
GRID = [["'torch'", "'jax'"], ["'cpu'"], ["'fused'", "'cell'", "'compile'"]]
# seconds per step: torch's compile 1.25x faster than fused, its cell slower; jax's cell the same as fused
TRUTH = {
    ("torch", "fused"): 0.010,
    ("torch", "cell"): 0.015,
    ("torch", "compile"): 0.008,
    ("jax", "fused"): 0.015,
    ("jax", "cell"): 0.015,
}


def _rounds(rng: random.Random, rounds: int = 8) -> pd.DataFrame:
    """Every round a drift of up to +-30% shared by one process's candidates, 1% noise per sample."""
    rows = []
    for r in range(1, rounds + 1):
        for fw in ("torch", "jax"):
            drift = math.exp(rng.gauss(0, 0.3))
            for (f, variant), t in TRUTH.items():
                if f != fw:
                    continue
                samples = [t * drift * math.exp(rng.gauss(0, 0.01)) for _ in range(4)]
                rows.append(round_row(fw, VAR, variant, r, samples))
    return pd.DataFrame(rows)


def _frame(tmp_path, seed: int = 1) -> pd.DataFrame:
    res = tmp_path / "results" / "asv"
    values = [TRUTH.get((fw, v)) for fw in ("torch", "jax") for v in ("fused", "cell", "compile")]
    write_results(res, "box", BASE, 1_700_000_000_000, {VAR: (GRID, values, [None] * len(values))})
    rounds_file.save(_rounds(random.Random(seed)), res, "box", BASE, append=False)
    return report.load_results(res)


def test_the_open_row_is_the_candidate_proved_faster_and_the_closed_row_stands_otherwise(tmp_path):
    frame = _frame(tmp_path)
    chosen = choose(report.commit_rows(frame, "box", BASE, "cpu")).set_index("framework")
    torch = chosen.loc["torch"]
    assert torch.chose == "compile"
    assert torch.speedup_low > 1.0 and torch.speedup_low < 1.25 < torch.speedup_high  # 10 ms / 8 ms, in its interval
    assert torch.open > torch.closed
    jax = chosen.loc["jax"]
    assert jax.chose == "fused" and (jax.speedup, jax.speedup_low, jax.speedup_high) == (1.0, 1.0, 1.0)
    assert "cell" in jax.candidates  # what was tried is shown, with its ratio
    table = open_table(choose(report.commit_rows(frame, "box", BASE, "cpu")))
    assert table.loc["jax", "open / closed"] == "1.00x (closed kept)"
    assert table.loc["torch", "open row chose"] == "compile"
    assert table.loc["torch", "open / closed"].startswith("1.2")


def test_a_faster_sample_without_a_proved_interval_is_not_chosen(tmp_path):
    """jax's cell equals its fused row; over many seeds the open row picks it at most as often as a 95%
    interval's one-sided error allows."""
    picked = 0
    for seed in range(20):
        frame = _frame(tmp_path / str(seed), seed=seed)
        chosen = choose(report.commit_rows(frame, "box", BASE, "cpu")).set_index("framework")
        picked += chosen.loc["jax"].chose != "fused"
    assert picked <= 2


def test_the_page_shows_closed_and_open_rows(tmp_path):
    frame = _frame(tmp_path)
    section = report.sections.open_division_section(frame, "box", "cpu")
    assert "closed and open division" in section.title and f"`{BASE[:8]}`" in section.notes[0]
    assert list(section.table.index) == ["torch", "jax"]
    assert report.sections.open_division_section(frame, "box", "gpu") is None


def test_variants_measured_in_a_later_paired_run_are_shown_beside_the_main_table(tmp_path):
    from asv_files import FW, HEAD

    res = tmp_path / "results" / "asv"
    write_results(
        res,
        "box",
        BASE,
        1_700_000_000_000,
        {"throughput.TrainStep.time_train_step": (FW, [0.01, 0.02, 0.015], [None] * 3)},
    )
    values = [TRUTH.get((fw, v)) for fw in ("torch", "jax") for v in ("fused", "cell", "compile")]
    write_results(res, "box", HEAD, 1_700_000_100_000, {VAR: (GRID, values, [None] * len(values))})
    rounds_file.save(_rounds(random.Random(1)), res, "box", HEAD, append=False)
    frame = report.load_results(res)
    (section,) = [s for s in report.sections.variant_sections(frame, "box", BASE, "cpu") if "variant" in s.title]
    assert f"of a later run (`{HEAD[:8]}`)" in " ".join(section.notes)
    assert "±" in section.table.loc["torch", "compile"] and "[" in section.table.loc["torch", "compile"]
