"""What a run keeps of the results already stored for its commit: a quick run never replaces a full
result nor asv's description of a benchmark, and each stored benchmark names the run that measured it
(meta "benchmarks")."""

from __future__ import annotations

import json
from pathlib import Path

from bench.core import files
from bench.store.asv_results import save_results

_FIELDS = (
    "_results",
    "_benchmark_params",
    "_samples",
    "_stats",
    "_started_at",
    "_duration",
    "_benchmark_version",
    "_profiles",
)


def snapshot(results_dir: Path, machine: str, commit: str) -> dict:
    """{env name: asv Results} stored for `commit` on `machine` before the run."""
    from asv.results import iter_results_for_machine_and_hash

    try:
        return {r.env_name: r for r in iter_results_for_machine_and_hash(str(results_dir), machine, commit)}
    except OSError:
        return {}
    except Exception as exc:  # asv's UserError, ValueError, KeyError on a damaged file: read before measuring
        raise files.CorruptFile(
            f"{Path(results_dir) / machine}: a results file of {commit[:8]} cannot be read "
            f"({type(exc).__name__}: {exc}); restore or delete it"[:400]
        ) from None


def descriptions(path: Path) -> bytes | None:
    """asv's benchmarks.json as stored before a run (None where there is none), for keep_descriptions."""
    return path.read_bytes() if path.is_file() else None


def keep_descriptions(before: bytes | None, path: Path) -> bool:
    """After a quick run's asv part, put back asv's description of each benchmark that differs from the
    one stored before only in its parameters' values: asv rewrites benchmarks.json from its discovery,
    and a quick run's differs there (accuracy's epochs 5 -> 1), so every quick run would change the
    published file; its results carry their own parameters. Anything else asv changed (a new benchmark,
    a new version, a unit) stays. True when the file was written back (byte for byte where nothing else
    changed)."""
    if before is None or not path.is_file():
        return False
    old, new = files.parse_json(before, str(path)), files.read_json(path)
    merged = dict(new)
    for name, was in old.items():
        now = new.get(name)
        if isinstance(was, dict) and isinstance(now, dict) and {**was, "params": now.get("params")} == now:
            merged[name] = was
    if merged == new:
        return False
    if merged == old:
        files.write_bytes(path, before)
    else:  # as asv writes it (indent 4, sorted keys, no newline at the end), so a run's file and asv's agree
        files.write_text(path, json.dumps(merged, indent=4, sort_keys=True))
    return True


def _started(results: dict) -> dict[str, object]:
    return {key: r._started_at.get(key) for r in results.values() for key in r.get_all_result_keys()}


def provenance(meta_file: Path, before: dict) -> dict[str, dict]:
    """benchmark -> the run that measured its stored value ({"quick": bool, "started": ...}). Results
    from before runs recorded this take the run-level quick flag of their metadata; without any
    metadata they count as quick (replaceable)."""
    meta = files.read_json(meta_file) if meta_file.is_file() else {}  # corrupt: exit 2, never a guess
    stored = meta.get("benchmarks")
    known: dict = stored if isinstance(stored, dict) else {}
    if not all(isinstance(v, dict) for v in known.values()):
        raise files.CorruptFile(f"{meta_file}: 'benchmarks' holds an entry that is not a run's record")
    default = {"quick": bool(meta.get("quick", True)), "started": meta.get("started")}
    return {key: known.get(key, default) for key in _started(before)}


def full_results(prov: dict[str, dict]) -> list[str]:
    """The benchmarks whose stored result a full run measured: what a quick run must leave as it is."""
    return sorted(name for name, run in prov.items() if run.get("quick", True) is False)


def keep_full(before: dict, results_dir: Path, machine: str, commit: str, prov: dict) -> list[str]:
    """Put back every full result a quick run re-measured; the names put back."""
    now = snapshot(results_dir, machine, commit)
    kept = []
    for env, old in before.items():
        cur = now.get(env)
        if cur is None:
            continue
        changed = False
        for key in old.get_all_result_keys():
            if prov.get(key, {}).get("quick", True) or cur._started_at.get(key) == old._started_at.get(key):
                continue
            for name in _FIELDS:
                table = getattr(cur, name)
                if key in getattr(old, name):
                    table[key] = getattr(old, name)[key]
                else:
                    table.pop(key, None)
            kept.append(key)
            changed = True
        if changed:
            save_results(cur, results_dir)
    return sorted(set(kept))


def updated_provenance(prov: dict, before: dict, results_dir: Path, machine: str, commit: str, meta: dict) -> dict:
    """prov, with every benchmark this run stored attributed to it."""
    old = _started(before)
    run = {
        "quick": bool(meta.get("quick")),
        "started": meta.get("started"),
        "accuracy_epochs": meta.get("accuracy_epochs"),
        "processes": meta.get("processes"),
        "dirty": meta.get("dirty"),
        "bench": meta.get("bench"),
    }
    out = dict(prov)
    for key, started in _started(snapshot(results_dir, machine, commit)).items():
        if key not in old or old[key] != started:
            out[key] = run
    return out
