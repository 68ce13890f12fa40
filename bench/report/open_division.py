"""The open division: each framework at its best equivalent configuration beside its closed row.

The closed row is the standard way (the "fused" variant: the library's own LSTM). The open row is the
candidate of the framework's declared search space (its variants, each proven equivalent by the
float64 check in tests/impls) whose speed-up over the closed row is proved by its interval: the
lower end of its 95% interval, from per-round pairs in the same processes, lies above 1. Where no
candidate proves itself faster, the open row is the closed row: a winner is chosen by its interval,
never by one sample.
"""

from __future__ import annotations

import pandas as pd

METRIC = "variant_train_step"  # variants.ImplementationVariants, train step at batch 128
CLOSED = "fused"
BATCH = 128


def choose(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per framework: the closed and open rows (samples/s and ± of each), the open row's ratio to
    the closed with its interval, what it chose and from which candidates. `rows`: the tidy frame's
    variant_train_step rows of one machine, commit and device (value in seconds per step, `within`*
    columns the throughput ratio to the framework's default variant)."""
    out = []
    ok = rows[(rows.metric == METRIC) & (rows.status == "ok")]
    for framework, part in ok.groupby("framework", sort=False):
        part = part.set_index("setting")
        if CLOSED not in part.index:
            continue
        closed = part.loc[CLOSED]
        proved = part[(part.index != CLOSED) & (part.within_low > 1.0)]
        chosen = proved.within.idxmax() if not proved.empty else CLOSED
        winner = part.loc[chosen]
        ratio = (1.0, 1.0, 1.0) if chosen == CLOSED else (winner.within, winner.within_low, winner.within_high)
        out.append(
            {
                "framework": framework,
                "closed": BATCH / closed.value,
                "closed_spread": closed.spread,
                "open": BATCH / winner.value,
                "open_spread": winner.spread,
                "chose": chosen,
                "speedup": ratio[0],
                "speedup_low": ratio[1],
                "speedup_high": ratio[2],
                "candidates": ", ".join(
                    f"{v} {r.within:.2f}x"
                    + (f" [{r.within_low:.2f}, {r.within_high:.2f}]" if pd.notna(r.within_low) else "")
                    for v, r in part.iterrows()
                    if v != CLOSED and pd.notna(r.within)
                ),
            }
        )
    return pd.DataFrame(out)


def open_table(chosen: pd.DataFrame) -> pd.DataFrame:
    """The page's table: closed and open samples/s side by side, the ratio with its interval, the choice."""

    def cell(value, spread) -> str:
        return f"{value:,.0f}" + (f" ±{spread:.1%}" if pd.notna(spread) else "")

    if chosen.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "closed: fused, train samples/s @128": [cell(r.closed, r.closed_spread) for r in chosen.itertuples()],
            "open: best proved, train samples/s @128": [cell(r.open, r.open_spread) for r in chosen.itertuples()],
            "open / closed": [
                "1.00x (closed kept)"
                if r.chose == CLOSED
                else f"{r.speedup:.2f}x [{r.speedup_low:.2f}, {r.speedup_high:.2f}]"
                for r in chosen.itertuples()
            ],
            "open row chose": list(chosen.chose),
            "candidates (ratio to closed [95%])": list(chosen.candidates),
        },
        index=chosen.framework,
    )
