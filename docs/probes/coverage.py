"""Rerun coverage of the published ratios (docs/validation.md): the share of a second run's ratios to
the reference that fall inside the first run's 95% intervals, and the widest intervals of each run.

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
    out = both[~((both.low_a <= both.ratio_b) & (both.ratio_b <= both.high_a))]
    for r in out.itertuples():
        print(f"  outside: {r.arm} {r.benchmark} {r.key}: {r.ratio_b:.3f} vs [{r.low_a:.3f}, {r.high_a:.3f}]")


if __name__ == "__main__":
    main()
