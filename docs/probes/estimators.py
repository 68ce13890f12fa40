"""Does the way a round is read make the paired-over-alone gap? Paired rounds read as the engine reads them
(the median over bracketed pairs) and as alone rounds are read (each process's mean log), each against
the alone rounds; paired over alone, 95% Hodges-Lehmann over rounds (docs/validation.md, "What the
predict gap is not").

    .venv/bin/python docs/probes/estimators.py docs/validation/closed/three paired as-run
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.measure import stats  # noqa: E402
from bench.store import rounds_file  # noqa: E402


def per_round(frame: pd.DataFrame, pairs: bool) -> pd.Series:
    """log(time / PyTorch's) per (benchmark, framework, round): by bracketed pairs, or by mean logs."""
    frame = frame[frame.status == "ok"]
    torch = frame[frame.framework == "torch"].set_index(["benchmark", "round"])
    out = {}
    for r in frame[frame.framework != "torch"].itertuples():
        s = np.array(r.samples, float)
        if pairs and isinstance(r.bracket, tuple) and len(r.bracket) == len(s):
            out[(r.benchmark.split(".")[1], r.framework, r.round)] = stats.round_log_ratio(np.array(r.bracket), s)
        elif (r.benchmark, r.round) in torch.index:
            ref = np.array(torch.loc[(r.benchmark, r.round)].samples, float)
            out[(r.benchmark.split(".")[1], r.framework, r.round)] = np.mean(np.log(s)) - np.mean(np.log(ref))
    return pd.Series(out)


def main(save: str, kinds: list[str]) -> None:
    alone = per_round(rounds_file.load(Path(f"{save}-alone.csv")), pairs=False)
    for kind in kinds:
        paired = rounds_file.load(Path(f"{save}-{kind}.csv"))
        for how, pairs in (("bracketed pairs", True), ("mean logs", False)):
            print(f"{kind}, read by {how}: paired / alone (throughput ratio to PyTorch)")
            for (bench, fw), d in (per_round(paired, pairs) - alone).dropna().groupby(level=[0, 1]):
                g = stats.paired_logs(-d.to_numpy())
                print(f"  {bench:10s} {fw:12s} {g.ratio:.3f} [{g.low:.3f}, {g.high:.3f}]  {g.rounds} rounds")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["paired"])
