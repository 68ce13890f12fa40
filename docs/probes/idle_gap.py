"""Does a plain PyTorch process run predict (batch 128) slower when it idled, or another process ran,
just before its sample? One worker (the engine's own, a plain process), samples of ~0.15 s in blocks:
back to back, after a JAX predict sample, after 0.15 s idle, after idling and one or three untimed
calls; the kinds in random order within each block, 6 samples of each per block (docs/validation.md,
"Paired against alone, plain processes").

    .venv/bin/python docs/probes/idle_gap.py --blocks 20
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402

PREDICT = r"^throughput\.Predict\."
KINDS = ("back to back", "after a JAX sample", "after idling", "idle + 1 call", "idle + 3 calls")


def staged(framework: str, env: dict):
    worker = rounds.start_worker(rounds.Arm(f"{framework}:cpu", ROOT, framework, "cpu"), PREDICT, env)
    (job,) = worker.ask({"op": "setup", "keys": "128"})["jobs"]
    return worker, job["job"], max(1, int(0.15 / job["once"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=20)
    args = p.parse_args()
    env = rounds.closed_env(worker_env(ROOT, None))
    torch, job, number = staged("torch", env)
    jax, jax_job, jax_number = staged("jax", env)
    blocks = []
    for _ in range(args.blocks):
        block: dict[str, list[float]] = {k: [] for k in KINDS}
        for kind in random.sample(KINDS, len(KINDS)):
            for _ in range(6):
                if kind == "after a JAX sample":
                    jax.ask({"op": "time", "job": jax_job, "number": jax_number})
                elif kind != "back to back":
                    time.sleep(0.15)
                    if kind != "after idling":
                        torch.ask({"op": "time", "job": job, "number": 1 if kind == "idle + 1 call" else 3})
                block[kind].append(torch.ask({"op": "time", "job": job, "number": number})["seconds"])
        blocks.append({k: statistics.median(v) for k, v in block.items()})
    print(f"PyTorch predict @128, {args.blocks} blocks: each kind's median sample over back to back's, per block")
    for kind in KINDS:
        r = np.log([b[kind] / b["back to back"] for b in blocks])
        q = [math.exp(x) for x in np.quantile(r, [0.25, 0.5, 0.75])]
        print(f"  {kind:20s} median {q[1]:.3f}  quartiles {q[0]:.3f} to {q[2]:.3f}")
    torch.close()
    jax.close()


if __name__ == "__main__":
    main()
