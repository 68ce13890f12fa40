"""What a reader sees first: one sentence per question (training and inference at batch 128: the
fastest framework and every ratio with its interval), and the README's block built on them (the answer,
a compact batch-128 table, a link to the page)."""

from __future__ import annotations

import pandas as pd

from bench.core.text import md_note, md_table, md_text
from bench.report.load import commit_rows, rounds_text, runs, shown_commits
from bench.report.settings import readme_line
from bench.report.tables import RATIO_SEP, WIDE, _code, comparison_table, ratio_text

ANSWERED = (("train_step", "Training"), ("predict", "Inference"))  # the questions answered first, at batch 128


def answer(frame: pd.DataFrame, machine: str, commit: str, device: str = "cpu") -> list[str]:
    """One sentence per question a reader brings (training and inference at batch 128): the fastest
    framework, then every other framework's throughput ratio to the reference with its 95% interval,
    fastest first; only where the rounds paired them. Markdown (outside names escaped)."""
    sel = commit_rows(frame, machine, commit, device)
    out = []
    for metric, what in ANSWERED:
        rows = sel[(sel.metric == metric) & (sel.batch_size == 128) & (sel.status == "ok")]
        rows = rows[rows.paired.fillna(False).astype(bool) & rows.speedup.notna()]
        if rows.empty:
            continue
        rows = rows.sort_values("speedup", ascending=False)
        reference, best = rows.reference.iloc[0], rows.iloc[0]
        others = [r for r in rows.itertuples() if r.framework != reference]
        ratios = ", ".join(f"{md_text(r.framework)} {ratio_text(r).removeprefix(RATIO_SEP)}" for r in others)
        lead = f"{md_text(best.framework)} fastest" + (
            "" if best.framework == reference else f" ({md_text(reference)} = 1.00x)"
        )
        rounds = int(rows.paired_rounds.max()) if pd.notna(rows.paired_rounds.max()) else 0
        out.append(
            f"{what} at batch 128 on {_code(machine)} at {_code(commit[:8])} ({device.upper()}, "
            f"{rounds_text(rounds, rows.version)}, "
            f"{method_text(rows.version)}): "
            f"{lead}; throughput against {md_text(reference)}: {ratios}."
        )
    return out


def method_text(versions: pd.Series) -> str:
    """'method v2': the benchmark version(s) behind an answer, so that answers of two methods never stand
    side by side unnamed ('v1+fixed-malloc': an engine with fixed malloc thresholds, bench.report.load.method)."""
    known = sorted({str(v) for v in versions.dropna()})
    return "method " + "/".join(f"v{v}" for v in known) if known else "method unknown"


def short_header(frame: pd.DataFrame, machine: str, commit: str) -> str:
    """The README's one-glance 'Measured on' line: machine, commit and date, CPU, threads, rounds and method
    (the framework versions, fingerprint and how each interval is made: the page's header_line)."""
    sel = frame[(frame.machine == machine) & (frame.commit == commit)]
    first = sel.iloc[0]
    train = sel[(sel.metric == "train_step") & (sel.status == "ok")]
    parts = [_code(machine), f"{_code(commit[:8])} ({sel.date.max():%Y-%m-%d})"]
    if first.cpu_model:
        parts.append(md_text(first.cpu_model))
    if pd.notna(first.threads):
        parts.append(f"{int(first.threads)} threads per framework")
    paired = train[train.paired.fillna(False).astype(bool)]
    if len(paired):
        parts.append(rounds_text(int(paired.paired_rounds.max()), paired.version))
    if len(train):
        parts.append(method_text(train.version) + " (each framework a plain process)")
    return " · ".join(parts)


COMPACT = ("train samples/s @128", "predict samples/s @128")  # the README's columns, from the comparison table


def compact_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table's batch-128 throughputs, each split into its cell (value ± interval) and its
    ratio to the reference with the ratio's interval: the README's table."""
    out = {}
    for column in COMPACT:
        if column not in table:
            continue
        parts = table[column].str.partition(RATIO_SEP)
        out[column] = parts[0]
        out[column.replace("samples/s", "ratio")] = parts[2]
    compact = pd.DataFrame(out, index=table.index)
    return compact[~compact.apply(lambda r: r.str.startswith("n/a").all(), axis=1)]


PAGE_LINK = "results/report/index.html"


def readme_table(frame: pd.DataFrame, settings: dict | None = None) -> str | None:
    """The README's results block: the answer sentences, then the compact table, for the machine with
    the newest complete CPU run (every built-in framework's train step; plugins' rows come along) at
    the run `latest_commits` shows there, and a link to the page for the rest. A run of fewer
    frameworks never replaces it, and a quick run never replaces a full one."""
    cpu_runs = runs(frame[frame.device == "cpu"])
    complete = cpu_runs.query("complete")
    if complete.empty:
        return None
    machine = complete.loc[complete.date.idxmax(), "machine"]
    commit = shown_commits(cpu_runs)[machine]
    table, notes = comparison_table(frame, machine, commit, "cpu")
    compact = compact_table(table)
    if compact.empty:
        return None
    lead = "".join(f"- {line}\n" for line in answer(frame, machine, commit, "cpu"))
    wide = [f"{md_note(n)}\n" for n in notes if n.startswith(WIDE)]
    found = (settings or {}).get(machine)
    return (
        (lead + "\n" if lead else "")
        + md_table(compact)
        + "\n\n"
        + "".join(wide)
        + ("\n" if wide else "")
        + (f"{readme_line(found)}\n\n" if found is not None else "")
        + f"Measured on: {short_header(frame, machine, commit)}.\n\n"
        + f"Every column, variant, plot and machine: [the results page]({PAGE_LINK}) (open it from a clone), "
        "or `results/report/latest.md`.\n"
    )
