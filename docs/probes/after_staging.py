"""Does a worker keep the CPU busy after it has said it is staged? (docs/findings.md, "The first round
of a run"). A round's first samples are taken as soon as the last worker replies; background work
left in any worker (a compile or cache write in a thread, a pool still spinning) would slow them.

    .venv/bin/python docs/probes/after_staging.py [--reps 2] [FRAMEWORK ...]

Each worker, alone on the machine, stages the quick run's selection (batch 128, no variants) as the
engine's workers do, then is left idle: the CPU seconds its threads use (/proc/PID/task/*/schedstat)
from its setup reply to 0.5, 1, 2, 4 and 8 s after it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure.rounds import Arm, start_worker  # noqa: E402
from bench.tasks.selection import QUICK_KEYS, paired_pattern  # noqa: E402

FRAMEWORKS = ["torch", "tensorflow", "jax", "keras-jax", "keras-torch"]
BENCH = paired_pattern(SimpleNamespace(bench=None, quick=True))  # the quick run's: no variants
MARKS = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds after the setup reply


def idle_cpu(framework: str) -> tuple[float, list[float]]:
    """(seconds to stage, CPU seconds used since the setup reply at each of MARKS)."""
    worker = start_worker(Arm(f"{framework}:cpu", ROOT, framework, "cpu"), BENCH, worker_env(ROOT, None))
    try:
        began = time.monotonic()
        worker.ask({"op": "setup", "keys": QUICK_KEYS})
        replied, at_reply = time.monotonic(), worker.cpu_seconds() or 0.0
        used = []
        for mark in MARKS:
            time.sleep(max(0.0, replied + mark - time.monotonic()))
            used.append((worker.cpu_seconds() or 0.0) - at_reply)
        return replied - began, used
    finally:
        worker.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("frameworks", nargs="*", default=FRAMEWORKS)
    p.add_argument("--reps", type=int, default=2)
    args = p.parse_args()
    print("CPU seconds a staged worker uses after its setup reply, at " + ", ".join(f"{m:g}" for m in MARKS) + " s")
    for _ in range(args.reps):
        for framework in args.frameworks:
            staged, used = idle_cpu(framework)
            print(f"{framework:12s} staged in {staged:4.1f} s; then " + " ".join(f"{u:.3f}" for u in used))


if __name__ == "__main__":
    main()
