"""Published throughput with its spread: each steady-state time benchmark measured in several fresh
processes, interleaved across frameworks, one value per process stored as asv samples.

A single asv process gives a number whose run-to-run spread on a shared box is larger than its
in-process interval admits; the process is the unit of replication, so the report's interval
(bench/stats.rerun_interval) is computed over these per-process values.
"""
from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from .compare import Worker, WorkerError

REPLICATED = r"^(throughput\.(TrainStep|Predict)|baseline\.MinimalLoop)\."
ASV_EXCLUDE = r"(?!throughput\.|baseline\.)"  # what asv itself then leaves out


def measure(root: Path, chunks: list[tuple[str, str]], processes: int, env: dict, sample_time: float = 0.15,
            samples: int = 4, seed: int | None = None, log=print) -> pd.DataFrame:
    """`processes` rounds; each round starts one worker per (framework, device), in random order,
    and times every replicated benchmark `samples` times; a process's value is their mean."""
    rng = random.Random(seed if seed is not None else time.time())
    rows = []
    for proc_no in range(1, processes + 1):
        order = list(chunks)
        rng.shuffle(order)
        for framework, device in order:
            started = time.monotonic()
            rows += _one_process(root, framework, device, proc_no, env, sample_time, samples)
            log(f"[replicate {proc_no}/{processes}] {framework}:{device} {time.monotonic() - started:.0f} s")
    return pd.DataFrame(rows)


def _one_process(root, framework, device, proc_no, env, sample_time, samples) -> list[dict]:
    worker = Worker(root, framework, device, REPLICATED, env)
    rows = []
    try:
        try:
            jobs = worker.ask({"op": "setup"})["jobs"]
        except WorkerError as exc:
            return [{"framework": framework, "device": device, "benchmark": "(worker)", "param": 0,
                     "process": proc_no, "value": math.nan, "status": "failed", "reason": str(exc)[-600:]}]
        for job in jobs:
            row = {"framework": framework, "device": device, "benchmark": job["name"], "param": job["param"],
                   "all_params": json.dumps(job["all_params"]), "version": job["version"], "process": proc_no,
                   "value": math.nan, "status": job["status"], "reason": job["reason"][-600:]}
            if job["status"] == "ok":
                number = max(1, math.ceil(sample_time / job["once"]))
                try:
                    values = [worker.ask({"op": "time", "job": job["job"], "number": number})["seconds"]
                              for _ in range(samples)]
                    row["value"] = statistics.fmean(values)
                except WorkerError as exc:
                    row.update(status="failed", reason=str(exc)[-600:])
            rows.append(row)
    except BaseException:  # Ctrl-C or SIGTERM: no worker outlives the run
        worker.close(interrupted=True)
        raise
    finally:
        worker.close()
    return rows


ACCURACY_BENCHMARKS = {"test_error": "accuracy.Accuracy.track_test_error",
                       "time_to_accuracy": "accuracy.Accuracy.track_time_to_accuracy"}


def seed_rows(log: Path, described: dict) -> pd.DataFrame:
    """The accuracy suite's per-seed values (bench.harness.train_runs wrote one JSON line per framework
    and device to the seed log) as rows for store(): one sample per seed. Times to accuracy only where
    the stored value is theirs (most seeds reached the target)."""
    import itertools

    from .harness import reached_by_most

    rows = []
    for line in log.read_text().splitlines() if log.is_file() else []:
        entry = json.loads(line)
        framework, device, _ = entry["key"].split(":")
        for metric, name in ACCURACY_BENCHMARKS.items():
            info = described.get(name)
            if not info:
                continue
            combos = [tuple(c) for c in itertools.product(*info["params"])]
            combo = (repr(framework), repr(device), str(entry["epochs"]))
            reached = reached_by_most(entry[metric])
            if combo not in combos or reached is None:
                continue
            rows += [{"benchmark": name, "param": combos.index(combo), "process": seed, "value": float(v),
                      "status": "ok", "all_params": json.dumps(info["params"]), "version": info.get("version", "1"),
                      "framework": framework, "device": device} for seed, v in enumerate(reached)]
    return pd.DataFrame(rows)


def env_name(results_dir: Path, machine: str, commit: str) -> str:
    """The asv environment name of this commit's results file (the one asv wrote), for store()."""
    from asv.results import iter_results_for_machine_and_hash

    existing = list(iter_results_for_machine_and_hash(str(results_dir), machine, commit))
    return existing[0].env_name if existing else "existing-replicated"


def store(rows: pd.DataFrame, results_dir: Path, machine: str, commit: str, env_name: str,
          append: bool = False) -> Path | None:
    """Add the per-process values to this commit's asv results file (one sample per process); with
    `append`, to the processes an earlier run of the same benchmark version stored."""
    from asv.machine import Machine
    from asv.results import Results, get_filename

    rows = rows[rows.benchmark != "(worker)"]
    if rows.empty:
        return None
    if not (results_dir / machine / "machine.json").is_file():  # asv run writes it; without one asv skips the folder
        Machine.load(machine_name=machine).save(str(results_dir))
    path = results_dir / get_filename(machine, commit, env_name)
    if path.is_file():
        res = Results.load(str(path), machine_name=machine)
    else:
        res = Results({"machine": machine}, {}, commit, int(time.time() * 1000), sys.version.split()[0], env_name, {})
    add_results(res, rows, append)
    res.save(str(results_dir))
    return path


def add_results(res, rows: pd.DataFrame, append: bool = False) -> None:
    """Put per-process values (rows: benchmark, param, process, value, status, all_params, version)
    into an asv Results: each value one sample, the result their median, a failure None. Parameter
    combinations not in `rows` (other frameworks) keep what is stored."""
    from asv import runner

    for name, group in rows.groupby("benchmark"):
        grid = json.loads(group.all_params.iloc[0])
        size = math.prod(len(p) for p in grid) if grid else 1
        values, samples, numbers = [math.nan] * size, [None] * size, [None] * size
        for idx, g in group.groupby("param"):
            good = g[g.status == "ok"].sort_values("process")
            if (g.status == "failed").any():
                values[idx] = None
            elif not good.empty:
                samples[idx] = [float(v) for v in good.value]
                values[idx] = float(statistics.median(samples[idx]))
                numbers[idx] = 1
        bench = {"name": name, "version": str(group.version.iloc[0]), "params": grid}
        res.add_result(bench, runner.BenchmarkResult(values, samples, numbers, 0, "", None), record_samples=True,
                       append_samples=append, selected_idx=set(int(i) for i in group.param.unique()))
