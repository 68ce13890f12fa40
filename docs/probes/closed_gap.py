"""Where the paired-over-alone gap sits: per framework, the median sample of each round's process, paired
and alone, and the share of samples over 1.2x their round's median (docs/validation.md, "Paired against
alone, plain processes").

    .venv/bin/python docs/probes/closed_gap.py [SAVE ...]   # default: both runs in docs/validation/closed/
    PAIRED=as-run .venv/bin/python docs/probes/closed_gap.py docs/validation/closed/three  # alone.py --both's
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.store import rounds_file  # noqa: E402

RUNS = [ROOT / "docs/validation/closed/interleaved", ROOT / "docs/validation/closed/interleaved-2"]
PAIRED = os.environ.get("PAIRED", "paired")  # which paired file: SAVE-paired.csv, or SAVE-as-run.csv (--both)


def per_round(save: Path, kind: str, bench: str) -> pd.DataFrame:
    """One row per framework and round: its samples' median (ms) and share over 1.2x that median."""
    frame = rounds_file.load(Path(f"{save}-{kind}.csv"))
    frame = frame[(frame.status == "ok") & (frame.benchmark == bench) & (frame.key == "128")]
    rows = []
    for r in frame.itertuples():
        s = np.array(r.samples)
        rows.append(
            {"framework": r.framework, "median_ms": np.median(s) * 1e3, "slow": (s > 1.2 * np.median(s)).mean()}
        )
    return pd.DataFrame(rows)


def main(saves: list[Path]) -> None:
    for bench in ("throughput.Predict.time_predict", "throughput.TrainStep.time_train_step"):
        both = {
            k: pd.concat([per_round(s, PAIRED if k == "paired" else k, bench) for s in saves])
            for k in ("paired", "alone")
        }
        table = pd.DataFrame(
            {
                f"{k} {col}": both[k].groupby("framework")[col].median()
                for k in ("paired", "alone")
                for col in ("median_ms", "slow")
            }
        )
        table["paired / alone"] = table["paired median_ms"] / table["alone median_ms"]
        print(f"\n{bench} @128, {len(saves)} run(s)\n")
        print(table.round(3).to_markdown())


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or RUNS)
