"""asv results -> one tidy pandas DataFrame -> published tables, plots and regression verdicts.

Every asv value is "lower is better" (seconds, bytes, error rate); this module owns the
directions people read: samples/s and accuracy go up, and the regression verdicts say so.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

RESULTS_DIR = Path("results/asv")
META_DIR = Path("results/meta")
REPORT_DIR = Path("results/report")


@dataclass(frozen=True)
class Metric:
    """How a benchmark's stored value reads to a person."""

    label: str
    unit: str  # unit of the stored asv value
    display: str  # "samples/s", "s", "MiB", "accuracy"


METRICS = {
    "train_step": Metric("train samples/s", "seconds", "samples/s"),
    "predict": Metric("predict samples/s", "seconds", "samples/s"),
    "minimal_train_step": Metric("minimal-loop train samples/s", "seconds", "samples/s"),
    "cold_start": Metric("cold start", "seconds", "s"),
    "train": Metric("host peak", "bytes", "MiB"),  # peakmem_train
    "device_peak_memory": Metric("device peak", "bytes", "MiB"),
    "test_error": Metric("test accuracy", "error rate", "accuracy"),
    "time_to_accuracy": Metric("time to 0.97", "seconds", "s"),
}
_PREFIX = re.compile(r"^(time|timeraw|peakmem|track|mem)_")


class ReportError(Exception):
    """No results, or a revision/machine that is not in them: exit status 2."""


def metric_of(benchmark: str) -> str:
    return _PREFIX.sub("", benchmark.rsplit(".", 1)[-1])


def _param(value: str):
    """asv stores params as repr strings: "'torch'" -> torch, "128" -> 128."""
    value = value.strip()
    if value[:1] in "'\"":
        return value[1:-1]
    try:
        return int(value)
    except ValueError:
        return value


def _read_meta(meta_dir: Path) -> dict[tuple[str, str], dict]:
    meta = {}
    for path in sorted(meta_dir.glob("*/*.json")):
        try:
            data = json.loads(path.read_text())
            meta[(data["machine"], data["commit"])] = data
        except (ValueError, KeyError) as exc:
            warnings.warn(f"skipping unreadable run metadata {path}: {exc}")
    return meta


def load_results(results_dir: Path | str = RESULTS_DIR, meta_dir: Path | str | None = None) -> pd.DataFrame:
    """One row per machine x commit x env x benchmark x parameter combination.

    A file asv cannot read is named in a warning and skipped. status is ok / skipped (NaN) / failed (null).
    """
    from asv.results import Results, iter_results_paths

    results_dir = Path(results_dir)
    meta = _read_meta(Path(meta_dir) if meta_dir else results_dir.parent / "meta")
    rows = []
    for root, filename, machine in iter_results_paths(str(results_dir)):
        path = Path(root) / filename
        try:
            res = Results.load(str(path), machine_name=machine)
            rows.extend(_rows(res, machine, meta.get((machine, res.commit_hash), {})))
        except Exception as exc:  # asv raises several kinds for malformed files
            warnings.warn(f"skipping unreadable asv results file {path}: {exc}")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    for col in ("batch_size", "epochs"):
        frame[col] = frame[col].astype("Int64")
    return frame


COLUMNS = [
    "machine", "commit", "date", "env", "benchmark", "metric", "framework", "device", "batch_size", "epochs",
    "value", "unit", "status", "ci_low", "ci_high", "q25", "q75", "repeat", "number",
    "framework_version", "threads", "cpu_model", "gpu_name", "gpu_driver", "quick", "skip_reason",
]


def _rows(res, machine: str, meta: dict):
    host = meta.get("host", {})
    for key in res.get_all_result_keys():
        params = res.get_result_params(key)
        values = res.get_result_value(key, params)
        stats = res.get_result_stats(key, params)
        names = ("framework", "device", "third")
        combos = pd.MultiIndex.from_product(params).tolist() if params else [()]
        if not params:
            values, stats = [values], [stats]
        metric = metric_of(key)
        for combo, value, stat in zip(combos, values, stats):
            p = dict(zip(names, (_param(v) for v in combo)))
            framework, device = p.get("framework"), p.get("device")
            third = p.get("third")
            fw_meta = meta.get("frameworks", {}).get(framework, {})
            stat = stat or {}
            status = "failed" if value is None else ("skipped" if _isnan(value) else "ok")
            yield {
                "machine": machine,
                "commit": res.commit_hash,
                "date": res.date,
                "env": res.env_name,
                "benchmark": key,
                "metric": metric,
                "framework": framework,
                "device": device,
                "batch_size": third if metric != "test_error" and metric != "time_to_accuracy" else None,
                "epochs": third if metric in ("test_error", "time_to_accuracy") else None,
                "value": float("nan") if value is None else float(value),
                "unit": METRICS[metric].unit if metric in METRICS else "",
                "status": status,
                "ci_low": stat.get("ci_99_a"),
                "ci_high": stat.get("ci_99_b"),
                "q25": stat.get("q_25"),
                "q75": stat.get("q_75"),
                "repeat": stat.get("repeat"),
                "number": stat.get("number"),
                "framework_version": fw_meta.get("version"),
                "threads": host.get("threads"),
                "cpu_model": host.get("cpu_model"),
                "gpu_name": fw_meta.get("gpu_name"),
                "gpu_driver": host.get("gpu_driver"),
                "quick": meta.get("quick"),
                "skip_reason": meta.get("skipped", {}).get(f"{framework}:{device}"),
            }


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


# ---------------------------------------------------------------- published table

def display_value(metric: str, value: float, batch_size) -> float:
    """Stored asv value -> the number people read (samples/s, s, MiB, accuracy)."""
    shown = METRICS[metric].display
    if shown == "samples/s":
        return batch_size / value
    if shown == "MiB":
        return value / 2**20
    if shown == "accuracy":
        return 1.0 - value
    return value


def latest_commits(frame: pd.DataFrame) -> dict[str, str]:
    """Newest commit (by commit date) on each machine."""
    newest = frame.sort_values("date").groupby("machine")["commit"].last()
    return newest.to_dict()


def _fmt(shown: str, value: float) -> str:
    if shown == "samples/s":
        return f"{value:,.0f}"
    if shown == "accuracy":
        return f"{value:.4f}"
    if shown == "MiB":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def column_name(metric: str, batch, epochs) -> str:
    """Published column header: label, batch size or epoch budget, unit."""
    m = METRICS[metric]
    if metric == "test_error":
        return f"test accuracy ({epochs} ep)"
    if metric == "time_to_accuracy":
        return f"time to 0.97 s ({epochs} ep)"
    name = m.label + (f" @{batch}" if pd.notna(batch) else "")
    return name + (f" {m.display}" if m.display in ("MiB", "s") else "")


def _na_reason(sel: pd.DataFrame, metric: str, fw: str, device: str, epochs) -> str:
    """Why a cell is n/a: failed, skipped (with the runner's reason), not reached, or not run."""
    row = sel[(sel.metric == metric) & (sel.framework == fw)]
    status = row.status.iloc[0] if len(row) else "missing"
    reason = row.skip_reason.iloc[0] if len(row) else None
    if status == "failed":
        return f"{fw}: benchmark failed (see the asv output)"
    if metric == "device_peak_memory" and device == "cpu":
        return "device memory is measured on GPU only"
    trained = sel[(sel.metric == "test_error") & (sel.status == "ok") & (sel.framework == fw)]
    if metric == "time_to_accuracy" and len(trained):
        return f"0.97 not reached within {epochs} epoch(s)"
    if metric == "test_error" and reason is None and status == "skipped":
        return "accuracy needs the real MNIST files (--data-dir)"
    return f"{fw} on {device}: {reason or 'not run on this machine and commit'}"


def comparison_table(frame: pd.DataFrame, machine: str, commit: str, device: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows: frameworks; columns: each metric (throughputs per batch size with the ratio to the
    fastest framework). Cells are strings; an n/a cell carries a footnote number with the reason."""
    from impls import FRAMEWORKS

    sel = frame[(frame.machine == machine) & (frame.commit == commit) & (frame.device == device)]
    notes: list[str] = []
    columns: dict[str, dict[str, str]] = {}
    keys = sel[["metric", "batch_size", "epochs"]].drop_duplicates()
    keys = keys[keys.metric.isin(list(METRICS))]
    keys = keys.assign(order=keys.metric.map(list(METRICS).index)).sort_values(["order", "batch_size"])
    for metric, batch, epochs in keys[["metric", "batch_size", "epochs"]].itertuples(index=False):
        group = sel[(sel.metric == metric) & (sel.batch_size.isna() if pd.isna(batch) else sel.batch_size == batch)]
        shown_as = METRICS[metric].display
        ok = group[group.status == "ok"]
        shown = {r.framework: display_value(metric, r.value, r.batch_size) for r in ok.itertuples()}
        best = max(shown.values()) if shown and shown_as == "samples/s" else None
        cells = {}
        for fw in FRAMEWORKS:
            if fw in shown:
                ratio = f" ({shown[fw] / best:.2f}x)" if best else ""
                cells[fw] = _fmt(shown_as, shown[fw]) + ratio
            else:
                text = _na_reason(sel, metric, fw, device, epochs)
                if text not in notes:
                    notes.append(text)
                cells[fw] = f"n/a [{notes.index(text) + 1}]"
        columns[column_name(metric, batch, epochs)] = cells
    table = pd.DataFrame(columns).reindex(list(FRAMEWORKS))
    table.index.name = "framework"
    return table, notes


def header_line(frame: pd.DataFrame, machine: str, commit: str) -> str:
    sel = frame[(frame.machine == machine) & (frame.commit == commit)]
    versions = sel.dropna(subset=["framework_version"]).groupby("framework")["framework_version"].first()
    first = sel.iloc[0] if len(sel) else None
    parts = [f"machine `{machine}`", f"commit `{commit[:8]}` ({sel.date.max():%Y-%m-%d})"]
    if first is not None and first.cpu_model:
        parts.append(f"CPU {first.cpu_model}")
    if first is not None and pd.notna(first.threads):
        parts.append(f"{int(first.threads)} threads per framework")
    gpus = sel.dropna(subset=["gpu_name"]).gpu_name.unique()
    if len(gpus):
        parts.append("GPU " + ", ".join(gpus) + (f" (driver {first.gpu_driver})" if first.gpu_driver else ""))
    if len(versions):
        parts.append(", ".join(f"{fw} {v}" for fw, v in versions.items()))
    if first is not None and first.quick:
        parts.append("quick run (1 sample per timing, 1-epoch accuracy)")
    return " · ".join(parts)


def render_markdown(table: pd.DataFrame, notes: list[str], header: str, device: str) -> str:
    lines = [f"**{device.upper()}** — {header}", "", table.to_markdown(), ""]
    lines += [f"[{i}] {text}" for i, text in enumerate(notes, 1)]
    return "\n".join(lines).rstrip() + "\n"


def latest_tables(frame: pd.DataFrame, machine: str | None = None) -> dict[str, str]:
    """Markdown table per device for the newest commit on `machine` (default: every machine)."""
    out = {}
    for mach, commit in latest_commits(frame).items():
        if machine and mach != machine:
            continue
        for device in sorted(frame[(frame.machine == mach) & (frame.commit == commit)].device.dropna().unique()):
            table, notes = comparison_table(frame, mach, commit, device)
            if table.map(lambda c: isinstance(c, str) and c.startswith("n/a")).all().all():
                continue  # nothing ran on this device
            out[f"{mach}/{device}"] = render_markdown(table, notes, header_line(frame, mach, commit), device)
    return out
