"""The published tables: the comparison table per machine, commit and device (cells with their
intervals, n/a cells with their reasons), the heavy-variants tables, and the README's table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bench.core.text import md_note, md_table, md_text, scrub_paths
from bench.measure.estimate import CARRYOVER_LIMIT, CELL_TARGET, RATIO_TARGET, half_width
from bench.measure.sampler import BUSY_SHARE
from bench.measure.stats import MIN_ROUNDS, paired_by_seed, rerun_term
from bench.report.load import commit_rows, is_quick, latest_commits, rounds_text, timed_alone
from bench.workload.benchmarks import (
    METRICS,
    TABLE_METRICS,
    display_value,
)
from bench.workload.harness import train_step_flops
from impls import FRAMEWORKS, LSTMConfig
from impls.registry import BUILTINS


def _na_reason(sel: pd.DataFrame, cell: pd.DataFrame, metric: str, fw: str, device: str, epochs) -> str:
    """Why a cell is n/a: failed, skipped (with the runner's reason), not reached, or not run.
    `cell` holds this column's rows (one batch size), `sel` the whole commit and device."""
    row = cell[cell.framework == fw]
    status = row.status.iloc[0] if len(row) else "missing"
    reason = row.reason.iloc[0] if len(row) else _skip_reason(sel, fw)
    reason = reason if isinstance(reason, str) and reason else None  # "" when the run did not record one
    if status == "invalid":
        return f"{fw}: stored value {row.value.iloc[0]!r} is not a valid measurement (see the results file)"
    if status == "failed":
        where = f" at batch {row.batch_size.iloc[0]}" if pd.notna(row.batch_size.iloc[0]) else ""
        return f"{fw}: benchmark failed{where} (its error is in the asv output of that run)"
    if metric == "device_peak_memory" and device == "cpu":
        return "device memory is measured on GPU only"
    batches = cell.batch_size.dropna()
    if metric in ("train_step", "predict") and len(batches) and batches.iloc[0] != 128 and is_quick(sel):
        return "a quick run times batch 128 only (run without --quick for every batch size)"
    trained = sel[(sel.metric == "test_error") & (sel.status == "ok") & (sel.framework == fw)]
    if metric in ("time_to_accuracy", "steps_to_accuracy") and len(trained):
        return f"0.97 not reached within {epochs} epoch(s)"
    if metric == "test_error" and reason is None and status == "skipped":
        data = sel.data.dropna()
        note = data.iloc[0] if len(data) and isinstance(data.iloc[0], str) else ""
        if note.startswith("unavailable"):  # the run could not load MNIST, and said why
            return f"accuracy needs the real MNIST files (--data-dir); this run's data: {scrub_paths(note)}"
        return f"{fw}: accuracy skipped in this run (the run had its data: see the asv output of that run)"
    return f"{fw} on {device}: {reason or 'not run on this machine and commit'}"


def _skip_reason(sel: pd.DataFrame, fw: str):
    """The runner's skip reason for a framework with no row in a column."""
    reasons = [r for r in sel[sel.framework == fw].reason if isinstance(r, str) and r]
    return reasons[0] if reasons else None


def _peak_share(sel: pd.DataFrame) -> dict[str, str]:
    """Train-step matmul GFLOP/s at batch 128 as a share of the host's numpy float32 matmul: timed in the
    same paired rounds and processes as the cell where the run has them (with the interval over rounds),
    else the run's calibration (bench.store.fingerprint). Comparable across hosts, unlike samples/s."""

    ok = sel[(sel.status == "ok") & (sel.metric == "train_step") & (sel.batch_size == 128)]
    out = {}
    for r in ok.itertuples():
        if pd.notna(r.peak_share):  # the matmul timed in the same process and rounds as the cell
            out[r.framework] = f"{r.peak_share:.1%} [{r.peak_low:.1%}, {r.peak_high:.1%}]"
        elif pd.notna(r.host_gflops) and r.host_gflops and r.device == "cpu":
            gflops = train_step_flops(LSTMConfig(), 128) / r.value / 1e9
            out[r.framework] = f"{gflops / r.host_gflops:.1%}"
    return out


def _harness_ratio(sel: pd.DataFrame) -> dict[str, str]:
    """Harness train step over the minimal idiomatic loop at batch 128, as samples/s (1.00 = no overhead)."""
    ok = sel[(sel.status == "ok") & (sel.batch_size == 128)]
    harness = ok[ok.metric == "train_step"].set_index("framework").value
    minimal = ok[ok.metric == "minimal_train_step"].set_index("framework").value
    return {fw: f"{minimal[fw] / harness[fw]:.2f}" for fw in harness.index.intersection(minimal.index)}


def comparison_table(frame: pd.DataFrame, machine: str, commit: str, device: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows: frameworks; columns: each metric (throughputs per batch size with the ratio to the
    fastest framework). Cells are strings; an n/a cell carries a footnote number with the reason."""
    sel = commit_rows(frame, machine, commit, device)
    rows = table_frameworks(sel)
    columns: dict[str, dict] = {}
    fastest: dict[str, str] = {}  # column -> the framework with the best value (for the results page)
    defined: dict[str, str] = {}  # column -> its metric (the page links each header to its definition)
    keys = sel[["metric", "batch_size", "epochs"]].drop_duplicates()
    keys = keys[keys.metric.isin(TABLE_METRICS)]
    keys = keys.assign(order=keys.metric.map(TABLE_METRICS.index)).sort_values(["order", "batch_size"])
    for metric, batch, epochs in keys[["metric", "batch_size", "epochs"]].itertuples(index=False):
        header = METRICS[metric].header(batch, epochs)
        defined[header] = metric
        columns[header], best = _column(sel, rows, metric, batch, epochs, device)
        if best is not None:
            fastest[header] = best
    columns, notes = _number_na(columns, rows)
    notes += _run_notes(sel)
    overhead = _harness_ratio(sel)
    if overhead:
        columns["harness / minimal loop @128"] = overhead
    share = _peak_share(sel)
    if share:
        columns["train @128: % of host matmul peak"] = share
    table = pd.DataFrame(columns).reindex(rows).fillna("n/a")  # ratio columns: no value where a side is missing
    table.index.name = "framework"
    table.attrs.update(best=fastest, metrics=defined)
    return table, notes


def _column(sel: pd.DataFrame, rows: list[str], metric: str, batch, epochs, device: str) -> tuple[dict, str | None]:
    """One column's cells (value, interval, ratio; n/a with its reason) and the framework that is best in it."""
    group = sel[(sel.metric == metric) & (sel.batch_size.isna() if pd.isna(batch) else sel.batch_size == batch)]
    m = METRICS[metric]
    ok = group[group.status == "ok"]
    records = list(ok.itertuples())  # once: each pass over a frame's many columns costs ~10 ms
    shown = {  # a value that cannot be shown (samples/s without a batch size: an undescribed benchmark) is n/a
        r.framework: float(v)
        for r in records
        if pd.notna(v := display_value(metric, r.value, r.batch_size)) and math.isfinite(float(v))
    }
    spread = {r.framework: (r.spread, r.paired_rounds if r.paired else r.runs) for r in records}
    paired = {r.framework: r for r in records if r.paired and pd.notna(r.speedup)}
    best = max(shown.values()) if shown and m.display == "samples/s" else None
    target = _target(sel)  # the run's ratio target: a ratio wider is marked WIDE
    cells: dict[str, str | _NotMeasured] = {}
    for fw in rows:
        if fw not in shown:
            cells[fw] = _NotMeasured(scrub_paths(_na_reason(sel, group, metric, fw, device, epochs)))
            continue
        if paired:  # a ratio to the reference framework from per-round pairs, with its interval
            ratio = ratio_text(paired[fw]) if fw in paired else ""
        elif metric == "time_to_accuracy":  # paired by seed: same init and batches in every framework
            ratio = seed_ratio_text(ok, fw)
        else:
            ratio = f" ({shown[fw] / best:.2f}x)" if best else ""
        interval = _interval(m, shown[fw], *spread[fw], paired=bool(paired))
        if paired and _wide_cell(spread[fw][0]) and not too_few(spread[fw][1]):
            interval += f" {WIDE}"
        if fw in paired and _wide_ratio(paired[fw], target) and not too_few(spread[fw][1]):
            ratio += f" {WIDE}"
        cells[fw] = m.format(shown[fw]) + interval + ratio
    pick = max if m.higher_shown_is_better else min
    return cells, (pick(shown, key=lambda fw: shown[fw]) if shown else None)


def _run_notes(sel: pd.DataFrame) -> list[str]:
    """The table's notes on the run itself: intervals wider than their target, rounds beside other work,
    a carry-over between frameworks."""
    notes = []
    wide = wider_than_target(sel)
    if wide:
        notes.append(wide)
    busy = sorted({b for b in sel.get("busy_rounds", pd.Series(dtype=object)).dropna() if b})
    if busy:
        notes.append(
            f"Round(s) {'; '.join(busy)} of this run ran beside other work (processes outside the run used over "
            f"{BUSY_SHARE:.0%} of a core): run again on a quiet machine, or add rounds."
        )
    carried = sorted({c for c in sel.get("carryover", pd.Series(dtype=object)).dropna() if c})
    if carried:
        notes.append(
            f"Carry-over beyond {CARRYOVER_LIMIT:.0%} (a sample slower after another framework's sample than after "
            f"its own): {'; '.join(carried)}. Ratios bracketed by such samples are biased by about half of it "
            "(docs/findings.md)."
        )
    return notes


@dataclass(frozen=True)
class _NotMeasured:
    """A cell with no value, and why."""

    reason: str


def _number_na(columns: dict[str, dict], rows: list[str]) -> tuple[dict[str, dict], list[str]]:
    """Leave out the columns in which nothing was measured (one note names them), and turn every other
    n/a cell into 'n/a [k]', k its reason's footnote, numbered in reading order."""
    shown = {
        c: cells for c, cells in columns.items() if not all(isinstance(cells.get(fw), _NotMeasured) for fw in rows)
    }
    left_out = [c for c in columns if c not in shown]
    notes: list[str] = []
    for cells in shown.values():
        for fw, cell in cells.items():
            if isinstance(cell, _NotMeasured):
                if cell.reason not in notes:
                    notes.append(cell.reason)
                cells[fw] = f"n/a [{notes.index(cell.reason) + 1}]"
    if left_out and shown:
        why = sorted({columns[c][fw].reason for c in left_out for fw in rows})
        notes.append(f"Left out, nothing measured: {', '.join(left_out)} ({'; '.join(why)}).")
    return shown, notes


WIDE = "◊"  # marks a paired ratio or cell whose 95% interval is wider than the run's target


def _paired_rows(sel: pd.DataFrame) -> pd.DataFrame:
    """The main table's values measured in paired rounds (the ones with a ratio and a target)."""
    return sel[(sel.status == "ok") & sel.paired.fillna(False).astype(bool) & sel.metric.isin(TABLE_METRICS)]


def _target(sel: pd.DataFrame) -> float:
    """The run's ratio target: a quick run's when its paired rounds were quick."""

    return RATIO_TARGET[is_quick(_paired_rows(sel))]


def _wide_ratio(row, target: float) -> bool:
    if pd.isna(row.speedup) or row.framework == row.reference:
        return False
    return not half_width(row.speedup, row.speedup_low, row.speedup_high) <= target


def _wide_cell(spread) -> bool:
    return bool(pd.notna(spread) and spread > CELL_TARGET)


def wider_than_target(sel: pd.DataFrame) -> str:
    """One line under the main table: how many paired ratios and cells are wider than the run's target
    (each marked WIDE in its cell, its width shown there), or that all are within."""
    rows = _paired_rows(sel)
    if rows.empty:
        return ""
    few = rows[[too_few(n) for n in rows.paired_rounds]]
    if len(few):
        return (
            f"{int(few.paired_rounds.max())} round(s) only: a 95% interval needs at least {MIN_ROUNDS}, so these "
            "cells and ratios are shown without one (run more rounds: --rounds, or no --rounds)."
        )
    target = _target(sel)
    ratios = rows[rows.speedup.notna() & (rows.framework != rows.reference)]
    wide_ratios = sum(_wide_ratio(r, target) for r in ratios.itertuples())
    wide_cells = sum(_wide_cell(r.spread) for r in rows.itertuples())
    if not wide_ratios and not wide_cells:
        return f"Every ratio's 95% interval is within ±{target:.0%} and every cell's within ±{CELL_TARGET:.0%}."
    tau = rows.rerun_tau.max() if "rerun_tau" in rows else math.nan
    term = rerun_term(tau) if pd.notna(tau) else 0.0
    floor = (
        f" This machine's run-to-run term alone is ±{term:.1%}"
        + (
            ", wider than the target: more rounds in one run cannot reach it (docs/validation.md)."
            if term >= target
            else "."
        )
        if term
        else ""
    )
    return (
        f"{WIDE} {wide_ratios} of {len(ratios)} ratios wider than ±{target:.0%} and {wide_cells} of {len(rows)} cells "
        f"wider than ±{CELL_TARGET:.0%} when the rounds' budget ended: more rounds narrow them (--budget, --max-rounds)."
        + floor
    )


RATIO_SEP = " · "  # between a cell's value and its ratio: the page breaks the line there, the README splits on it
FACT_SEP = " · "  # between the facts of a table's header line: the page sets each apart


def ratio_text(row) -> str:
    """' · 0.66x [0.64, 0.68]': throughput ratio to the reference framework with its 95% interval
    (' · 1.00x ref' for the reference itself); '‡' marks a framework whose processes are bimodal."""
    mark = " ‡" if row.bimodal else ""
    if row.framework == row.reference:
        return f"{RATIO_SEP}1.00x ref{mark}"
    if not (row.speedup_low > 0 and math.isfinite(row.speedup_high)):
        return f"{RATIO_SEP}{row.speedup:.2f}x [too few rounds]{mark}"
    return f"{RATIO_SEP}{row.speedup:.2f}x [{row.speedup_low:.2f}, {row.speedup_high:.2f}]{mark}"


def seed_ratio_text(ok: pd.DataFrame, fw: str, reference: str = "torch") -> str:
    """' · 0.66x [0.64, 0.68] (3 seeds paired)': the reference's time to accuracy over this framework's,
    seed by seed (each seed's steps are the same in equivalent implementations, so the seed-to-seed
    spread cancels), with a 95% interval; '' unless every seed reached the target on both sides."""
    rows = {r.framework: r for r in ok.itertuples()}
    own = getattr(rows.get(fw), "replicates", None)
    if fw == reference:
        return f"{RATIO_SEP}1.00x ref" if isinstance(own, list) and len(own) >= 2 else ""
    a, b = getattr(rows.get(reference), "replicates", None), getattr(rows.get(fw), "replicates", None)
    if not isinstance(a, list) or not isinstance(b, list) or len(a) != len(b) or len(a) < 2:
        return ""

    ratio, low, high, n = paired_by_seed(a, b)
    return f"{RATIO_SEP}{ratio:.2f}x [{low:.2f}, {high:.2f}] ({n} seeds paired)"


def _interval(metric, shown: float, spread: float, runs: int, paired: bool = False) -> str:
    """A cell's ± part: the relative 95% rerun interval over processes; for an accuracy, over seeds, in
    accuracy units (the interval is of the error rate) with how many seeds stand behind it."""
    if pd.isna(spread):
        return ""
    seeds = f" ({int(runs)} seeds)" if metric.replicates == "seeds" else ""
    if metric.accuracy:
        return f" ±{(1 - shown) * spread:.4f}{seeds}"
    if paired and too_few(runs):  # no width: one the rounds cannot back
        return f" ({int(runs)} round{'s' if runs != 1 else ''}: too few for an interval)"
    few = f" ({int(runs)} processes)" if not seeds and pd.notna(runs) and runs < MIN_ROUNDS else ""
    if not spread < 9.995:  # 2 or 3 processes: a t interval that says nothing but its width
        return f" ±>999%{seeds}{few}"
    return f" ±{spread:.1%}{seeds}{few}"


def too_few(rounds) -> bool:
    """Fewer paired rounds than a 95% interval needs (stats.MIN_ROUNDS): the cell says so, with no width."""
    return bool(pd.notna(rounds) and rounds < MIN_ROUNDS)


def table_frameworks(sel: pd.DataFrame) -> list[str]:
    """Rows of a comparison table: the built-in frameworks, then every other one these results hold
    (a plugin's rows appear where it ran, whether or not it is installed where the report runs)."""

    present = set(sel.framework.dropna())
    return list(BUILTINS) + sorted(present - set(BUILTINS), key=_framework_order)


def _framework_order(name: str):

    return (FRAMEWORKS.index(name) if name in FRAMEWORKS else len(FRAMEWORKS), name)


def header_line(frame: pd.DataFrame, machine: str, commit: str) -> str:
    sel = frame[(frame.machine == machine) & (frame.commit == commit)]
    versions = sel.dropna(subset=["framework_version"]).groupby("framework")["framework_version"].first()
    first = sel.iloc[0] if len(sel) else None
    parts = [f"machine {_code(machine)}", f"commit {_code(commit[:8])} ({sel.date.max():%Y-%m-%d})"]
    if first is not None and first.cpu_model:
        parts.append(f"CPU {md_text(first.cpu_model)}")
    if first is not None and pd.notna(first.threads):
        parts.append(f"{int(first.threads)} threads per framework")
    gpus = sel.dropna(subset=["gpu_name"]).gpu_name.unique()
    if len(gpus):
        parts.append(
            "GPU "
            + md_text(", ".join(gpus))
            + (f" (driver {md_text(first.gpu_driver)})" if first is not None and first.gpu_driver else "")
        )
    if len(versions):
        parts.append(md_text(", ".join(f"{fw} {v}" for fw, v in versions.items())))
    if first is not None and isinstance(first.fingerprint, str):
        parts.append(
            f"host fingerprint {_code(first.fingerprint)}"
            + (f" (numpy matmul {first.host_gflops:.0f} GFLOP/s)" if pd.notna(first.host_gflops) else "")
        )
    runs = sel[(sel.metric == "train_step") & (sel.status == "ok")].runs
    paired = sel[(sel.metric == "train_step") & (sel.status == "ok") & sel.paired.fillna(False).astype(bool)]
    if len(paired):
        alone = timed_alone(paired.version)
        rounds, ratios = (
            ("each staged and timed with no other alive, in random order",
             ": the mean over rounds of the two processes' log ratio, with its 95% interval")
            if alone
            else ("all alive together, samples alternating", " with their 95% interval from per-round pairs")
        )  # fmt: skip
        parts.append(
            f"throughput from {rounds_text(int(paired.paired_rounds.max()), paired.version)} (each round a "
            f"fresh process per framework, {rounds}; ± = 95% interval of the cell; ratios to "
            f"{md_text(paired.reference.iloc[0])}{ratios}" + _rerun_text(paired) + "; ‡ = processes bimodal)"
        )
    elif len(runs) and runs.max() > 1:
        parts.append(f"throughput from {int(runs.max())} processes each (± = 95% interval for a rerun)")
    seeds = sel[(sel.metric == "test_error") & (sel.status == "ok")].runs
    if len(seeds) and seeds.max() > 1:
        parts.append(f"accuracy: median of {int(seeds.max())} seeds each (± = 95% interval over seeds)")
    if first is not None and first.quick:
        parts.append("quick run (asv --quick for cold start and memory, 1-epoch accuracy)")
    if first is not None and pd.notna(first.dirty) and bool(first.dirty):
        parts.append(
            "recorded as dirty (uncommitted changes when measured; runs before the dirty check ignored "
            "results/ and Markdown counted the tool's own writes too)"
        )
    trained = sel[sel.metric.map(lambda m: m in METRICS and METRICS[m].accuracy) & (sel.status == "ok")]
    if len(trained) and isinstance(trained.data.iloc[0], str):
        parts.append(f"accuracy data: {md_text(scrub_paths(trained.data.iloc[0]))}")
    return FACT_SEP.join(parts)


def _code(text) -> str:
    """A Markdown code span of an outside value: one line, no backtick to end it early, no '<' (a stored
    name holding '<!-- results:end -->' or a tag would end the README's block or open HTML)."""
    return "`" + " ".join(str(text).split()).replace("`", "'").replace("<", "‹") + "`"


def render_markdown(table: pd.DataFrame, notes: list[str], header: str, device: str) -> str:
    lines = [f"**{md_text(device.upper())}** — {header}", "", md_table(table), ""]
    lines += [f"[{i}] {md_note(text)}" for i, text in enumerate(notes, 1)]
    return "\n".join(lines).rstrip() + "\n"


def _nothing_ran(table: pd.DataFrame) -> bool:
    """True when every cell of a comparison table is n/a."""
    return table.map(lambda c: isinstance(c, str) and c.startswith("n/a")).all().all()


def latest_tables(frame: pd.DataFrame, machine: str | None = None) -> dict[str, str]:
    """Markdown table per device for the commit each machine shows (latest_commits; default: every machine)."""
    out = {}
    for mach, commit in latest_commits(frame).items():
        if machine and mach != machine:
            continue
        for device in sorted(frame[(frame.machine == mach) & (frame.commit == commit)].device.dropna().unique()):
            table, notes = comparison_table(frame, mach, commit, device)
            if _nothing_ran(table):
                continue  # nothing ran on this device
            out[f"{mach}/{device}"] = render_markdown(table, notes, header_line(frame, mach, commit), device)
    return out


def _rerun_text(paired: pd.DataFrame) -> str:
    """How much the ratio intervals were widened for the spread between separate runs, when measured."""
    tau = paired.rerun_tau.dropna() if "rerun_tau" in paired else pd.Series(dtype=float)
    if not len(tau) or not tau.max() > 0:
        return ""
    return f", widened by this machine's run-to-run spread (log sd {tau.max():.1%}, measured from separate runs)"
