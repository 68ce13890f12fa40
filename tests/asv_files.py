"""Write small asv results files (format version 2) for report tests, as asv itself lays them out."""
from __future__ import annotations

import json
from pathlib import Path

COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a", "stats_ci_99_b",
           "stats_q_25", "stats_q_75", "stats_number", "stats_repeat", "samples", "profile"]


def write_machine(results: Path, machine: str) -> None:
    (results / machine).mkdir(parents=True, exist_ok=True)
    (results / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))


def write_results(results: Path, machine: str, commit: str, date_ms: int, benchmarks: dict,
                  samples: dict | None = None, env: str = "existing-py_test") -> Path:
    """benchmarks: name -> (params [[repr, ...], ...], values [...], cis [(lo, hi) or None, ...]);
    samples: name -> per-combination lists of per-process values (asv's --record-samples)."""
    write_machine(results, machine)
    out = {}
    for name, (params, values, cis) in benchmarks.items():
        lo = [c[0] if c else None for c in cis]
        hi = [c[1] if c else None for c in cis]
        n = [1 if v is not None else None for v in values]
        out[name] = [values, params, "1", 0, 1.0, lo, hi, values, values, n, n, (samples or {}).get(name)]
    doc = {
        "commit_hash": commit, "env_name": env, "date": date_ms,
        "params": {"machine": machine, "python": "3.11"}, "python": "3.11", "requirements": {},
        "env_vars": {}, "result_columns": COLUMNS, "results": out, "durations": {}, "version": 2,
    }
    path = results / machine / f"{commit[:8]}-{env}.json"
    path.write_text(json.dumps(doc))
    return path
