"""Do the other workers of a round, idle between their own samples, take CPU while one framework times
its predict (batch 128)? Every framework's worker staged as in a round; then, in random order within
each block, samples of each framework with the others left as they are or stopped (SIGSTOP) for the
sample; per sample, the CPU seconds the others used during it (docs/validation.md, "Paired against
alone, plain processes").

    .venv/bin/python docs/probes/partners.py --blocks 12
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from idle_gap import staged  # noqa: E402  (a worker staged for predict at 128: the other probe's, one copy)

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402

FRAMEWORKS = ("torch", "jax", "tensorflow", "keras-jax", "keras-torch")


def sample(workers: dict, name: str, stop_others: bool) -> tuple[float, float]:
    """One sample of `name` (seconds per call) and the CPU seconds the other workers used meanwhile."""
    worker, job, number = workers[name]
    others = [w for n, (w, _, _) in workers.items() if n != name]
    if stop_others:
        for w in others:
            os.kill(w.proc.pid, signal.SIGSTOP)
    before = sum(w.cpu_seconds() or 0.0 for w in others)
    try:
        seconds = worker.ask({"op": "time", "job": job, "number": number})["seconds"]
    finally:
        after = sum(w.cpu_seconds() or 0.0 for w in others)
        if stop_others:
            for w in others:
                os.kill(w.proc.pid, signal.SIGCONT)
    return seconds, after - before


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=12)
    p.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS))
    args = p.parse_args()
    env = rounds.closed_env(worker_env(ROOT, None))
    workers = {fw: staged(fw, env) for fw in args.frameworks}
    before = {fw: w.cpu_seconds() or 0.0 for fw, (w, _, _) in workers.items()}
    time.sleep(5.0)  # every worker idle, waiting for its next request
    idle = {fw: ((w.cpu_seconds() or 0.0) - before[fw]) / 5.0 * 1e3 for fw, (w, _, _) in workers.items()}
    print("idle workers' CPU, ms per second: " + ", ".join(f"{fw} {ms:.1f}" for fw, ms in idle.items()))
    kinds = [(fw, stop) for fw in args.frameworks for stop in (False, True)]
    per_block = []
    for _ in range(args.blocks):
        got: dict = {k: ([], []) for k in kinds}
        for kind in random.sample(kinds * 4, len(kinds) * 4):
            seconds, cpu = sample(workers, *kind)
            got[kind][0].append(seconds)
            got[kind][1].append(cpu)
        per_block.append({k: (statistics.median(v[0]), sum(v[1]) / len(v[1])) for k, v in got.items()})
    print(f"predict @128, {args.blocks} blocks of 4 samples per kind; others stopped over others free, per block")
    for fw in args.frameworks:
        r = np.log([b[(fw, True)][0] / b[(fw, False)][0] for b in per_block])
        q = [math.exp(x) for x in np.quantile(r, [0.25, 0.5, 0.75])]
        free_ms = statistics.median(b[(fw, False)][0] for b in per_block) * 1e3
        cpu = statistics.mean(b[(fw, False)][1] for b in per_block) * 1e3
        cpu_stopped = statistics.mean(b[(fw, True)][1] for b in per_block) * 1e3
        print(
            f"  {fw:12s} free {free_ms:.2f} ms; stopped/free median {q[1]:.3f} (quartiles {q[0]:.3f} to {q[2]:.3f});"
            f" others' CPU per sample {cpu:.1f} ms free, {cpu_stopped:.1f} ms stopped"
        )
    for w, _, _ in workers.values():
        w.close()


if __name__ == "__main__":
    main()
