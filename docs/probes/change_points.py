"""Change-point detectors side by side on seeded series where the truth is known, and their cost as
the history grows (docs/validation.md, "Change points").

    .venv/bin/python docs/probes/change_points.py                 # the table and the timings
    .venv/bin/python docs/probes/change_points.py --trials 100    # quicker

Each series: 30 commits, each point's log value with Gaussian noise of the row's sd (its stored
interval saying so), a step of the row's size at commit 20. A detection within one commit of 20, the
right way, is found; any other detection is a false alarm; flat series (the same sd, no step) count
false alarms too. Every method goes through the same detect() (the same filter: steps of 3% or more
whose 95% interval excludes no change; the newest commits at 3 standard errors); only the
segmentation differs. PELT runs with the report's penalty (changes.PELT_PENALTY) unless --penalties
names others; each is printed with its false alarms over every row against the Potts fit's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.report import changes  # noqa: E402

ROWS = [(0.015, 0.05), (0.02, 0.05), (0.03, 0.05), (0.05, 0.10), (0.02, 0.10), (0.03, 0.10)]
AT, N = 20, 30
READ = [1.0]  # the sd detect() is handed, in units of the true one (--read-noise)


def series(trials: int, sd: float, step: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(trials):
        y = np.exp(rng.normal(0, sd, N))
        y[AT:] *= 1 + step
        out.append(y)
    return out


def score(segment, trials: int, seed: int) -> pd.DataFrame:
    rows = []
    for i, (sd, step) in enumerate(ROWS):
        found = false = flat = 0
        for y in series(trials, sd, step, seed + i):
            steps = _detect(y, sd, segment)
            hit = [s for s in steps if abs(s.at - AT) <= 1 and s.ratio > 1 and s.low > 1]
            found += bool(hit)
            false += len(steps) - min(len(hit), 1)
        for y in series(trials, sd, 0.0, seed + 100 + i):
            flat += len(_detect(y, sd, segment))
        rows.append({"noise": sd, "step": step, "found": found, "false_in_step_series": false, "false_in_flat": flat})
    return pd.DataFrame(rows)


def _detect(y, sd, segment):
    changes.SEGMENTERS["probe"] = segment
    return changes.detect(y, np.full(len(y), sd * READ[0]), method="probe")


def timings(method: str, sizes=(100, 400, 1000)) -> dict[int, float]:
    """Seconds of detect() on one series of n commits with a 5% step every 100, 2% noise."""
    out = {}
    rng = np.random.default_rng(0)
    for n in sizes:
        y = np.exp(rng.normal(0, 0.02, n) + 0.05 * (np.arange(n) // 100))
        began = time.process_time()
        changes.detect(y, np.full(n, 0.02), method=method)
        out[n] = time.process_time() - began
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--penalties", type=float, nargs="+", default=[changes.PELT_PENALTY])
    p.add_argument(
        "--read-noise",
        type=float,
        default=1.0,
        help="hand detect() this multiple of each point's true sd: 1.314 (z99 / z95) is how the report read asv's "
        "99%% intervals as 95%% ones before the fix",
    )
    p.add_argument("--pelt-only", action="store_true", help="leave the Potts fits out (their table is unchanged)")
    a = p.parse_args()
    READ[0] = a.read_noise
    if a.pelt_only:
        for pen in a.penalties:
            table = score(lambda logs, sds, pen=pen: changes.pelt(logs, sds, pen), a.trials, a.seed)
            print(f"PELT penalty {pen:g}, noise read as {a.read_noise:g}x: found {table.found.sum()}")
            print(table.to_markdown(index=False))
        return
    potts = score(changes.potts, a.trials, a.seed)
    approx = score(changes.potts_approx, a.trials, a.seed)
    both = potts.add_prefix("potts_").join(
        approx[["found", "false_in_step_series", "false_in_flat"]].add_prefix("approx_")
    )
    budget = int(potts.false_in_step_series.sum() + potts.false_in_flat.sum())
    for pen in a.penalties:
        table = score(lambda logs, sds, pen=pen: changes.pelt(logs, sds, pen), a.trials, a.seed)
        alarms = int(table.false_in_step_series.sum() + table.false_in_flat.sum())
        print(f"PELT penalty {pen:g}: {alarms} false alarms (Potts: {budget}), found {table.found.sum()} "
              f"(Potts: {potts.found.sum()})")  # fmt: skip
        both = both.join(table[["found", "false_in_step_series", "false_in_flat"]].add_prefix(f"pelt{pen:g}_"))
    print(f"{a.trials} series per row and kind, seed {a.seed}")
    print(both.to_markdown(index=False))
    for method in ("potts", "potts-approx", "pelt"):
        print(method, {n: round(t, 3) for n, t in timings(method).items()}, "CPU seconds per series")


if __name__ == "__main__":
    main()
