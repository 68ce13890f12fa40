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
HIGHER_IS_BETTER = {"matmul_gflops"}  # the one stored value that is not "lower is better"
# the published comparison table, in column order; the rest have tables of their own
TABLE_METRICS = ["train_step", "predict", "minimal_train_step", "cold_start", "train", "device_peak_memory",
                 "test_error", "time_to_accuracy"]
BATCH_METRICS = {"train_step", "predict", "minimal_train_step"}
# The heavy-variants suite: third parameter -> samples/s at batch 128 (or GFLOP/s for the peak).
VARIANT_METRICS = {
    "variant_train_step": "implementation variant",
    "precision_train_step": "precision",
    "sequence_train_step": "sequence",
    "hidden_train_step": "hidden size",
}
# ... and its accuracy benchmarks: (framework, device, precision or sequence, epochs).
ACCURACY_VARIANTS = {"precision_test_error": "precision", "sequence_test_error": "sequence"}
EPOCH_METRICS = {"test_error", "time_to_accuracy"}  # epochs is their third parameter, else the fourth
METRICS.update({metric: Metric(f"train samples/s by {title}", "seconds", "samples/s")
                for metric, title in VARIANT_METRICS.items()})
METRICS.update({
    "matmul_gflops": Metric("matmul peak GFLOP/s", "GFLOP/s", "GFLOP/s"),
    "precision_test_error": Metric("test accuracy by precision", "error rate", "accuracy"),
    "precision_time_to_accuracy": Metric("time to 0.97 by precision", "seconds", "s"),
    "sequence_test_error": Metric("test accuracy by sequence", "error rate", "accuracy"),
})
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
        if path.name in ("fingerprint.json", "noise.json"):  # the machine's, not a run's
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            warnings.warn(f"skipping unreadable run metadata {path}: {exc}")
            continue
        if not (isinstance(data, dict) and isinstance(data.get("machine"), str) and isinstance(data.get("commit"), str)):
            warnings.warn(f"skipping run metadata {path}: not an object with 'machine' and 'commit'")
            continue
        meta[(data["machine"], data["commit"])] = data
    return meta


def load_results(results_dir: Path | str, meta_dir: Path | str | None = None) -> pd.DataFrame:
    """One row per machine x commit x env x benchmark x parameter combination.

    A file asv cannot read is named in a warning and skipped. status is ok / skipped (NaN) /
    failed (null) / invalid (a time, size or error rate below zero, or a time of zero).
    """
    from asv.results import Results, iter_results_paths

    results_dir = Path(results_dir)
    meta = _read_meta(Path(meta_dir) if meta_dir else results_dir.parent / "meta")
    described = _read_benchmarks(results_dir)
    rows = []
    for root, filename, machine in iter_results_paths(str(results_dir)):
        path = Path(root) / filename
        try:
            res = Results.load(str(path), machine_name=machine)
        except Exception as exc:  # asv raises several kinds for malformed files
            warnings.warn(f"skipping unreadable asv results file {path}: {exc}")
            continue
        rows.extend(_rows(res, machine, meta.get((machine, res.commit_hash), {}), described))  # a bug here is a bug
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    for col in ("batch_size", "epochs"):
        frame[col] = frame[col].astype("Int64")
    return frame


COLUMNS = [
    "machine", "commit", "date", "env", "benchmark", "metric", "framework", "device", "batch_size", "epochs",
    "param", "value", "unit", "status", "ci_low", "ci_high", "q25", "q75", "runs", "spread", "log_mean", "log_sd", "repeat", "number",
    "framework_version", "threads", "cpu_model", "gpu_name", "gpu_driver", "quick", "fingerprint", "host_gflops",
    "skip_reason", "data", "dirty",
]


def _read_benchmarks(results_dir: Path) -> dict:
    """asv's own description of each benchmark (benchmarks.json beside the results): parameter names
    and unit. {} when absent (results copied without it): then names are read by position."""
    try:
        data = json.loads((results_dir / "benchmarks.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


POSITIONAL = ("framework", "device", "third", "fourth")  # results without a benchmarks.json


def _rows(res, machine: str, meta: dict, described: dict | None = None):
    host = meta.get("host", {})
    for key in res.get_all_result_keys():
        params = res.get_result_params(key)
        values = res.get_result_value(key, params)
        stats = res.get_result_stats(key, params)
        samples = res.get_result_samples(key, params)
        info = (described or {}).get(key, {})
        names = info.get("param_names") if len(info.get("param_names") or ()) == len(params) else None
        combos = pd.MultiIndex.from_product(params).tolist() if params else [()]
        if not params:
            values, stats, samples = [values], [stats], [samples]
        metric = metric_of(key)
        unit = info.get("unit") or (METRICS[metric].unit if metric in METRICS else "")
        for combo, value, stat, sample in zip(combos, values, stats, samples):
            p = dict(zip(names or POSITIONAL, (_param(v) for v in combo)))
            framework, device = p.get("framework"), p.get("device")
            third = next(iter(list(p.values())[2:]), None)  # the first parameter after framework and device
            if names:
                batch, epochs = p.get("batch_size"), p.get("epochs")
            else:
                batch = third if metric in BATCH_METRICS else None
                epochs = third if metric in EPOCH_METRICS else p.get("fourth")
            fw_meta = meta.get("frameworks", {}).get(framework, {})
            stat = stat or {}
            status = "failed" if value is None else ("skipped" if _isnan(value) else _valid(unit, value))
            yield {
                "machine": machine,
                "commit": res.commit_hash,
                "date": res.date,
                "env": res.env_name,
                "benchmark": key,
                "metric": metric,
                "framework": framework,
                "device": device,
                "batch_size": batch,
                "epochs": epochs,
                "param": None if third is None else str(third),
                "value": float("nan") if value is None else float(value),
                "unit": unit,
                "status": status,
                "ci_low": stat.get("ci_99_a"),
                "ci_high": stat.get("ci_99_b"),
                "q25": stat.get("q_25"),
                "q75": stat.get("q_75"),
                "runs": len(sample) if sample else (1 if status == "ok" else 0),
                "spread": _spread(sample),
                "log_mean": _log_stat(sample, "mean"),
                "log_sd": _log_stat(sample, "sd"),
                "repeat": stat.get("repeat"),
                "number": stat.get("number"),
                "framework_version": fw_meta.get("version"),
                "threads": host.get("threads"),
                "cpu_model": host.get("cpu_model"),
                "gpu_name": fw_meta.get("gpu_name"),
                "gpu_driver": host.get("gpu_driver"),
                "quick": _run_of(meta, key).get("quick", meta.get("quick")),
                "fingerprint": (meta.get("fingerprint") or {}).get("id"),
                "host_gflops": (meta.get("fingerprint") or {}).get("matmul_gflops"),
                "skip_reason": meta.get("skipped", {}).get(f"{framework}:{device}"),
                "data": meta.get("data"),
                "dirty": meta.get("dirty"),
            }


def _run_of(meta: dict, benchmark: str) -> dict:
    """The run that measured a stored benchmark (bench.history), {} for results from before it was kept."""
    runs = meta.get("benchmarks")
    run = runs.get(benchmark) if isinstance(runs, dict) else None
    return run if isinstance(run, dict) else {}


def _valid(unit: str, value: float) -> str:
    """ok, or invalid for a value no measurement gives: a time of zero or below, a negative size
    or error rate, or an infinity (a division by it would print inf)."""
    if not math.isfinite(value) or value < 0 or (unit == "seconds" and value == 0):
        return "invalid"
    return "ok"


def _spread(samples) -> float:
    """Relative half-width of the 95% interval a rerun would fall in (bench.stats.rerun_interval):
    asv samples here are one value per process (replicated throughput; cold start's fresh
    interpreters). NaN with fewer than two."""
    from .stats import rerun_interval

    if not samples or len(samples) < 2:
        return float("nan")
    _, low, high = rerun_interval(samples)
    return math.expm1((math.log(high) - math.log(low)) / 2) if low > 0 else float("nan")


def _log_stat(samples, which: str) -> float:
    """Mean or sd of the log per-process values (for unpaired intervals between two runs)."""
    good = [math.log(v) for v in samples or [] if v is not None and v > 0 and math.isfinite(v)]
    if len(good) < 2:
        return float("nan")
    mean = sum(good) / len(good)
    if which == "mean":
        return mean
    return math.sqrt(sum((g - mean) ** 2 for g in good) / (len(good) - 1))


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


def _na_reason(sel: pd.DataFrame, cell: pd.DataFrame, metric: str, fw: str, device: str, epochs) -> str:
    """Why a cell is n/a: failed, skipped (with the runner's reason), not reached, or not run.
    `cell` holds this column's rows (one batch size), `sel` the whole commit and device."""
    row = cell[cell.framework == fw]
    status = row.status.iloc[0] if len(row) else "missing"
    reason = row.skip_reason.iloc[0] if len(row) else _skip_reason(sel, fw)
    reason = reason if isinstance(reason, str) else None  # NaN when the run did not record one
    if status == "invalid":
        return f"{fw}: stored value {row.value.iloc[0]!r} is not a valid measurement (see the results file)"
    if status == "failed":
        where = f" at batch {row.batch_size.iloc[0]}" if pd.notna(row.batch_size.iloc[0]) else ""
        return f"{fw}: benchmark failed{where} (its error is in the asv output of that run)"
    if metric == "device_peak_memory" and device == "cpu":
        return "device memory is measured on GPU only"
    trained = sel[(sel.metric == "test_error") & (sel.status == "ok") & (sel.framework == fw)]
    if metric == "time_to_accuracy" and len(trained):
        return f"0.97 not reached within {epochs} epoch(s)"
    if metric == "test_error" and reason is None and status == "skipped":
        return "accuracy needs the real MNIST files (--data-dir)"
    return f"{fw} on {device}: {reason or 'not run on this machine and commit'}"


def _skip_reason(sel: pd.DataFrame, fw: str):
    """The runner's skip reason for a framework with no row in a column."""
    reasons = sel[sel.framework == fw].skip_reason.dropna()
    return reasons.iloc[0] if len(reasons) else None


def commit_rows(frame: pd.DataFrame, machine: str, commit: str, device: str | None = None) -> pd.DataFrame:
    """One commit's rows on one machine (and device), one per benchmark and parameters: a commit
    with several asv environment files keeps each cell's newest ok value (_merge_env)."""
    sel = frame[(frame.machine == machine) & (frame.commit == commit)]
    if device is not None:
        sel = sel[sel.device == device]
    return _merge_env(sel)


def _peak_share(sel: pd.DataFrame) -> dict[str, str]:
    """Train-step matmul GFLOP/s at batch 128 as a share of the run's own host calibration (numpy's
    float32 matmul, bench.fingerprint): comparable across hosts, unlike samples/s."""
    from impls import LSTMConfig

    from .harness import train_step_flops

    ok = sel[(sel.status == "ok") & (sel.metric == "train_step") & (sel.batch_size == 128)]
    out = {}
    for r in ok.itertuples():
        if pd.notna(r.host_gflops) and r.host_gflops and r.device == "cpu":
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
    notes: list[str] = []
    columns: dict[str, dict[str, str]] = {}
    keys = sel[["metric", "batch_size", "epochs"]].drop_duplicates()
    keys = keys[keys.metric.isin(TABLE_METRICS)]
    keys = keys.assign(order=keys.metric.map(TABLE_METRICS.index)).sort_values(["order", "batch_size"])
    for metric, batch, epochs in keys[["metric", "batch_size", "epochs"]].itertuples(index=False):
        group = sel[(sel.metric == metric) & (sel.batch_size.isna() if pd.isna(batch) else sel.batch_size == batch)]
        shown_as = METRICS[metric].display
        ok = group[group.status == "ok"]
        shown = {r.framework: display_value(metric, r.value, r.batch_size) for r in ok.itertuples()}
        spread = {r.framework: r.spread for r in ok.itertuples()}
        best = max(shown.values()) if shown and shown_as == "samples/s" else None
        cells = {}
        for fw in rows:
            if fw in shown:
                ratio = f" ({shown[fw] / best:.2f}x)" if best else ""
                interval = f" ±{spread[fw]:.1%}" if pd.notna(spread[fw]) else ""
                cells[fw] = _fmt(shown_as, shown[fw]) + interval + ratio
            else:
                text = _na_reason(sel, group, metric, fw, device, epochs)
                if text not in notes:
                    notes.append(text)
                cells[fw] = f"n/a [{notes.index(text) + 1}]"
        columns[column_name(metric, batch, epochs)] = cells
    overhead = _harness_ratio(sel)
    if overhead:
        columns["harness / minimal loop @128"] = overhead
    share = _peak_share(sel)
    if share:
        columns["train @128: % of host matmul peak"] = share
    table = pd.DataFrame(columns).reindex(rows).fillna("n/a")  # ratio columns: no value where a side is missing
    table.index.name = "framework"
    return table, notes


def table_frameworks(sel: pd.DataFrame) -> list[str]:
    """Rows of a comparison table: the built-in frameworks, then every other one these results hold
    (a plugin's rows appear where it ran, whether or not it is installed where the report runs)."""
    from impls.registry import BUILTINS

    present = set(sel.framework.dropna())
    return list(BUILTINS) + sorted(present - set(BUILTINS), key=_framework_order)


def _framework_order(name: str):
    from impls import FRAMEWORKS

    return (FRAMEWORKS.index(name) if name in FRAMEWORKS else len(FRAMEWORKS), name)


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
    if first is not None and isinstance(first.fingerprint, str):
        parts.append(f"host fingerprint `{first.fingerprint}`"
                     + (f" (numpy matmul {first.host_gflops:.0f} GFLOP/s)" if pd.notna(first.host_gflops) else ""))
    runs = sel[(sel.metric == "train_step") & (sel.status == "ok")].runs
    if len(runs) and runs.max() > 1:
        parts.append(f"throughput from {int(runs.max())} processes each (± = 95% interval for a rerun)")
    if first is not None and first.quick:
        parts.append("quick run (asv --quick for cold start and memory, 1-epoch accuracy)")
    if first is not None and pd.notna(first.dirty) and bool(first.dirty):
        parts.append("recorded as dirty (uncommitted changes when measured; runs before the dirty check ignored "
                     "results/ and Markdown counted the tool's own writes too)")
    trained = sel[sel.metric.isin(ACCURACY_METRICS) & (sel.status == "ok")]
    if len(trained) and isinstance(trained.data.iloc[0], str):
        parts.append(f"accuracy data: {trained.data.iloc[0]}")
    return " · ".join(parts)


def render_markdown(table: pd.DataFrame, notes: list[str], header: str, device: str) -> str:
    lines = [f"**{device.upper()}** — {header}", "", table.to_markdown(disable_numparse=True), ""]
    lines += [f"[{i}] {text}" for i, text in enumerate(notes, 1)]
    return "\n".join(lines).rstrip() + "\n"


def _nothing_ran(table: pd.DataFrame) -> bool:
    """True when every cell of a comparison table is n/a."""
    return table.map(lambda c: isinstance(c, str) and c.startswith("n/a")).all().all()


def latest_tables(frame: pd.DataFrame, machine: str | None = None) -> dict[str, str]:
    """Markdown table per device for the newest commit on `machine` (default: every machine)."""
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


# ---------------------------------------------------------------- regression report

VERDICT_ORDER = ["regression", "failed", "improvement", "inconclusive", "new", "gone", "unchanged"]


def resolve_commit(frame: pd.DataFrame, rev: str, machine: str | None, root: Path | None = None) -> str:
    """A revision (hash prefix, branch, tag, HEAD~1) -> a commit hash with results on `machine`."""
    pool = frame if machine is None else frame[frame.machine == machine]
    known = set(pool.commit)
    matches = {c for c in known if c.startswith(rev.lower())} if re.fullmatch(r"[0-9a-fA-F]{4,40}", rev) else set()
    if len(matches) == 1:
        return matches.pop()
    if len(matches) > 1:
        raise ReportError(f"revision {rev!r} is ambiguous: {sorted(c[:12] for c in matches)}")
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                          cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ReportError(f"unknown revision {rev!r}: not a commit here and not in the results")
    commit = proc.stdout.strip()
    if commit not in known:
        where = f" on machine {machine!r}" if machine else ""
        raise ReportError(f"no results for {rev} ({commit[:8]}){where}; run `seqmnist-bench run` at that commit")
    return commit


def pick_revisions(frame: pd.DataFrame, base: str | None, head: str | None, machine: str | None,
                   root: Path | None = None) -> tuple[str, str, str]:
    """(machine, base, head): head defaults to the newest commit, base to the one before it on
    the same machine. Never across machines."""
    if frame.empty:
        raise ReportError("no asv results found: run `seqmnist-bench run` first")
    if machine is None:
        machines = sorted(frame.machine.unique())
        if head is not None:
            head_hash = resolve_commit(frame, head, None, root)
            machines = sorted(frame[frame.commit == head_hash].machine.unique())
        if len(machines) > 1:
            raise ReportError(f"results from several machines {machines}: choose one with --machine")
        machine = machines[0]
    elif machine not in set(frame.machine):
        raise ReportError(f"no results for machine {machine!r}; have {sorted(frame.machine.unique())}")
    mine = frame[frame.machine == machine]
    order = mine.groupby("commit")["date"].max().sort_values()
    head_hash = resolve_commit(mine, head, machine, root) if head else order.index[-1]
    if base:
        base_hash = resolve_commit(mine, base, machine, root)
    else:
        earlier = order[order.index != head_hash]
        earlier = earlier[earlier <= order[head_hash]]
        if earlier.empty:
            raise ReportError(f"no earlier commit than {head_hash[:8]} with results on {machine!r}: give --base")
        base_hash = earlier.index[-1]
    return machine, base_hash, head_hash


def _merge_env(group: pd.DataFrame) -> pd.DataFrame:
    """One row per benchmark x params: if a commit has several env files, keep the newest ok value."""
    group = group.assign(_ok=group.status == "ok").sort_values(["_ok", "date"])
    return group.drop_duplicates(["benchmark", "framework", "device", "batch_size", "epochs", "param"], keep="last")


def compare(frame: pd.DataFrame, machine: str, base: str, head: str, threshold: float = 0.10,
            bench: str | None = None, frameworks=None, devices=None) -> pd.DataFrame:
    """Verdict per benchmark x params present at base or head on one machine.

    regression / improvement: head/base passes the threshold in the bad / good direction (asv
    values are lower-is-better, bar the matmul peak's GFLOP/s) AND the recorded 99% confidence intervals do not overlap
    (where asv stored them). Otherwise unchanged. new / gone / failed from the statuses.
    """
    keys = ["benchmark", "metric", "framework", "device", "batch_size", "epochs", "param"]
    mine = frame[frame.machine == machine]
    if bench:  # only what was asked for (asv's --bench regex, matched on the benchmark name)
        mine = mine[mine.benchmark.str.contains(bench, regex=True)]
    if frameworks:
        mine = mine[mine.framework.isin(frameworks)]
    if devices:
        mine = mine[mine.device.isin(devices)]
    b = _merge_env(mine[mine.commit == base]).set_index(keys)
    h = _merge_env(mine[mine.commit == head]).set_index(keys)
    joined = b.add_suffix("_base").join(h.add_suffix("_head"), how="outer")
    rows = []
    for key, r in joined.iterrows():
        sb, sh = r.get("status_base"), r.get("status_head")
        sb = sb if isinstance(sb, str) else "missing"
        sh = sh if isinstance(sh, str) else "missing"
        vb, vh = r.value_base, r.value_head
        ratio = vh / vb if sb == "ok" and sh == "ok" and vb else float("nan")
        verdict = None
        if sh in ("failed", "invalid"):
            verdict = "failed"
        elif sb != "ok" and sh == "ok":
            verdict = "new"
        elif sb == "ok" and sh != "ok":
            verdict = "gone"
        elif sb != "ok" and sh != "ok":
            continue  # skipped or absent on both sides: nothing to say
        interval = None
        if verdict == "failed":
            pass
        elif sb == "ok" and sh == "ok" and _replicated(r):
            interval = _welch_ratio(r)  # several processes each side: an interval of the ratio
            worse = [v if key[1] not in HIGHER_IS_BETTER else 1 / v for v in interval]
            lo, hi = min(worse), max(worse)
            verdict = ("regression" if lo > 1 + threshold else "improvement" if hi < 1 / (1 + threshold)
                       else "unchanged" if 1 / (1 + threshold) < lo and hi < 1 + threshold else "inconclusive")
        elif sb == "ok" and sh == "ok":
            noisy = _overlap(r.ci_low_base, r.ci_high_base, r.ci_low_head, r.ci_high_head)
            worse = ratio if key[1] not in HIGHER_IS_BETTER else 1 / ratio if ratio else float("inf")
            if worse > 1 + threshold and not noisy:
                verdict = "regression"
            elif worse < 1 - threshold and not noisy:
                verdict = "improvement"
            else:
                verdict = "unchanged"
        rows.append({**dict(zip(keys, key)), "base": vb, "head": vh, "ratio": ratio, "verdict": verdict,
                     "change": _change_text(key[1], vb, vh, sb, sh) + _basis(key[1], r, interval)})
    out = pd.DataFrame(rows, columns=keys + ["base", "head", "ratio", "verdict", "change"])
    out["rank"] = out.verdict.map(VERDICT_ORDER.index)
    return out.sort_values(["rank", "benchmark", "framework", "device", "batch_size"]).drop(columns="rank")


def _replicated(r) -> bool:
    return all(pd.notna(r.get(f"log_sd_{side}")) and (r.get(f"runs_{side}") or 0) >= 2 for side in ("base", "head"))


def _welch_ratio(r, confidence: float = 0.95) -> tuple[float, float]:
    """95% interval of head/base from each side's per-process values (Welch's t on the logs)."""
    from scipy.stats import t

    vb, vh = r.log_sd_base ** 2 / r.runs_base, r.log_sd_head ** 2 / r.runs_head
    se = math.sqrt(vb + vh)
    if se == 0:
        d = math.exp(r.log_mean_head - r.log_mean_base)
        return d, d
    df = (vb + vh) ** 2 / (vb ** 2 / (r.runs_base - 1) + vh ** 2 / (r.runs_head - 1))
    half = float(t.ppf(1 - (1 - confidence) / 2, df)) * se
    diff = r.log_mean_head - r.log_mean_base
    return math.exp(diff - half), math.exp(diff + half)


def _basis(metric: str, r, interval) -> str:
    """What stands behind a change: an interval over processes, one process each, or one seed."""
    if r.get("status_base") != "ok" or r.get("status_head") != "ok":
        return ""
    if metric in ACCURACY_METRICS:
        return " (1 seed each: seed-to-seed spread not measured by this report)"
    if interval is not None:
        lo, hi = interval
        if METRICS.get(metric) and METRICS[metric].display == "samples/s":
            lo, hi = 1 / hi, 1 / lo
            return (f" (95% CI {lo - 1:+.1%} … {hi - 1:+.1%}, {int(r.runs_base)} vs {int(r.runs_head)} "
                    "processes, separate runs)")
        return f" (95% CI {lo - 1:+.1%} … {hi - 1:+.1%}, {int(r.runs_base)} vs {int(r.runs_head)} processes, separate runs)"
    return " (one process each: asv's in-process interval only)"


ACCURACY_METRICS = {"test_error", "precision_test_error", "sequence_test_error"}


def _overlap(lo_a, hi_a, lo_b, hi_b) -> bool:
    """True when both confidence intervals are known and overlap: the change is within noise.
    A single sample (quick mode) has no interval: asv stores (-inf, inf), read here as unknown."""
    values = (lo_a, hi_a, lo_b, hi_b)
    if any(v is None or pd.isna(v) or math.isinf(v) for v in values):
        return False
    return not (hi_a < lo_b or hi_b < lo_a)


def _change_text(metric: str, base: float, head: float, sb: str, sh: str) -> str:
    """The change as a person reads it: samples/s and accuracy up is good, the rest down."""
    if sb != "ok" or sh != "ok" or metric not in METRICS or not base or not head:
        return ""
    shown = METRICS[metric].display
    if shown == "samples/s":
        return f"{base / head - 1:+.1%} samples/s"
    if shown == "accuracy":
        return f"{(base - head) * 100:+.2f} accuracy points"
    return f"{head / base - 1:+.1%} {METRICS[metric].label}"


def render_regressions(result: pd.DataFrame, machine: str, base: str, head: str, threshold: float) -> str:
    counts = result.verdict.value_counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_ORDER if counts.get(v, 0))
    lines = [
        f"# Regression report: `{head[:8]}` vs `{base[:8]}` on `{machine}`",
        "",
        f"Two separate `run`s compared, not paired rounds: on a shared box separate runs drift by 10-30%, "
        "so for a verdict CI can act on use `seqmnist-bench compare BASE HEAD`. Where each side has several "
        f"processes (replicated throughput), regression / improvement means the 95% interval of the ratio "
        f"lies wholly beyond {threshold:.0%}; elsewhere (one process each) the change must exceed "
        f"{threshold:.0%} and asv's in-process 99% intervals must not overlap. Stored values are asv's "
        "(seconds, bytes, error rate: lower is better); `ratio` is head/base of those, `change` reads them "
        "the way people do and says what stands behind it.",
        "",
        f"**{summary or 'no comparable results'}**",
        "",
    ]
    if not result.empty:
        shown = result.assign(
            params=result.apply(_params_text, axis=1), base=result["base"].map(_num), head=result["head"].map(_num),
            ratio=result.ratio.map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        )[["verdict", "benchmark", "params", "base", "head", "ratio", "change"]]
        lines.append(shown.to_markdown(index=False, disable_numparse=True))
    return "\n".join(lines) + "\n"


def _num(v) -> str:
    return "" if v is None or pd.isna(v) else f"{v:.4g}"


def _params_text(row) -> str:
    parts = [row.framework, row.device]
    if pd.notna(row.batch_size):
        parts.append(f"batch {row.batch_size}")
    elif isinstance(row.param, str) and row.param != str(row.epochs):
        parts.append(row.param)  # variant, precision, sequence or hidden size
    if pd.notna(row.epochs):
        parts.append(f"{row.epochs} ep")
    return ", ".join(str(p) for p in parts if p is not None)


# ---------------------------------------------------------------- files: tables, plots, README

README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def export_tidy(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "results.csv"]
    frame.to_csv(written[0], index=False)
    try:
        import pyarrow  # noqa: F401

        frame.to_parquet(out_dir / "results.parquet", index=False)
        written.append(out_dir / "results.parquet")
    except ImportError:
        pass
    return written


def write_latest(frame: pd.DataFrame, out_dir: Path) -> tuple[list[Path], str | None]:
    """latest.md / .csv / .html: newest commit per machine, one table per device.
    Returns the files and the CPU markdown for the README (readme_table)."""
    sections, csv_parts, html_parts = [], [], []
    commits = latest_commits(frame)
    for machine, commit in sorted(commits.items()):
        header = header_line(frame, machine, commit)
        for device in ("cpu", "gpu"):
            table, notes = comparison_table(frame, machine, commit, device)
            variants = variants_tables(frame, machine, commit, device)
            if _nothing_ran(table):
                if variants:
                    sections.append("\n".join([f"**{device.upper()}** — {header}\n", *variants]))
                continue
            md = render_markdown(table, notes, header, device)
            sections.append("\n".join([md, *variants]))
            csv_parts.append(table.reset_index().assign(machine=machine, commit=commit, device=device))
            html_parts.append(f"<h2>{machine} / {device}</h2><p>{header}</p>" + table.to_html()
                              + "".join(f"<p>[{i}] {n}</p>" for i, n in enumerate(notes, 1)))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "latest.md", out_dir / "latest.csv", out_dir / "latest.html"]
    paths[0].write_text("# Latest results\n\n" + "\n".join(sections))
    (pd.concat(csv_parts) if csv_parts else pd.DataFrame()).to_csv(paths[1], index=False)
    paths[2].write_text("<html><body><h1>seqmnist-bench: latest results</h1>" + "".join(html_parts) + "</body></html>")
    return paths, readme_table(frame)


def readme_table(frame: pd.DataFrame) -> str | None:
    """CPU table for the README: a complete run (every built-in framework; plugins' rows come along)
    on the machine with the newest complete run; there, the newest full run, or the newest quick one
    while it has no full run. A run of fewer frameworks never replaces the table, and a quick run
    never replaces a full one."""
    from impls.registry import BUILTINS

    runs = []
    for (machine, commit), sel in frame[frame.device == "cpu"].groupby(["machine", "commit"]):
        ran = sel[(sel.status != "skipped") | sel.skip_reason.notna()]  # a skipped cell without a reason: not selected
        if set(BUILTINS) <= set(ran.framework.dropna()):
            quick = bool(sel.quick.map(lambda q: q is True or q == "true").any())
            runs.append((sel.date.max(), machine, commit, quick))
    if not runs:
        return None
    newest_machine = max(runs)[1]
    mine = [r for r in runs if r[1] == newest_machine]
    full = [r for r in mine if not r[3]]
    _, machine, commit, _ = max(full or mine)
    table, notes = comparison_table(frame, machine, commit, "cpu")
    return None if _nothing_ran(table) else render_markdown(table, notes, header_line(frame, machine, commit), "cpu")


def update_readme(readme: Path, table_md: str) -> bool:
    """Replace the text between the results markers; False when the markers are absent."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return False
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    readme.write_text(f"{before}{README_START}\n{table_md}{README_END}{after}")
    return True


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, dpi: int) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    _pyplot().close(fig)
    return path


def plot_throughput(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Samples/s against batch size, one line per framework, train and predict side by side."""
    plt = _pyplot()
    written = []
    for machine, commit in latest_commits(frame).items():
        sel = frame[(frame.machine == machine) & (frame.commit == commit) & (frame.status == "ok")]
        for device in sorted(sel.device.dropna().unique()):
            dev = sel[(sel.device == device) & sel.metric.isin(["train_step", "predict"])]
            if dev.empty:
                continue
            fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
            for ax, metric in zip(axes, ["train_step", "predict"]):
                for fw, g in dev[dev.metric == metric].groupby("framework"):
                    g = g.sort_values("batch_size")
                    ax.plot(g.batch_size.astype(float), g.batch_size.astype(float) / g.value, marker="o", label=fw)
                ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel="samples/s",
                       title=f"{METRICS[metric].label} ({device})")
                ax.grid(True, which="both", alpha=0.3)
                ax.legend()
            fig.suptitle(f"{machine} @ {commit[:8]}: higher is better")
            written.append(_save(fig, out_dir / f"throughput_{machine}_{device}.png", 110))
    return written


HISTORY_METRICS = [("train_step", 128), ("predict", 128), ("cold_start", None), ("train", None), ("test_error", None)]


def plot_history(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Each key benchmark over commits (oldest to newest), one line per framework."""
    plt = _pyplot()
    written = []
    ok = frame[frame.status == "ok"]
    for (machine, device), sel in ok.groupby(["machine", "device"]):
        order = sel.groupby("commit").date.max().sort_values()
        fig, axes = plt.subplots(1, len(HISTORY_METRICS), figsize=(4 * len(HISTORY_METRICS), 3.6))
        for ax, (metric, batch) in zip(axes, HISTORY_METRICS):
            part = sel[sel.metric == metric]
            if batch is not None:
                part = part[part.batch_size == batch]
            for fw, g in part.groupby("framework"):
                g = g.assign(pos=g.commit.map({c: i for i, c in enumerate(order.index)})).sort_values("pos")
                shown = [display_value(metric, v, b) for v, b in zip(g.value, g.batch_size)]
                ax.plot(g.pos, shown, marker="o", label=fw)
            label = METRICS[metric].label + (f" @{batch}" if batch else "")
            ax.set(title=f"{label} ({METRICS[metric].display})", xlabel="commit")
            ax.set_xticks(range(len(order)), [c[:7] for c in order.index], rotation=45, fontsize=7)
            ax.grid(True, alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=7)
        fig.suptitle(f"{machine} / {device}: history (up is better for samples/s and accuracy)")
        written.append(_save(fig, out_dir / f"history_{machine}_{device}.png", 100))
    return written


def hidden_flops(hidden: int) -> float:
    """Matmul FLOPs of one batch-128 train step of the row model with `hidden` units."""
    from impls import LSTMConfig

    from .harness import train_step_flops

    return train_step_flops(LSTMConfig(n_hidden=hidden))


def _param_order(metric: str, columns) -> list:
    """Columns in their natural order: hidden sizes numerically, the default variant, precision and
    sequence first."""
    from impls import PRECISIONS, SEQUENCES, VARIANTS

    if metric == "hidden_train_step":
        return sorted(columns, key=int)
    variants = list(dict.fromkeys(v for names in VARIANTS.values() for v in names))  # fused first
    order = {"variant": variants, "precision": PRECISIONS, "sequence": SEQUENCES}.get(metric.split("_")[0], ())
    return [c for c in order if c in columns] + [c for c in columns if c not in order]


def variants_tables(frame: pd.DataFrame, machine: str, commit: str, device: str) -> list[str]:
    """Markdown for the heavy-variants suite: train samples/s at batch 128 per variant, precision,
    sequence and hidden size; for hidden sizes also achieved GFLOP/s and its share of the
    framework's matmul peak; test accuracy per precision and per long sequence."""
    sel = commit_rows(frame, machine, commit, device)
    sel = sel[sel.status == "ok"]
    out = []
    for metric, title in VARIANT_METRICS.items():
        part = sel[sel.metric == metric]
        if part.empty:
            continue
        table = part.assign(shown=128 / part.value).pivot_table(
            index="framework", columns="param", values="shown", aggfunc="last")
        table = table[_param_order(metric, table.columns)]
        cells = table.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        out.append(f"**{device.upper()} — train samples/s at batch 128 by {title}**\n\n"
                   + cells.to_markdown(disable_numparse=True) + "\n" + _missing_note(metric, table.columns, device)
                   + "\nOne asv process per cell, no interval: compare cells within this table (measured in one "
                   "run), not with the main table.\n")
        if metric == "hidden_train_step":
            out.append(_gflops_table(sel, part, device))
    out.extend(_accuracy_variant_table(sel, metric, title, device) for metric, title in ACCURACY_VARIANTS.items()
               if not sel[sel.metric == metric].empty)
    return out


def _missing_note(metric: str, columns, device: str) -> str:
    """Say why a precision column is absent rather than leaving it out silently."""
    from impls.base import TF32_GPU

    if metric.startswith("precision") and "tf32" not in columns and device == "cpu":
        return f"\ntf32 is not shown: {TF32_GPU}, n/a on CPU.\n"
    return ""


def _gflops_table(sel: pd.DataFrame, part: pd.DataFrame, device: str) -> str:
    peak = sel[sel.metric == "matmul_gflops"].set_index("framework").value
    gflops = part.assign(g=[hidden_flops(int(h)) / v / 1e9 for h, v in zip(part.param, part.value)])
    pivot = gflops.pivot_table(index="framework", columns="param", values="g", aggfunc="last")
    pivot = pivot[sorted(pivot.columns, key=int)]
    text = pd.DataFrame(
        {col: {fw: "" if pd.isna(v) else f"{v:.1f}" + (f" ({v / peak[fw]:.0%})" if fw in peak else "")
               for fw, v in pivot[col].items()} for col in pivot.columns})
    text.index.name = "framework"
    return (f"**{device.upper()} — achieved matmul GFLOP/s by hidden size (share of the framework's "
            "2048x2048 float32 matmul peak)**\n\n" + text.to_markdown(disable_numparse=True) + "\n")


def _accuracy_variant_table(sel: pd.DataFrame, metric: str, title: str, device: str) -> str:
    """Test accuracy per precision or sequence (with time to 0.97 where it was reached)."""
    part = sel[sel.metric == metric]
    reached = sel[sel.metric == metric.replace("test_error", "time_to_accuracy")]
    seconds = {(r.framework, r.param): r.value for r in reached.itertuples()}
    table = part.assign(shown=1 - part.value).pivot_table(index="framework", columns="param", values="shown",
                                                          aggfunc="last")
    table = table[_param_order(metric, table.columns)]
    text = pd.DataFrame({col: {fw: "" if pd.isna(v) else f"{v:.4f}" + (
        f" ({seconds[fw, col]:.1f} s to 0.97)" if (fw, col) in seconds else "")
        for fw, v in table[col].items()} for col in table.columns})
    text.index.name = "framework"
    epochs = ", ".join(str(e) for e in sorted(part.epochs.dropna().unique()))
    return (f"**{device.upper()} — test accuracy by {title} after {epochs} epoch(s)** (seed 0, batch 128, "
            "Adam 1e-3)\n\n" + text.to_markdown(disable_numparse=True) + "\n" + _missing_note(metric, table.columns, device))


def plot_scaling(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Train samples/s and achieved GFLOP/s against FLOPs per step, per framework: the hidden-size
    sweep (solid, batch 128) and the batch-size sweep of TrainStep (dashed, hidden 128)."""
    plt = _pyplot()
    written = []
    for machine, commit in latest_commits(frame).items():
        ok = frame[(frame.machine == machine) & (frame.commit == commit) & (frame.status == "ok")]
        sel = ok[ok.metric == "hidden_train_step"]
        for device, dev in sel.groupby("device"):
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
            batches = ok[(ok.metric == "train_step") & (ok.device == device)]
            for i, (fw, g) in enumerate(dev.groupby("framework")):
                color = f"C{i}"
                g = g.assign(h=g.param.astype(int)).sort_values("h")
                flops = [hidden_flops(h) for h in g.h]
                axes[0].plot(flops, 128 / g.value, marker="o", color=color, label=f"{fw} (hidden)")
                axes[1].plot(flops, [f / v / 1e9 for f, v in zip(flops, g.value)], marker="o", color=color,
                             label=f"{fw} (hidden)")
                b = batches[batches.framework == fw].sort_values("batch_size")
                bflops = [hidden_flops(128) * int(n) / 128 for n in b.batch_size]
                axes[0].plot(bflops, b.batch_size.astype(float) / b.value, ls="--", marker="s", color=color,
                             label=f"{fw} (batch)")
                axes[1].plot(bflops, [f / v / 1e9 for f, v in zip(bflops, b.value)], ls="--", marker="s",
                             color=color, label=f"{fw} (batch)")
            axes[0].set(xscale="log", yscale="log", xlabel="matmul FLOPs per train step",
                        ylabel="samples/s", title="throughput")
            axes[1].set(xscale="log", xlabel="matmul FLOPs per train step", ylabel="GFLOP/s", title="achieved GFLOP/s")
            for ax in axes:
                ax.grid(True, which="both", alpha=0.3)
                ax.legend()
            fig.suptitle(f"{machine} / {device} @ {commit[:8]}: cost against work (higher is better)")
            written.append(_save(fig, out_dir / f"scaling_{machine}_{device}.png", 110))
    return written
