"""The engine's stored rounds (results/rounds/) turned into the report's intervals: each paired cell's
95% interval over rounds, its throughput ratio to the reference framework and to its own default
variant (from per-round pairs), the share of the host matmul peak measured in the same rounds, and
whether the framework's processes are bimodal. Added as columns of the tidy frame."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.measure import estimate, stats
from bench.report.corrupt import Corrupt, readable
from bench.store import reruns, rounds_file
from bench.store.layout import rounds_dir
from bench.workload.benchmarks import HOST_MATMUL, TRAIN_STEP
from bench.workload.harness import train_step_flops
from impls import LSTMConfig

PAIRED_COLUMNS = [
    "paired",
    "paired_rounds",
    "speedup",  # throughput over the reference's (a time ratio inverted: > 1 is faster), its interval
    "speedup_low",
    "speedup_high",
    "reference",
    "within",
    "within_low",
    "within_high",
    "bimodal",
    "peak_share",
    "peak_low",
    "peak_high",
    "matmul_gflops",
    "rerun_tau",
    "carryover",  # the carry-overs between arms established beyond 1% in these rounds ("" for none)
]


def attach(frame: pd.DataFrame, results_dir: Path, corrupt: Corrupt | None = None) -> pd.DataFrame:
    """`frame` with PAIRED_COLUMNS filled where a rounds file holds the row's machine and commit (one
    that cannot be read: a CorruptFile, or with `corrupt`, skipped there)."""
    for col in PAIRED_COLUMNS:
        frame[col] = np.nan if col not in ("paired", "bimodal", "reference", "carryover") else None
    folder = rounds_dir(results_dir)
    if not folder.is_dir() or frame.empty:
        return frame
    for (machine, commit), idx in frame.groupby(["machine", "commit"]).groups.items():
        path = folder / str(machine) / f"{str(commit)[:8]}.csv"
        if not path.is_file():
            continue
        rounds = readable(path, rounds_file.load, corrupt)
        if rounds is None:
            continue
        _fill(frame, idx, rounds, reruns.tau(Path(results_dir).parent, str(machine)))
    return frame


def _fill(frame: pd.DataFrame, idx, rounds: pd.DataFrame, tau: float = 0.0) -> None:
    """Fill the paired columns of rows `idx` from their rounds; ratio intervals to the reference widened
    by the machine's run-to-run spread `tau` (log sd, bench.store.reruns) where it was measured."""
    arms = set(rounds.arm)
    named = estimate.carryover_named(estimate.carryover(rounds))
    frame.loc[idx, "carryover"] = "; ".join(estimate.carry_text(r) for r in named.itertuples())
    cells = estimate.cells(rounds).set_index(["arm", "benchmark", "key"])
    within = estimate.within(rounds).set_index(["arm", "benchmark", "key"])
    shares = peak_shares(rounds).set_index("arm") if HOST_MATMUL in set(rounds.benchmark) else pd.DataFrame()
    for device in sorted({a.split(":", 1)[1] for a in arms}):
        ref = f"{estimate.REFERENCE}:{device}" if f"{estimate.REFERENCE}:{device}" in arms else None
        ratios = estimate.ratios(rounds, ref).set_index(["arm", "benchmark", "key"]) if ref else pd.DataFrame()
        for i in idx:
            row = frame.loc[i]
            if row.device != device:
                continue
            arm = f"{row.framework}:{device}"
            key = (arm, row.benchmark, row.key)
            if key not in cells.index:
                continue
            c = cells.loc[key]
            frame.loc[i, ["paired", "paired_rounds", "bimodal"]] = [True, int(c.rounds), bool(c.bimodal)]
            frame.loc[i, "spread"] = estimate.half_width(c.value, c.low, c.high)
            if ref:
                frame.loc[i, "reference"] = estimate.REFERENCE
                if arm == ref:
                    frame.loc[i, ["speedup", "speedup_low", "speedup_high"]] = [1.0, 1.0, 1.0]
                elif key in ratios.index:
                    r = ratios.loc[key]  # a time ratio: throughput is its inverse
                    frame.loc[i, ["speedup", "speedup_low", "speedup_high", "rerun_tau"]] = [
                        *estimate.published(r.ratio, r.low, r.high, tau),
                        tau,
                    ]
            if key in within.index:  # a time ratio; samples/s per call scale with the batch (or not at all)
                w = within.loc[key]
                scale = _batch_scale(key[2], w.reference) if row.metric in ("train_step", "predict") else 1.0
                frame.loc[i, ["within", "within_low", "within_high"]] = [
                    scale / w.ratio,
                    scale / w.high if w.high > 0 else 0.0,
                    scale / w.low if w.low > 0 else np.inf,  # too few rounds: unbounded, said so in the cell
                ]
            if row.benchmark == TRAIN_STEP and key[2] == "128" and arm in shares.index:
                s = shares.loc[arm]
                frame.loc[i, ["peak_share", "peak_low", "peak_high", "matmul_gflops"]] = [
                    s.share,
                    s.low,
                    s.high,
                    s.matmul_gflops,
                ]


def _batch_scale(key: str, reference: str) -> float:
    """Samples per call of `key`'s batch over the reference batch's: time ratio -> samples/s ratio."""
    try:
        return int(key) / int(reference)
    except ValueError:
        return 1.0


def peak_shares(rounds: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per arm: train-step GFLOP/s at batch 128 over the host matmul's GFLOP/s, both timed in the same
    process and round, with the interval over rounds."""

    ok = estimate.ok_rows(rounds)
    train = (
        ok[(ok.benchmark == TRAIN_STEP) & (ok.key == "128")]
        .drop_duplicates(["arm", "round"])
        .set_index(["arm", "round"])
        .value
    )
    mm = ok[ok.benchmark == HOST_MATMUL].drop_duplicates(["arm", "round"]).set_index(["arm", "round"]).value
    flops, mm_flops = train_step_flops(LSTMConfig(), 128), 2 * 2048**3
    both = pd.concat({"train": train, "mm": mm}, axis=1).dropna()
    out = []
    for arm, g in both.groupby(level="arm"):
        logs = np.log((flops / g.train) / (mm_flops / g.mm)).to_numpy()
        est, low, high = stats.hodges_lehmann(logs, confidence)
        out.append(
            {
                "arm": arm,
                "share": math.exp(est),
                "low": math.exp(low),
                "high": math.exp(high),
                "matmul_gflops": float(np.median(mm_flops / g.mm / 1e9)),
            }
        )
    return pd.DataFrame(out, columns=["arm", "share", "low", "high", "matmul_gflops"])
