"""Is a run's first round like the others? For each rounds file and each ratio to the reference at one
batch size (and the reference's own per-call time), the rank of round 1 among the run's first N
rounds by its log ratio, taken as the engine takes a round's ratio (estimate.round_log_ratios: each
sample against the reference's around it; 1 = the framework slowest against the reference in round
1), then, over the
files, how often round 1 ranks first: with rounds that are exchangeable that is 1/N of the files, so a
one-sided binomial test says whether round 1 stands out (docs/findings.md, "The first round").

    .venv/bin/python docs/probes/first_round.py docs/validation/quick-runs/*.csv [--key 128] [--rounds 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.measure import estimate  # noqa: E402
from bench.store import rounds_file  # noqa: E402


def first_round_ranks(path: Path, key: str, rounds: int) -> dict[tuple[str, str], int]:
    """(benchmark, arm) -> round 1's rank among the first `rounds` rounds (the reference: its own time)."""
    frame = rounds_file.load(path)
    ref = f"{estimate.REFERENCE}:cpu"
    out = {}
    for bench, rows in frame[frame.key.astype(str) == key].groupby("benchmark"):
        kept = rows[rows["round"] <= rounds]
        reference = estimate.by_round(kept[kept.arm == ref])
        if len(reference) < rounds:
            continue
        for arm, own in kept.groupby("arm"):
            # a round's ratio as the engine takes it (each sample against the reference's around it)
            logs = (
                np.log(reference.value) if arm == ref else estimate.round_log_ratios(estimate.by_round(own), reference)
            )
            if len(logs) == rounds:
                out[(bench.split(".")[1], arm)] = int(logs.sort_index().rank(ascending=False, method="min").iloc[0])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--key", default="128")
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args()
    ranks: dict[tuple[str, str], list[int]] = {}
    for path in args.files:
        for k, r in first_round_ranks(path, args.key, args.rounds).items():
            ranks.setdefault(k, []).append(r)
    print(
        f"{len(args.files)} files; round 1's rank among the first {args.rounds} rounds (1 = slowest against the reference)"
    )
    for (bench, arm), rs in sorted(ranks.items()):
        first = sum(r == 1 for r in rs)
        p_value = stats.binomtest(first, len(rs), 1 / args.rounds, alternative="greater").pvalue
        what = "its own time" if arm.startswith(estimate.REFERENCE + ":") else "ratio"
        print(
            f"{bench:12s} {arm:16s} {what:12s} ranks {rs}: first in {first} of {len(rs)} "
            f"(p = {p_value:.3g}), mean rank {np.mean(rs):.2f}"
        )


if __name__ == "__main__":
    main()
