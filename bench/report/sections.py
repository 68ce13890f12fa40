"""The variants sections beside the comparison table: each heavy variant's, precision's, sequence's and
hidden size's train samples/s at batch 128 with its ratio to the framework's default, and the open
division's closed and open rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from bench.core.text import md_note, md_table, md_text
from bench.report import open_division
from bench.report.load import commit_rows, rounds_text
from bench.report.tables import RATIO_SEP, table_frameworks
from bench.workload.benchmarks import (
    ACCURACY_VARIANTS,
    VARIANT_METRICS,
    hidden_flops,
)
from impls import PRECISIONS, SEQUENCES, VARIANTS
from impls.base import TF32_GPU


def _param_order(metric: str, columns) -> list:
    """Columns in their natural order: hidden sizes numerically, the default variant, precision and
    sequence first."""

    if metric == "hidden_train_step":
        return sorted(columns, key=int)
    variants = list(dict.fromkeys(v for names in VARIANTS.values() for v in names))  # fused first
    order = {"variant": variants, "precision": PRECISIONS, "sequence": SEQUENCES}.get(metric.split("_")[0], ())
    return [c for c in order if c in columns] + [c for c in columns if c not in order]


@dataclass
class Section:
    """One titled table of strings (rows: frameworks) with the notes under it, for Markdown and HTML."""

    title: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        return (
            f"**{md_text(self.title)}**\n\n"
            + md_table(self.table)
            + "\n"
            + "".join(f"\n{md_note(n)}\n" for n in self.notes)
        )


def variants_tables(frame: pd.DataFrame, machine: str, commit: str, device: str) -> list[str]:
    """Markdown of variant_sections."""
    return [s.markdown() for s in variant_sections(frame, machine, commit, device)]


def variant_sections(frame: pd.DataFrame, machine: str, commit: str, device: str) -> list[Section]:
    """The heavy-variants suite: train samples/s at batch 128 per variant, precision, sequence and
    hidden size; for hidden sizes also achieved GFLOP/s and its share of the framework's matmul peak;
    test accuracy per precision and per long sequence."""
    sel = commit_rows(frame, machine, commit, device)
    order = table_frameworks(sel)
    sel = sel[sel.status == "ok"]
    out = []
    for metric, title in VARIANT_METRICS.items():
        src = sel
        part = sel[sel.metric == metric]
        later = None if part.paired.fillna(False).astype(bool).any() else _newest_paired(frame, machine, device, metric)
        if later is not None:  # a paired run of the variants after the main table's run
            src, part = later, later[later.metric == metric]
        if part.empty:
            continue
        table = part.assign(shown=[_variant_cell(r) for r in part.itertuples()]).pivot_table(
            index="framework", columns="setting", values="shown", aggfunc="last"
        )
        table = table[_param_order(metric, table.columns)]
        cells = table.fillna("")
        notes = [n for n in (_missing_note(metric, table.columns, device),) if n]
        if part.paired.fillna(False).astype(bool).any():
            notes.append(
                f"From {rounds_text(int(part.paired_rounds.max()), part.version)}"
                + (
                    f" of a later run (`{str(part.commit.iloc[0])[:8]}`)"
                    if later is not None
                    else ", in the same processes as the main table"
                )
                + ": ± = 95% interval of the cell; the ratio is to the framework's first column, "
                "from per-round pairs in the same process, with its 95% interval."
            )
        else:
            notes.append(
                "One asv process per cell, no interval: compare cells within this table (measured in one "
                "run), not with the main table."
            )
        out.append(Section(f"{device.upper()} — train samples/s at batch 128 by {title}", cells, notes))
        if metric == "hidden_train_step":
            out.append(_gflops_table(src, part, device))
    out.extend(
        _accuracy_variant_table(sel, metric, title, device)
        for metric, title in ACCURACY_VARIANTS.items()
        if not sel[sel.metric == metric].empty
    )
    for section in out:  # rows in the comparison table's order
        section.table = section.table.reindex([fw for fw in order if fw in section.table.index])
    return out


def _newest_paired(frame: pd.DataFrame, machine: str, device: str, metric: str) -> pd.DataFrame | None:
    """The ok rows of the machine's newest commit whose `metric` was measured in paired rounds, or None."""
    rows = frame[(frame.machine == machine) & (frame.device == device) & (frame.metric == metric)]
    rows = rows[(rows.status == "ok") & rows.paired.fillna(False).astype(bool)]
    if rows.empty:
        return None
    commit = rows.sort_values("date").commit.iloc[-1]
    found = commit_rows(frame, machine, commit, device)
    return found[found.status == "ok"]


def open_division_section(frame: pd.DataFrame, machine: str, device: str) -> Section | None:
    """The closed and open rows per framework (bench.report.open_division) from the machine's newest
    commit whose variants ran in paired rounds (`open-division`), named with that commit."""

    rows = frame[(frame.machine == machine) & (frame.device == device) & (frame.metric == open_division.METRIC)]
    rows = rows[rows.paired.fillna(False).astype(bool)]
    if rows.empty:
        return None
    commit = rows.sort_values("date").commit.iloc[-1]
    sel = commit_rows(frame, machine, commit, device)
    table = open_division.open_table(open_division.choose(sel[sel.metric == open_division.METRIC]))
    if table.empty:
        return None
    order = [fw for fw in table_frameworks(sel) if fw in table.index]
    note = (
        f"Measured at `{str(commit)[:8]}`. Closed: the standard way (the library's LSTM as each framework runs it by "
        "default). Open: the fastest candidate of the framework's declared search space (its variants, each passing "
        "the same float64 check) whose speed-up over the closed row is proved by its 95% interval (per-round pairs "
        "in the same processes); where none is, the closed row stands. Search: `seqmnist-bench open-division`."
    )
    return Section(
        f"{device.upper()} — closed and open division: train samples/s at batch 128", table.reindex(order), [note]
    )


def _variant_cell(r) -> str:
    """'7,130 ±4.0% · 1.23x [1.20, 1.26]': samples/s at batch 128, its interval and its ratio to the
    framework's default variant, precision, sequence or hidden size."""
    text = f"{128 / r.value:,.0f}"
    if r.paired and pd.notna(r.spread):
        text += f" ±{r.spread:.1%}"
    if pd.notna(r.within):
        text += (
            f"{RATIO_SEP}{r.within:.2f}x [{r.within_low:.2f}, {r.within_high:.2f}]"
            if r.within_low > 0 and math.isfinite(r.within_high)
            else f"{RATIO_SEP}{r.within:.2f}x"
        )
    return text


def _missing_note(metric: str, columns, device: str) -> str:
    """Say why a precision column is absent rather than leaving it out silently."""

    if metric.startswith("precision") and "tf32" not in columns and device == "cpu":
        return f"tf32 is not shown: {TF32_GPU}, n/a on CPU."
    return ""


def _gflops_table(sel: pd.DataFrame, part: pd.DataFrame, device: str) -> Section:
    peak = sel[sel.metric == "matmul_gflops"].set_index("framework").value
    gflops = part.assign(g=[hidden_flops(int(h)) / v / 1e9 for h, v in zip(part.setting, part.value)])
    pivot = gflops.pivot_table(index="framework", columns="setting", values="g", aggfunc="last")
    pivot = pivot[sorted(pivot.columns, key=int)]
    text = pd.DataFrame(
        {
            col: {
                fw: "" if pd.isna(v) else f"{v:.1f}" + (f" ({v / peak[fw]:.0%})" if fw in peak else "")
                for fw, v in pivot[col].items()
            }
            for col in pivot.columns
        }
    )
    text.index.name = "framework"
    return Section(
        f"{device.upper()} — achieved matmul GFLOP/s by hidden size (share of the framework's "
        "2048x2048 float32 matmul peak)",
        text,
    )


def _accuracy_variant_table(sel: pd.DataFrame, metric: str, title: str, device: str) -> Section:
    """Test accuracy per precision or sequence (with time to 0.97 where it was reached)."""
    part = sel[sel.metric == metric]
    reached = sel[sel.metric == metric.replace("test_error", "time_to_accuracy")]
    seconds = {(r.framework, r.setting): r.value for r in reached.itertuples()}
    table = part.assign(shown=1 - part.value).pivot_table(
        index="framework", columns="setting", values="shown", aggfunc="last"
    )
    table = table[_param_order(metric, table.columns)]
    text = pd.DataFrame(
        {
            col: {
                fw: ""
                if pd.isna(v)
                else f"{v:.4f}" + (f" ({seconds[fw, col]:.1f} s to 0.97)" if (fw, col) in seconds else "")
                for fw, v in table[col].items()
            }
            for col in table.columns
        }
    )
    text.index.name = "framework"
    epochs = ", ".join(str(e) for e in sorted(part.epochs.dropna().unique()))
    notes = [n for n in (_missing_note(metric, table.columns, device),) if n]
    return Section(
        f"{device.upper()} — test accuracy by {title} after {epochs} epoch(s) (seed 0, batch 128, Adam 1e-3)",
        text,
        notes,
    )
