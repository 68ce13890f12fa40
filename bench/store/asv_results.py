"""asv result files, written in one place: the engine's per-round values and the accuracy suite's
per-seed values become samples of this commit's asv results (one sample per round or seed), so asv's
own tools and the report read them.

A single asv process gives a number whose run-to-run spread on a shared box is larger than its
in-process interval admits; the process is the unit of replication, so the stored samples are one
per fresh process (round) and the report's intervals are computed over them.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.core import files


def env_name(results_dir: Path, machine: str, commit: str, default: str = "existing-replicated") -> str:
    """The asv environment name of this commit's results file, for store(): the file's there is one, else
    `default` (`run` passes the name asv will write under, so its rounds and asv's part share one file)."""
    from asv.results import iter_results_for_machine_and_hash

    existing = list(iter_results_for_machine_and_hash(str(results_dir), machine, commit))
    return existing[0].env_name if existing else default


def store(
    rows: pd.DataFrame, results_dir: Path, machine: str, commit: str, env_name: str, append: bool = False
) -> Path | None:
    """Add the per-process values to this commit's asv results file (one sample per process); with
    `append`, to the processes an earlier run of the same benchmark version stored."""
    rows = rows[rows.benchmark != "(worker)"]
    if rows.empty:
        return None
    ensure_machine(results_dir, machine)
    res = load(results_dir, machine, commit, env_name) or new_results(machine, commit, env_name)
    add_results(res, rows, append)
    return save_results(res, results_dir)


def new_results(machine: str, commit: str, env_name: str):
    """An empty asv Results for `commit` on `machine`, dated now (what store() fills where none is stored)."""
    from asv.results import Results

    return Results({"machine": machine}, {}, commit, int(time.time() * 1000), sys.version.split()[0], env_name, {})


def load(results_dir: Path, machine: str, commit: str, env_name: str):
    """This commit's asv Results stored under `env_name`, or None where there is none (CorruptFile naming
    the file when it cannot be read: a run checks it before it measures, never after)."""
    from asv.results import Results, get_filename

    path = results_dir / get_filename(machine, commit, env_name)
    if not path.is_file():
        return None
    try:
        return Results.load(str(path), machine_name=machine)
    except Exception as exc:  # asv raises UserError, ValueError, KeyError, TypeError on a damaged file
        raise files.CorruptFile(f"{path}: not an asv results file ({type(exc).__name__}: {exc})"[:400]) from None


def ensure_machine(results_dir: Path, machine: str) -> None:
    """<machine>/machine.json in the results folder: asv run writes it, and without one asv skips the folder."""
    if not (results_dir / machine / "machine.json").is_file():
        _atomically(_machine_saver(machine), results_dir, Path(machine, "machine.json"))


def _machine_saver(machine: str) -> Callable[[str], None]:
    """How to write <machine>/machine.json into a folder: asv's record of the machine (`asv machine`, which
    `run` calls first), or one holding only its name where asv has none (a store outside `run`)."""
    from asv import util
    from asv.machine import Machine, MachineCollection

    try:
        MachineCollection.load(machine)
    except util.UserError:
        return lambda folder: util.write_json(
            os.path.join(folder, machine, "machine.json"), {"machine": machine}, Machine.api_version
        )
    return lambda folder: Machine.load(machine_name=machine).save(folder)


def save_results(res, results_dir: Path) -> Path:
    """asv's Results.save, made atomic (asv writes in place): saved in a scratch folder, renamed in."""
    return _atomically(res.save, results_dir, Path(res._filename))


def _atomically(save, results_dir: Path, relative: Path) -> Path:

    with tempfile.TemporaryDirectory(prefix="seqmnist-save-") as scratch:
        save(scratch)
        return files.write_bytes(Path(results_dir) / relative, (Path(scratch) / relative).read_bytes())


def add_results(res, rows: pd.DataFrame, append: bool = False) -> None:
    """Put per-round or per-seed values (bench.store.record.Measurement rows: benchmark, param, round, seed,
    value, status, all_params, version) into an asv Results: each value one sample, the result their median, a failure None. Parameter
    combinations not in `rows` (other frameworks) keep what is stored."""
    from asv import runner

    for name, group in rows.groupby("benchmark"):
        grid = json.loads(group.all_params.iloc[0])
        size = math.prod(len(p) for p in grid) if grid else 1
        values: list[float | None] = [math.nan] * size
        samples: list[list[float] | None] = [None] * size
        numbers: list[int | None] = [None] * size
        for idx, g in group.groupby("param"):
            good = g[g.status == "ok"].sort_values([c for c in ("round", "seed") if c in g])  # a process or a seed
            if (g.status == "failed").any():
                values[idx] = None
            elif not good.empty:
                samples[idx] = [float(v) for v in good.value]
                values[idx] = float(statistics.median([float(v) for v in good.value]))
                numbers[idx] = 1
        bench = {"name": name, "version": str(group.version.iloc[0]), "params": grid}
        res.add_result(
            bench,
            runner.BenchmarkResult(values, samples, numbers, 0, "", None),
            record_samples=True,
            append_samples=append,
            selected_idx=set(int(i) for i in group.param.unique()),
        )


NEUTRAL_ENV = "existing-python"  # what a committed results file is named after, instead of this machine's path


def asv_env_name(root: Path) -> str:
    """The environment name `asv run --python=same` gives results measured with this interpreter:
    'existing-py' + the interpreter's path, a local path that must not be published."""
    from asv.config import Config
    from asv.environment import ExistingEnvironment

    return ExistingEnvironment(Config.load(str(Path(root) / "asv.conf.json")), "same", {}, {}).name


def _rename_env(src: Path, dst: Path, env: str, python: str | None) -> None:
    data = json.loads(src.read_text())
    data["env_name"] = env
    if python is not None:  # asv records the interpreter's path at the top and among the params
        data["python"] = python
        if isinstance(data.get("params"), dict):
            data["params"]["python"] = python
    files.write_text(src, json.dumps(data, indent=None, sort_keys=True))  # rewritten in place, atomically,
    os.replace(src, dst)  # then renamed: at every moment one file holds the commit's results, never two


def expose(results_dir: Path, machine: str, commit: str, env: str) -> None:
    """Before asv runs: this commit's published (neutrally named) results file under the name asv
    will look for, so that asv appends to it as it always did."""
    from asv.results import get_filename

    neutral = results_dir / get_filename(machine, commit, NEUTRAL_ENV)
    target = results_dir / get_filename(machine, commit, env)
    if neutral.is_file() and not target.exists():
        _rename_env(neutral, target, env, sys.executable)


def neutralize(results_dir: Path, machine: str, commit: str, env: str) -> Path | None:
    """After the run: the results file asv named after this machine's interpreter path renamed to
    NEUTRAL_ENV, with the interpreter path inside it replaced; nothing local is published."""
    from asv.results import get_filename

    source = results_dir / get_filename(machine, commit, env)
    if not source.is_file() or env == NEUTRAL_ENV:
        return None
    target = results_dir / get_filename(machine, commit, NEUTRAL_ENV)
    _rename_env(source, target, NEUTRAL_ENV, "same")
    return target
