"""Why paired over alone is a mean: an alone process times its samples in a short window, a paired round
in a long one. Per framework's predict @128: each alone process's mean log per sample, each paired
round's, and each paired round's middle stretch of as many samples as an alone process takes; over
blocks, the exp of their mean and median, their skew and sd (docs/validation.md, "The check's estimator").

    .venv/bin/python docs/probes/windows.py docs/validation/closed/{variants,staging,warm,quiet,two,warm15,paused}
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as st

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from sample_faults import load  # noqa: E402

from bench.measure import estimate  # noqa: E402


def logs(frame: pd.DataFrame, framework: str) -> list[np.ndarray]:
    """One array of log sample times per process (round) of `framework`'s predict."""
    ok = estimate.ok_rows(frame)
    rows = ok[(ok.framework == framework) & ok.benchmark.str.contains("Predict")]
    return [np.log(estimate._samples(s)) for s in rows.samples]


def middle(samples: np.ndarray, n: int) -> np.ndarray:
    """The `n` samples in the middle of a round's."""
    start = max(0, len(samples) // 2 - n // 2)
    return samples[start : start + n]


def table(alone: pd.DataFrame, paired: pd.DataFrame, frameworks: list[str]) -> pd.DataFrame:
    out = []
    for fw in frameworks:
        a, p = logs(alone, fw), logs(paired, fw)
        if not a or not p:
            continue
        n = int(np.median([len(v) for v in a]))
        for kind, values in (
            ("alone", [v.mean() for v in a]),
            ("paired, whole round", [v.mean() for v in p]),
            (f"paired, middle {n} samples", [middle(v, n).mean() for v in p]),
        ):
            x = np.asarray(values)
            out.append(
                {
                    "framework": fw,
                    "process": kind,
                    "n": x.size,
                    "ms, mean": 1e3 * np.exp(x.mean()),
                    "ms, median": 1e3 * np.exp(np.median(x)),
                    "skew": st.skew(x),
                    "sd of log": x.std(ddof=1),
                }
            )
    return pd.DataFrame(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("saves", nargs="+", type=Path, help="earlier sample_faults/paired_variants/alone --save runs")
    p.add_argument("--frameworks", nargs="+", default=["torch", "jax", "tensorflow"])
    args = p.parse_args()
    _, frames = load(args.saves)
    print(table(frames["alone"], frames["paired"], args.frameworks).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
