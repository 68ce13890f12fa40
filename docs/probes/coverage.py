"""Rerun coverage of the published ratios (docs/validation.md): the share of a second run's ratios to
the reference that fall inside the first run's 95% intervals, and the widest intervals of each run.

With honest 95% intervals of two equal runs, a second run's estimate lands inside the first's interval
about 83% of the time, not 95% (the difference of two estimates has sqrt(2) times the spread of one:
P(|Z| < 1.96 / sqrt(2)) = 0.834). So the probe also states the check that has a known target: the two
runs' estimates differ by less than their combined 95% half-width (the log half-widths added in
quadrature), which honest intervals meet 95% of the time.

    .venv/bin/python docs/probes/coverage.py results/rounds/MACHINE_A/COMMIT.csv results/rounds/MACHINE_B/COMMIT.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.measure import estimate  # noqa: E402
from bench.store import rounds_file  # noqa: E402


def summary(path: Path):
    frame = rounds_file.load(path)
    ref = next(a for a in frame.arm.unique() if a.startswith("torch:"))
    ratios = estimate.ratios(frame, ref)
    ratios["width"] = [estimate.half_width(r.ratio, r.low, r.high) for r in ratios.itertuples()]
    cells = estimate.cells(frame)
    cells["width"] = [estimate.half_width(c.value, c.low, c.high) for c in cells.itertuples()]
    return frame, ratios, cells


def main() -> None:
    a_path, b_path = Path(sys.argv[1]), Path(sys.argv[2])
    _, a, a_cells = summary(a_path)
    _, b, b_cells = summary(b_path)
    for name, r, c in (("first", a, a_cells), ("second", b, b_cells)):
        wr, wc = r.loc[r.width.idxmax()], c.loc[c.width.idxmax()]
        print(
            f"{name}: {int(r.rounds.max())} rounds; widest ratio ±{wr.width:.1%} ({wr.arm} {wr.benchmark} {wr.key}); "
            f"widest cell ±{wc.width:.1%} ({wc.arm} {wc.benchmark} {wc.key}); ratios within ±3%: "
            f"{(r.width <= 0.03).sum()}/{len(r)}, within ±8%: {(r.width <= 0.08).sum()}/{len(r)}"
        )
    both = a.merge(b, on=["benchmark", "key", "arm"], suffixes=("_a", "_b"))
    inside = ((both.low_a <= both.ratio_b) & (both.ratio_b <= both.high_a)).sum()
    print(
        f"coverage: {inside} of {len(both)} second-run ratios inside the first run's intervals "
        f"({inside / len(both):.0%})"
    )
    import numpy as np

    half = {s: (np.log(both[f"high_{s}"]) - np.log(both[f"low_{s}"])) / 2 for s in ("a", "b")}
    gap = np.abs(np.log(both.ratio_a) - np.log(both.ratio_b))
    agree = (gap <= np.sqrt(half["a"] ** 2 + half["b"] ** 2)).sum()
    print(
        f"agreement: {agree} of {len(both)} ratio pairs differ by less than their combined 95% half-width "
        f"({agree / len(both):.0%}; honest intervals: 95%); mean log difference {np.mean(np.log(both.ratio_b / both.ratio_a)):+.2%}"
    )
    out = both[~((both.low_a <= both.ratio_b) & (both.ratio_b <= both.high_a))]
    for r in out.itertuples():
        print(f"  outside: {r.arm} {r.benchmark} {r.key}: {r.ratio_b:.3f} vs [{r.low_a:.3f}, {r.high_a:.3f}]")


if __name__ == "__main__":
    main()
