"""asv results (and run metadata) -> one tidy pandas DataFrame, one row per machine x commit x env x
benchmark x parameter combination; parameter names and units from asv's benchmarks.json.
"""

from __future__ import annotations

import glob
import json
import math
import re
import time
from pathlib import Path

import pandas as pd

from bench.core.errors import RunError
from bench.measure.stats import rerun_interval
from bench.report import shapes
from bench.report.corrupt import Corrupt
from bench.report.paired import attach
from bench.store import layout
from bench.store.record import IDENTITY, Measurement, key_of, params_of
from bench.workload.benchmarks import BENCHMARKS, metric_of
from impls.registry import BUILTINS


class ReportError(RunError):
    """No results, or a revision/machine that is not in them: exit status 2."""


class Shared(dict):
    """A frame.attrs value that is read, never changed, and shared by every frame derived from it. pandas
    deep-copies attrs into each derived frame and each column it hands out (NDFrame.__finalize__), and a
    history's run selections are the largest value there."""

    def __deepcopy__(self, memo: dict) -> Shared:
        return self


def _param(value: str):
    """asv stores params as repr strings: "'torch'" -> torch, "128" -> 128."""
    value = value.strip()
    if value[:1] in "'\"":
        return value[1:-1]
    try:
        return int(value)
    except ValueError:
        return value


def _read_meta(meta_dir: Path, corrupt: Corrupt, machine: str | None = None) -> dict[tuple[str, str], dict]:
    meta = {}
    for path in sorted(meta_dir.glob(f"{glob.escape(machine) if machine else '*'}/*.json")):
        if path.name in ("fingerprint.json", "noise.json", "reruns.json"):  # the machine's, not a run's
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError) as exc:
            corrupt(path, f"unreadable run metadata ({exc})")
            continue
        if not (
            isinstance(data, dict) and isinstance(data.get("machine"), str) and isinstance(data.get("commit"), str)
        ):
            corrupt(path, "run metadata that is not an object with 'machine' and 'commit'")
            continue
        why = layout.misplaced(path, data)
        if why:
            corrupt(path, f"run metadata that {why}")
            continue
        why = shapes.meta_problem(data)
        if why:
            corrupt(path, f"run metadata not as `run` stores it: {why}")
            continue
        meta[(data["machine"], data["commit"])] = data
    return meta


def load_results(
    results_dir: Path | str, meta_dir: Path | str | None = None, skip_corrupt: bool = False, machine: str | None = None
) -> pd.DataFrame:
    """One row per machine x commit x env x benchmark x parameter combination (with `machine`, of that
    machine only: another machine's files, whole or not, are not read).

    A stored file that cannot be read (results, run metadata, benchmarks.json, machine.json) is a
    CorruptFile naming it; with `skip_corrupt` it is skipped with a warning and listed in
    frame.attrs["skipped_files"]. status is ok / skipped (NaN) / failed (null) / invalid (a time, size
    or error rate below zero, or a time of zero).
    """
    from asv.results import Results

    results_dir = Path(results_dir)
    corrupt = Corrupt(skip_corrupt)
    meta = _read_meta(Path(meta_dir) if meta_dir else results_dir.parent / "meta", corrupt, machine)
    described = _read_benchmarks(results_dir, corrupt)
    rows = []
    for path, name in _results_files(results_dir, machine, corrupt):
        try:
            res = Results.load(str(path), machine_name=name)
        except Exception as exc:  # asv raises several kinds for malformed files
            corrupt(path, f"unreadable asv results ({type(exc).__name__}: {exc})")
            continue
        if isinstance(res.date, bool) or not isinstance(res.date, (int, float)) or not math.isfinite(res.date):
            corrupt(path, f"asv results without a date ({str(res.date)[:40]!r})")
            continue
        if res.date > (time.time() + FUTURE_SLACK) * 1000:  # it would sort after the newest commit and hide it
            corrupt(
                path, f"asv results dated in the future ({time.strftime('%Y-%m-%d', time.gmtime(res.date / 1000))})"
            )
            continue
        why = layout.misplaced(path, {"params": res.params, "commit_hash": res.commit_hash})
        if why:
            corrupt(path, f"asv results that {why}")
            continue
        why = shapes.results_problem(res)  # untrusted input, checked here: an error in _rows is a bug
        if why:
            corrupt(path, f"asv results not as the tool stores them: {why}")
            continue
        rows.extend(_rows(res, name, meta.get((name, res.commit_hash), {}), described))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    for col in ("batch_size", "epochs"):
        frame[col] = frame[col].astype("Int64")

    frame = attach(frame, results_dir, corrupt)
    frame.attrs["skipped_files"] = corrupt.skipped
    frame.attrs["selected"] = Shared({run_key(*key): _selection(m) for key, m in meta.items()})  # each run's ask
    return frame


# The tidy frame, one row per cell (machine x commit x env x benchmark x parameters): the record's
# fields (store.record.Measurement) with its meanings (param: asv's index into the grid; key: the
# identity beside framework and device, record.IDENTITY; version: the benchmark's), then what asv's
# samples of the cell give (replicates: one value per process or seed; setting: the third parameter's
# value, a variant, precision, sequence or hidden size), then the run's host.
FUTURE_SLACK = 86_400.0  # seconds a result may be dated after this machine's now (clocks that differ a little)


RECORD = [
    "arm",
    "framework",
    "device",
    "benchmark",
    "param",
    "params",
    "key",
    "value",
    "number",
    "unit",
    "status",
    "reason",
    "version",
]
CELL = [
    "metric",
    "framework_version",
    "batch_size",
    "epochs",
    "setting",
    "replicates",
    "runs",
    "ci_low",
    "ci_high",
    "q25",
    "q75",
    "spread",
    "log_mean",
    "log_sd",
    "repeat",
]
STORED_CONFIDENCE = 0.99  # ci_low / ci_high: asv's stored interval (ci_99_a, ci_99_b), a 99% one
RUN = [
    "threads",
    "cpu_model",
    "gpu_name",
    "gpu_driver",
    "quick",
    "fingerprint",
    "host_gflops",
    "data",
    "dirty",
    "busy_rounds",  # the paired rounds of the run that ran beside other work ("1, 2"; "" for none)
]
COLUMNS = ["machine", "commit", "date", "env", *RECORD, *CELL, *RUN]


def _results_files(results_dir: Path, only: str | None, corrupt: Corrupt):
    """(results file, machine) for every machine folder whose machine.json is whole and names it (as asv's
    iter_results_paths walks them, without its crash on a machine file of the wrong shape)."""
    for folder in sorted(p for p in results_dir.iterdir() if p.is_dir()) if results_dir.is_dir() else []:
        if only is not None and folder.name != only:
            continue
        path = folder / "machine.json"
        if not path.is_file():
            continue  # asv skips a folder without one: not a machine
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError) as exc:
            corrupt(path, f"unreadable asv machine file ({exc})")
            continue
        why = layout.misplaced(path, data)
        if not why and (isinstance(data.get("version"), bool) or not isinstance(data.get("version"), int)):
            why = f"has version {str(data.get('version'))[:40]!r}, not asv's machine file version"
        if why:
            corrupt(path, f"an asv machine file that {why}")
            continue
        for result in sorted(folder.glob("*.json")):
            if result.name != "machine.json":
                yield result, folder.name


def _read_benchmarks(results_dir: Path, corrupt: Corrupt | None = None) -> dict:
    """asv's own description of each benchmark (benchmarks.json beside the results): parameter names
    and unit. {} when absent (results copied without it): then names are read by position."""
    path = results_dir / "benchmarks.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as exc:
        data = None
        why = f"unreadable asv benchmarks.json ({exc})"
    else:
        why = "asv benchmarks.json that is not an object"
    if not isinstance(data, dict):
        if corrupt is not None:
            corrupt(path, why)
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


POSITIONAL = ("framework", "device", "third", "fourth")  # an unknown benchmark without a benchmarks.json


def _whole(value):
    """A whole-number parameter (batch size, epochs) as an int, None where absent; ValueError otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    number = int(str(value).strip("'\""))
    if number < 0 or number > 2**31:
        raise ValueError(f"parameter {str(value)[:40]!r} is not a size")
    return number


def _rows(res, machine: str, meta: dict, described: dict | None = None):
    """One row per stored cell of an asv Results: the record's fields, then what the report adds (the
    cell's spread over its processes, the host, the run)."""
    host = meta.get("host", {})
    for name in res.get_all_result_keys():
        params = res.get_result_params(name)
        values = res.get_result_value(name, params)
        stats = res.get_result_stats(name, params)
        samples = res.get_result_samples(name, params)
        info = (described or {}).get(name, {})
        known = BENCHMARKS.get(name)
        names = next(
            (n for n in (info.get("param_names"), known and known.params) if n and len(n) == len(params)), POSITIONAL
        )
        combos = pd.MultiIndex.from_product(params).tolist() if params else [()]
        if not params:
            values, stats, samples = [values], [stats], [samples]
        unit = info.get("unit") or (known.unit if known else "")
        version = method(res.benchmark_version.get(name), meta, known)
        for index, (combo, value, stat, sample) in enumerate(zip(combos, values, stats, samples)):
            p = dict(zip(names, (_param(v) for v in combo)))
            record = _record(name, index, combo, names, p, value, stat or {}, unit, version, meta)
            yield {
                "machine": machine,
                "commit": res.commit_hash,
                "date": res.date,
                "env": res.env_name,
                **{f: getattr(record, f) for f in RECORD},
                "metric": metric_of(name),
                **_cell(p, stat or {}, sample, record.status),
                **_host_and_run(meta, host, record.framework, name),
            }


def _record(name: str, index: int, combo, names, p: dict, value, stat: dict, unit: str, version, meta) -> Measurement:
    """A stored cell as the one record: asv's median over the processes it stored (the rounds are its
    replicates), its status from the value."""
    framework, device = str(p.get("framework", "")), str(p.get("device", ""))  # "" for a benchmark without them
    return Measurement(
        arm=f"{framework}:{device}",
        framework=framework,
        device=device,
        benchmark=name,
        param=index,
        params=params_of(combo),
        key=key_of(names, combo),
        value=float("nan") if value is None else float(value),
        statistic="median",
        number=stat.get("number"),
        unit=unit,
        status="failed" if value is None else ("skipped" if _isnan(value) else _valid(unit, value)),
        reason=meta.get("skipped", {}).get(f"{framework}:{device}") or "",
        version=version,
    )


def _cell(p: dict, stat: dict, sample, status: str) -> dict:
    """What the report reads of a cell beside its value: its parameters by name and its spread over the
    processes (asv's stored 99% interval and quartiles, the samples' log mean and sd)."""
    third = next(iter(list(p.values())[2:]), None)  # the first parameter after framework and device
    return {
        "batch_size": _whole(p.get("batch_size")),
        "epochs": _whole(p.get("epochs")),
        "setting": None if third is None else str(third),
        "replicates": list(sample) if sample else None,
        "runs": len(sample) if sample else (1 if status == "ok" else 0),
        "ci_low": stat.get("ci_99_a"),
        "ci_high": stat.get("ci_99_b"),
        "q25": stat.get("q_25"),
        "q75": stat.get("q_75"),
        "spread": _spread(sample),
        "log_mean": _log_stat(sample, "mean"),
        "log_sd": _log_stat(sample, "sd"),
        "repeat": stat.get("repeat"),
    }


def _host_and_run(meta: dict, host: dict, framework: str, name: str) -> dict:
    """The host and the run a cell was measured in, from the run metadata."""
    fw_meta = meta.get("frameworks", {}).get(framework, {})
    return {
        "framework_version": fw_meta.get("version"),
        "threads": host.get("threads"),
        "cpu_model": host.get("cpu_model"),
        "gpu_name": fw_meta.get("gpu_name"),
        "gpu_driver": host.get("gpu_driver"),
        "quick": _run_of(meta, name).get("quick", meta.get("quick")),
        "fingerprint": (meta.get("fingerprint") or {}).get("id"),
        "host_gflops": (meta.get("fingerprint") or {}).get("matmul_gflops"),
        "data": meta.get("data"),
        "dirty": meta.get("dirty"),
        "busy_rounds": _busy(meta),
    }


OLD_ENGINE_ALLOCATOR = "+fixed-malloc"  # the version mark of results an engine with fixed malloc thresholds took


def method(version: str | None, meta: dict, known) -> str | None:
    """A stored result's method: its benchmark version, marked where the run's metadata says the engine's
    workers ran with fixed glibc malloc thresholds (`worker_allocator`, runs before the closed division
    became a plain process): those are another method than the same version's plain processes."""
    fixed = isinstance(meta.get("worker_allocator"), dict) and meta["worker_allocator"]
    if version is None or not fixed or not (known and known.paired):
        return version
    return f"{version}{OLD_ENGINE_ALLOCATOR}"


ONE_AT_A_TIME = 3  # the throughput benchmarks' version from which `run` times each framework's process
# alone (rounds.Plan.one_at_a_time); before it, every framework's worker was alive and samples alternated


def timed_alone(versions) -> bool:
    """Whether every result of these benchmark versions had each framework's process timed alone (version
    ONE_AT_A_TIME on); False for older or unknown versions, or a mix."""
    numbers = [re.match(r"\d+", str(v)) for v in pd.Series(versions).dropna()]
    return bool(numbers) and all(m is not None and int(m.group()) >= ONE_AT_A_TIME for m in numbers)


def rounds_text(rounds: int, versions) -> str:
    """How a result's throughput rounds were taken, as every answer, header and plot says it: '14 rounds,
    one process at a time' (timed_alone) or '6 paired rounds' (before, or unknown)."""
    return f"{rounds} rounds, one process at a time" if timed_alone(versions) else f"{rounds} paired rounds"


def _busy(meta: dict) -> str:
    """The run's rounds that ran beside other work, as text ("1, 2"), "" for none or unsaid."""
    rounds = meta.get("rounds")
    busy = rounds.get("busy_rounds") if isinstance(rounds, dict) else None
    return ", ".join(str(int(r)) for r in busy if isinstance(r, int)) if isinstance(busy, list) else ""


def run_key(machine: str, commit: str) -> str:
    """A run's key in frame.attrs (text: attrs travel into parquet's metadata as JSON)."""
    return f"{machine}@{commit}"


def _selection(meta: dict) -> dict | None:
    """What a run asked for (`selected`: its benchmarks and, quick, its rounds' keys), None where unsaid."""
    chosen = meta.get("selected")
    return chosen if isinstance(chosen, dict) else None


def _run_of(meta: dict, benchmark: str) -> dict:
    """The run that measured a stored benchmark (bench.store.provenance), {} for results from before it was kept."""
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
    """Relative half-width of the 95% interval a rerun would fall in (bench.measure.stats.rerun_interval):
    asv samples here are one value per process (replicated throughput; cold start's fresh
    interpreters). NaN with fewer than two."""

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


def label(row) -> str:
    """How a report row's parameters read to a person: "jax, cpu, batch 128", "torch, cpu, fused",
    "tensorflow, cpu, 5 ep" (the verdict table's and the change points' one rule)."""
    parts = [row.framework, row.device]
    if pd.notna(row.batch_size):
        parts.append(f"batch {row.batch_size}")
    elif isinstance(row.setting, str) and row.setting and row.setting != str(row.epochs):
        parts.append(row.setting)  # variant, precision, sequence or hidden size
    if pd.notna(row.epochs):
        parts.append(f"{row.epochs} ep")
    return ", ".join(str(p) for p in parts if isinstance(p, str) or pd.notna(p))


def quick_flags(rows: pd.DataFrame) -> pd.Series:
    """Per row, whether a quick run measured it (the flag may come back from CSV as "true")."""
    return rows.quick.map(lambda q: q is True or q == "true")


def is_quick(rows: pd.DataFrame) -> bool:
    """Whether any of these rows was measured by a quick run."""
    return bool(quick_flags(rows).any())


def runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per machine and commit: `complete` (every built-in framework's train step measured,
    or skipped with a reason), `full` (complete and not a quick run), and its newest date. One
    grouped pass over the frame: every table, plot and page asks for it (at 1,000 commits a loop
    over the commits cost ~3 s a call)."""

    columns = ["machine", "commit", "complete", "full", "date"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    keys = ["machine", "commit"]
    counted = (frame.metric == "train_step") & ((frame.status != "skipped") | frame.reason.fillna("").ne(""))
    builtin = frame.framework.isin(list(BUILTINS)) & counted
    present = frame[builtin].groupby(keys).framework.nunique()
    quick = quick_flags(frame).groupby([frame.machine, frame.commit]).any()
    out = frame.groupby(keys).date.max().to_frame()
    out["complete"] = present.reindex(out.index).fillna(0).astype(int) >= len(set(BUILTINS))
    out["full"] = out.complete & ~quick.reindex(out.index).fillna(False).astype(bool)
    return out.reset_index()[columns]


def latest_commits(frame: pd.DataFrame) -> dict[str, str]:
    """The commit each machine's tables, plots and page show: its newest complete run (`runs`), a full
    run before a quick one; else its newest commit. A later partial run (`--bench`, fewer frameworks)
    does not replace them."""
    return shown_commits(runs(frame))


def shown_commits(table: pd.DataFrame) -> dict[str, str]:
    """latest_commits' choice from a `runs` table: per machine, complete before not, full before
    quick, then the newest."""
    ranked = table.sort_values(["complete", "full", "date", "commit"])
    return dict(zip(ranked.machine, ranked.commit))  # the last row of each machine wins


def commit_rows(frame: pd.DataFrame, machine: str, commit: str, device: str | None = None) -> pd.DataFrame:
    """One commit's rows on one machine (and device), one per benchmark and parameters: a commit
    with several asv environment files keeps each cell's newest ok value (_merge_env)."""
    sel = frame[(frame.machine == machine) & (frame.commit == commit)]
    if device is not None:
        sel = sel[sel.device == device]
    return _merge_env(sel)


def _merge_env(group: pd.DataFrame) -> pd.DataFrame:
    """One row per benchmark x params: if a commit has several env files, keep the newest ok value."""
    group = group.assign(_ok=group.status == "ok").sort_values(["_ok", "date"])
    return group.drop_duplicates(list(IDENTITY), keep="last")
