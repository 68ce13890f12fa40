"""Does what the CPUs do between two of PyTorch's samples move the second? One plain PyTorch worker,
predict at batch 128 (~0.15 s samples), each sample after a 0.2 s gap: none (back to back), both CPUs
idle, one CPU busy (a spinning process), both busy (two), a JAX predict sample (as in a paired
round), or a JAX sample and then 0.05 s of PyTorch's own calls untimed; in random order, 5 of each kind per block. Per kind: the median sample over back to back's,
and the share of samples over 1.2x back to back's median (docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/gap_load.py --blocks 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from idle_gap import staged  # noqa: E402

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402

KINDS = ("back to back", "CPUs idle", "one CPU busy", "both CPUs busy", "a JAX sample", "JAX, then warm-up")
WARM = 0.05  # seconds of untimed calls before the sample, for "JAX, then warm-up"
GAP = 0.2
SPIN = "import sys, time\nfor line in sys.stdin:\n    end = time.perf_counter() + float(line)\n    while time.perf_counter() < end:\n        pass\n    print(flush=True)\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=10)
    args = p.parse_args()
    env = rounds.closed_env(worker_env(ROOT, None))
    torch, jax = staged("torch", env), staged("jax", env)
    spinners = [
        subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]

    def spin(n: int) -> None:
        for s in spinners[:n]:
            s.stdin.write(f"{GAP}\n")
            s.stdin.flush()
        for s in spinners[:n]:
            s.stdout.readline()

    def sample(worker) -> float:
        return worker[0].ask({"op": "time", "job": worker[1], "number": worker[2]})["seconds"]

    got: dict[str, list[float]] = {k: [] for k in KINDS}
    for _ in range(args.blocks):
        for kind in random.sample(KINDS * 5, len(KINDS) * 5):
            if kind == "CPUs idle":
                time.sleep(GAP)
            elif kind == "one CPU busy":
                spin(1)
            elif kind == "both CPUs busy":
                spin(2)
            elif kind == "a JAX sample":
                sample(jax)
            elif kind == "JAX, then warm-up":
                sample(jax)
                torch[0].ask({"op": "time", "job": torch[1], "number": max(1, round(torch[2] * WARM / 0.15))})
            got[kind].append(sample(torch))
    b2b = statistics.median(got["back to back"])
    print(f"PyTorch predict @128, {args.blocks} blocks; back to back {b2b * 1e3:.2f} ms per call")
    for kind in KINDS:
        s = got[kind]
        slow = sum(x > 1.2 * b2b for x in s) / len(s)
        print(
            f"  {kind:15s} median {statistics.median(s) / b2b:.3f}, mean {statistics.mean(s) / b2b:.3f}, over 1.2x: {slow:.0%}"
        )
    for s in spinners:
        s.kill()
    torch[0].close()
    jax[0].close()


if __name__ == "__main__":
    main()
