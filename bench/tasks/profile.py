"""`profile`: each framework's step broken down by its own profiler, one process per framework, stored
under results/profiles/<machine>/<commit>.json with the traces beside it (traces/, not committed)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.core import files
from bench.core.errors import RunError
from bench.core.repo import find_root, git, worker_env
from bench.store.layout import profile_file, profiles_dir
from bench.workload.breakdown import CATEGORIES, row_key, row_name

MODES = ("train", "predict")
PROFILED_STEPS = 10  # steps under the profiler: enough to average, few enough to keep traces small


@dataclass
class ProfileOptions:
    frameworks: list[str]
    variant: str = "fused"
    device: str = "cpu"
    batch_sizes: list[int] = field(default_factory=lambda: [128])
    modes: tuple[str, ...] = MODES
    steps: int = PROFILED_STEPS
    root: Path = Path(".")
    threads: int | None = None
    timeout: float = 900.0
    trace_root: Path | None = None  # default: results/profiles/<machine>/traces/


def run(opts: ProfileOptions, machine: str, log=print) -> tuple[list[dict], dict[str, str]]:
    """(breakdowns, skipped framework -> why): each framework profiled in a fresh process."""
    root = find_root(opts.root)
    trace_root = opts.trace_root or profiles_dir(root, machine) / "traces"
    breakdowns, skipped = [], {}
    for framework in opts.frameworks:
        spec = {
            "framework": framework,
            "variant": opts.variant,
            "device": opts.device,
            "batch_sizes": opts.batch_sizes,
            "modes": list(opts.modes),
            "steps": opts.steps,
            "trace_root": str(trace_root),
        }
        log(f"{framework}: profiling {', '.join(opts.modes)} at batch {', '.join(map(str, opts.batch_sizes))}")
        # SEQMNIST_PROFILE: implementations compile their profiler hooks in (XLA:CPU's per-op trace events)
        # and may dump what names their ops there (XLA's optimized HLO)
        env = dict(worker_env(root, opts.threads), SEQMNIST_PROFILE=str(trace_root / f"{framework}-compiler-dump"))
        found, why = _worker(spec, env, root, opts.timeout)
        if why:
            skipped[row_name(framework, opts.variant)] = why
            log(f"skip {framework}: {why}")
        breakdowns += found
    return breakdowns, skipped


def _worker(spec: dict, env: dict, root: Path, timeout: float) -> tuple[list[dict], str | None]:
    """Run bench.workload.profile for one framework; (breakdowns, None) or ([], why not)."""
    cmd = [sys.executable, "-m", "bench.workload.profile", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"the profile did not finish within {timeout:.0f} s"
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    skips = [line["skip"] for line in lines if "skip" in line]
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        return [], f"the profiling process failed (exit {proc.returncode}): {tail}"
    if skips:
        return [], skips[0]
    return lines, None


def save(root: Path, machine: str, breakdowns: list[dict], skipped: dict, fingerprint: dict) -> Path:
    """Store this commit's breakdowns, replacing the same (framework, variant, device, mode, batch) and
    keeping the others (a later `profile --framework jax` adds to an earlier full one)."""
    root = find_root(root)
    commit = git(root, "rev-parse", "HEAD")
    path = profile_file(root, machine, commit)
    old = files.read_json(path) if path.exists() else {}

    kept = {row_key(b): b for b in old.get("breakdowns", [])}
    kept.update({row_key(b): b for b in breakdowns})
    still_skipped = {**old.get("skipped", {}), **skipped}
    for b in breakdowns:
        still_skipped.pop(row_name(b["framework"], b["variant"]), None)
    data = {
        "machine": machine,
        "commit": commit,
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # which profile is newest
        "fingerprint": fingerprint,
        "breakdowns": sorted(kept.values(), key=row_key),
        "skipped": still_skipped,
    }
    files.write_json(path, data)
    return path


def check_frameworks(frameworks: list[str], known: tuple[str, ...]) -> None:
    unknown = [f for f in frameworks if f not in known]
    if unknown:
        raise RunError(f"unknown framework {unknown}; choose from {known}")


def render(breakdowns: list[dict]) -> str:
    """One line per breakdown: ms per step in each category, their sum against the unprofiled step,
    and the step's matmuls alone as a share of the step (the reachable ceiling)."""

    short = {
        "matmul": "matmul",
        "fused LSTM kernel": "fused",
        "gates & elementwise": "gates",
        "optimizer": "optim",
        "transfer": "xfer",
        "framework & Python": "rest",
    }
    head = (
        f"{'framework':<12} {'variant':<8} {'mode':<8} {'batch':>5} {'step ms':>8} "
        + " ".join(f"{short[c]:>7}" for c in CATEGORIES)
        + f" {'sum/step':>8} {'ceiling':>8} {'overhead':>8}"
    )
    lines = [head, "-" * len(head)]
    for b in breakdowns:
        cats = b["categories"]
        total = sum(cats.values())
        ceiling = b.get("ceiling_seconds")
        lines.append(
            f"{b['framework']:<12} {b['variant']:<8} {b['mode']:<8} {b['batch_size']:>5} {b['step_seconds'] * 1e3:>8.2f} "
            + " ".join(f"{cats.get(c, 0.0) * 1e3:>7.2f}" for c in CATEGORIES)
            + f" {total / b['step_seconds']:>8.0%} "
            + (f"{ceiling / b['step_seconds']:>8.0%}" if ceiling else f"{'n/a':>8}")
            + f" {b['profiled_seconds'] / b['step_seconds'] - 1:>+8.0%}"
        )
    lines.append(
        "ms per step by category; sum/step: the categories against the step timed without the profiler; "
        "ceiling: the step's matmuls alone, as a share of the step; overhead: the step under the profiler "
        "against without it"
    )
    return "\n".join(lines)
