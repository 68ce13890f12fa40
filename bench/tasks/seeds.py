"""The accuracy suite's seeds, each kept as one sample: what bench.workload.harness logged per seed
turned into measurement records (bench.store.record), stored as asv results in place of what asv
stored for those cells."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd

from bench.store import asv_results, layout
from bench.store.record import Measurement, frame_of, key_of, params_of
from bench.workload.benchmarks import BENCHMARKS, SEED_FIELDS
from bench.workload.harness import reached_by_most


def store_seeds(log: Path, root: Path, machine: str, commit: str) -> int:
    """Each accuracy seed as one sample of this commit's accuracy results (replacing what asv stored for
    those cells: a rerun trains the same seeds, so its values are no extra replicates). Cells stored."""

    results_dir = layout.asv_dir(root)
    try:
        described = json.loads(layout.benchmarks_file(root).read_text())
    except (OSError, ValueError):
        return 0
    rows = seed_rows(log, described)
    if rows.empty:
        return 0
    asv_results.store(rows, results_dir, machine, commit, asv_results.env_name(results_dir, machine, commit))
    return int(rows.groupby(["benchmark", "param"]).ngroups)


def seed_rows(log: Path, described: dict) -> pd.DataFrame:
    """The accuracy suite's per-seed values (bench.workload.harness.train_runs wrote one JSON line per framework
    and device to the seed log) as records for store(): one sample per seed. Times to accuracy only where
    the stored value is theirs (most seeds reached the target)."""

    rows = []
    for line in log.read_text().splitlines() if log.is_file() else []:
        entry = json.loads(line)
        framework, device, _ = entry["key"].split(":")
        for metric, name in SEED_FIELDS.items():
            info = described.get(name)
            if not info:
                continue
            combos = [tuple(c) for c in itertools.product(*info["params"])]
            combo = (repr(framework), repr(device), str(entry["epochs"]))
            reached = reached_by_most(entry[metric]) if entry.get(metric) else None  # older logs lack steps
            if combo not in combos or reached is None:
                continue
            rows += [
                Measurement(
                    arm=f"{framework}:{device}",
                    framework=framework,
                    device=device,
                    benchmark=name,
                    param=combos.index(combo),
                    params=params_of(combo),
                    key=key_of(info.get("param_names") or ("framework", "device", "epochs"), combo),
                    seed=seed,  # the seed is the unit of replication here
                    value=float(v),
                    statistic="seed",
                    unit=BENCHMARKS[name].unit,
                    all_params=json.dumps(info["params"]),
                    version=info.get("version", "1"),
                )
                for seed, v in enumerate(reached)
            ]
    return frame_of(rows)
