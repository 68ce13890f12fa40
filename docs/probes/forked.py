"""Forked workers against fresh ones: does a worker forked from a fork server that imported its
framework once (bench/measure/forks.py) measure what a fresh process measures? (docs/validation.md,
"Forked workers").

    .venv/bin/python docs/probes/forked.py --rounds 12 --save docs/validation/forked/run-1
    .venv/bin/python docs/probes/forked.py --load docs/validation/forked/run-1

Each round of the engine's own rounds (rounds.run_rounds, plain processes, predict then the train step
at batch 128, samples alternated ABCD DCBA) holds two workers per framework: a fresh process and one
forked from that framework's fork server, in random order. Per framework and benchmark: the forked over
fresh ratio of the per-process median sample, paired by round (Hodges-Lehmann 95% interval); the spread
of each (sd of log of the per-process medians over rounds, with a 95% bootstrap interval over rounds);
the share of slow-mode processes (a median over 1.2x the framework's median over every process of both
kinds); and each kind's staging seconds (import, setup), summed over rounds.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds, stats  # noqa: E402
from bench.measure.forks import ForkServers  # noqa: E402
from bench.store import rounds_file  # noqa: E402

PRELOAD = {"torch": ("torch",), "jax": ("jax", "optax")}
BENCH = r"^throughput\.(TrainStep|Predict)\."
SLOW = 1.2


def measure(frameworks: list[str], n: int) -> tuple[pd.DataFrame, dict]:
    arms = []
    for fw in frameworks:
        arms += [rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu"), rounds.Arm(f"{fw}:cpu@forked", ROOT, fw, "cpu")]
    forks = ForkServers(log=print, preload=lambda fw: PRELOAD.get(fw, ()))

    def start(arm, bench, env):
        return forks(arm, bench, env) if arm.name.endswith("@forked") else rounds.start_worker(arm, bench, env)

    plan = rounds.Plan(bench=BENCH, min_rounds=n, max_rounds=n, keys="128", alternations=4, seed=int(time.time()))
    env = rounds.closed_env(worker_env(ROOT, None))
    try:
        done = rounds.run_rounds(arms, plan, env, start=start, log=print)
    finally:
        forks.close()
    print(f"{done.stopped}; staging per arm, seconds summed over rounds: {done.staged}")
    return done.frame, done.staged


def per_process(frame: pd.DataFrame, kinds: tuple[str, str] = ("fresh", "forked")) -> pd.DataFrame:
    """Each process's median sample, its kind: kinds[1] for the arms named '...@<kinds[1]>', else kinds[0]."""
    ok = frame[(frame.status == "ok") & (frame.benchmark != "(worker)")].copy()
    ok["median"] = [float(np.median(s)) for s in ok.samples]
    ok["kind"] = np.where(ok.arm.str.endswith(f"@{kinds[1]}"), kinds[1], kinds[0])
    ok["bench"] = ok.benchmark.str.split(".").str[1]
    return ok[["framework", "bench", "kind", "round", "median"]]


def sd_interval(logs: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    boot = [np.std(rng.choice(logs, logs.size), ddof=1) for _ in range(2000)]
    return float(np.std(logs, ddof=1)), float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))


def summary(proc: pd.DataFrame, kinds: tuple[str, str] = ("fresh", "forked")) -> pd.DataFrame:
    """Per framework and benchmark: kinds[1] over kinds[0] paired by round, and each kind's median, spread
    and slow-mode count."""
    base, other = kinds
    rng = np.random.default_rng(0)
    rows = []
    for (fw, bench), g in proc.groupby(["framework", "bench"]):
        wide = g.pivot_table(index="round", columns="kind", values="median").dropna()
        est, low, high = stats.hodges_lehmann(np.log(wide[other] / wide[base]))
        cut = SLOW * g["median"].median()
        row = {
            "framework": fw,
            "bench": bench,
            "rounds": len(wide),
            f"{other} / {base}": f"{math.exp(est):.3f} [{math.exp(low):.3f}, {math.exp(high):.3f}]",
        }
        for kind in kinds:
            logs = np.log(g[g.kind == kind]["median"].to_numpy())
            sd, sl, sh = sd_interval(logs, rng)
            row[f"{kind} median ms"] = round(float(np.exp(np.median(logs))) * 1e3, 2)
            row[f"{kind} sd of log"] = f"{sd:.3f} [{sl:.3f}, {sh:.3f}]"
            slow = int((g[g.kind == kind]["median"] > cut).sum())
            row[f"{kind} slow"] = f"{slow}/{logs.size}"
        rows.append(row)
    return pd.DataFrame(rows)


def load_saved(paths: list[Path]) -> pd.DataFrame:
    """Rounds saved before (`--save`), several combined: each file's rounds numbered apart."""
    frames = []
    for i, path in enumerate(paths):
        f = rounds_file.load(Path(f"{path}.csv"))
        f["round"] = f["round"] + 1000 * i
        frames.append(f)
    return pd.concat(frames)


def save(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rounds_file.write(frame, Path(f"{path}.csv"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frameworks", nargs="+", default=list(PRELOAD))
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--save", type=Path, help="write the rounds to SAVE.csv")
    p.add_argument("--load", type=Path, nargs="+", help="only read rounds saved before (several: combined)")
    args = p.parse_args()
    if args.load:
        frame = load_saved(args.load)
    else:
        frame, _ = measure(args.frameworks, args.rounds)
        if args.save:
            save(frame, args.save)
    print(summary(per_process(frame)).to_markdown(index=False))


if __name__ == "__main__":
    main()
