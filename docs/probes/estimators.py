"""Does the way a round is read make the paired-over-alone gap? Paired rounds read as the engine reads them
(the median over bracketed pairs) and as alone rounds are read (each process's mean log), each against
the alone rounds; paired over alone, 95% Hodges-Lehmann over rounds (docs/validation.md, "What the
predict gap is not").

    .venv/bin/python docs/probes/estimators.py docs/validation/closed/three paired as-run
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from alone import _round_logs  # noqa: E402  (the alone check's reading of a round, both ways: one copy)

from bench.measure import stats  # noqa: E402
from bench.store import rounds_file  # noqa: E402


def main(save: str, kinds: list[str]) -> None:
    alone = _round_logs(rounds_file.load(Path(f"{save}-alone.csv")), mean_logs=True)
    for kind in kinds:
        paired = rounds_file.load(Path(f"{save}-{kind}.csv"))
        for how, mean_logs in (("bracketed pairs", False), ("mean logs", True)):
            print(f"{kind}, read by {how}: paired / alone (throughput ratio to PyTorch)")
            for (bench, fw), d in (
                (_round_logs(paired, mean_logs) - alone).dropna().groupby(level=["benchmark", "framework"])
            ):
                g = stats.paired_logs(-d.to_numpy())
                print(f"  {bench:10s} {fw:12s} {g.ratio:.3f} [{g.low:.3f}, {g.high:.3f}]  {g.rounds} rounds")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["paired"])
