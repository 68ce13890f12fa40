"""Carry-over between arms: does one framework's sample slow the next sample of another, and why
(docs/findings.md, "Carry-over between arms").

    .venv/bin/python docs/probes/carryover.py keras-torch            # torch's step after keras-torch's
    .venv/bin/python docs/probes/carryover.py keras-torch --pairs 40 --gaps 0 0.05 0.3
    .venv/bin/python docs/probes/carryover.py --idle                 # every framework's CPU after a sample

Two fresh workers (torch and OTHER), train step at batch 128, samples of >= 0.15 s. In random order,
pairs of "OTHER's sample, a pause of GAP s, torch's sample" and "torch's sample, the same pause,
torch's sample": torch's time after OTHER over torch's time after itself is the carry-over at that
pause. Beside it, the CPU seconds OTHER's threads burn (/proc/PID/task/*/schedstat) in the window
from the end of its sample to the end of torch's: a framework whose idle threads spin shows it here.
`--idle`: for each framework alone, the CPU its process burns in the 0.5 s after a sample returns,
in windows, which names the spinning pools without any other process alive.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure.client import Worker  # noqa: E402

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras-jax", "keras-torch")


class Arm:
    """One framework's worker, staged with the train step at batch 128."""

    def __init__(self, framework: str, threads: int | None):
        self.worker = Worker(ROOT, framework, "cpu", r"^throughput\.TrainStep\.", worker_env(ROOT, threads))
        reply = self.worker.ask({"op": "setup", "keys": "128"})
        self.job = next(j for j in reply["jobs"] if j["status"] == "ok")
        self.number = max(1, math.ceil(0.15 / self.job["once"]))

    def cpu(self) -> float:
        """CPU seconds the process's threads have used (the engine's own reading, client.Worker)."""
        return self.worker.cpu_seconds() or 0.0

    def sample(self) -> float:
        return self.worker.ask({"op": "time", "job": self.job["job"], "number": self.number})["seconds"]


def carryover(other: str, victim: str, pairs: int, gaps: list[float], threads: int | None) -> None:
    ref, arm = Arm(victim, threads), Arm(other, threads)
    try:
        for _ in range(3):
            ref.sample(), arm.sample()
        trials = [(g, first) for g in gaps for first in ("other", "self") for _ in range(pairs)]
        random.Random(0).shuffle(trials)
        after: dict[tuple[float, str], list[float]] = {}
        burnt: dict[float, list[float]] = {}
        for gap, first in trials:
            (arm if first == "other" else ref).sample()
            cpu0 = arm.cpu()
            time.sleep(gap)
            value = ref.sample()
            if first == "other":
                burnt.setdefault(gap, []).append(arm.cpu() - cpu0)
            after.setdefault((gap, first), []).append(value)
        print(f"{victim}'s train step @128 after {other}'s sample against after its own, {pairs} pairs per cell:")
        for gap in gaps:
            o, s = after[(gap, "other")], after[(gap, "self")]
            ratio = statistics.median(o) / statistics.median(s)
            print(
                f"  pause {gap:.3f} s: {victim} {ratio - 1:+.1%} slower after {other} "
                f"(medians {statistics.median(o) * 1e3:.2f} / {statistics.median(s) * 1e3:.2f} ms per step); "
                f"{other}'s threads meanwhile used {statistics.median(burnt[gap]) * 1e3:.0f} ms of CPU"
            )
    finally:
        ref.worker.close()
        arm.worker.close()


def idle(frameworks: list[str], threads: int | None, repeats: int = 8) -> None:
    windows = [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5]
    print(
        "CPU ms each framework's process burns after a sample returns, nothing else timed (median of "
        f"{repeats}); windows in s after the reply:"
    )
    print("  framework    " + "  ".join(f"{a:.2f}-{b:.2f}" for a, b in zip(windows, windows[1:])))
    for fw in frameworks:
        arm = Arm(fw, threads)
        try:
            per: list[list[float]] = []
            for _ in range(repeats):
                arm.sample()
                t0, c0 = time.monotonic(), arm.cpu()
                row, last = [], c0
                for edge in windows[1:]:
                    time.sleep(max(0.0, t0 + edge - time.monotonic()))
                    now = arm.cpu()
                    row.append(now - last)
                    last = now
                per.append(row)
            med = [statistics.median(col) * 1e3 for col in zip(*per)]
            print(f"  {fw:<12} " + "  ".join(f"{m:9.1f}" for m in med))
        finally:
            arm.worker.close()


def company(victim: str, others: list[str], phases: int, samples: int, threads: int | None) -> None:
    """The victim's samples with the other frameworks' staged processes alive but idle, against with
    none of them alive: phases alternate (alone, company, alone, ...), each `samples` samples."""
    ref = Arm(victim, threads)
    try:
        for _ in range(3):
            ref.sample()
        by: dict[str, list[float]] = {"alone": [], "company": []}
        for k in range(phases):
            mode = "alone" if k % 2 == 0 else "company"
            alive = [Arm(o, threads) for o in others] if mode == "company" else []
            try:
                time.sleep(1.0)  # their staging's last spins and exits settle
                cpu0 = [a.cpu() for a in alive]
                values = [ref.sample() for _ in range(samples)]
                burnt = sum(a.cpu() - c for a, c in zip(alive, cpu0))
            finally:
                for a in alive:
                    a.worker.close()
            by[mode].append(statistics.median(values))
            print(
                f"  phase {k + 1} {mode:<8} {victim} {statistics.median(values) * 1e3:.2f} ms per step"
                + (f"; the idle processes used {burnt * 1e3:.0f} ms of CPU meanwhile" if alive else ""),
                flush=True,
            )
        ratio = statistics.median(by["company"]) / statistics.median(by["alone"])
        print(f"{victim} with {', '.join(others)} alive and idle: {ratio - 1:+.1%} per step against alone")
    finally:
        ref.worker.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("other", nargs="?", default="keras-torch", choices=FRAMEWORKS)
    p.add_argument("--victim", default="torch", choices=FRAMEWORKS, help="whose sample is timed after OTHER's")
    p.add_argument("--pairs", type=int, default=30)
    p.add_argument("--gaps", type=float, nargs="+", default=[0.0, 0.05, 0.3])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--idle", action="store_true", help="each framework alone: its CPU after a sample")
    p.add_argument("--company", nargs="+", choices=FRAMEWORKS, help="time --victim alone and with these alive")
    p.add_argument("--phases", type=int, default=6)
    a = p.parse_args()
    if a.company:
        company(a.victim, a.company, a.phases, a.pairs, a.threads)
    elif a.idle:
        idle(list(FRAMEWORKS), a.threads)
    else:
        carryover(a.other, a.victim, a.pairs, a.gaps, a.threads)


if __name__ == "__main__":
    main()
