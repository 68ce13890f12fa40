"""Each framework measured alone: the check that the paired rounds' alternation does not bias the
published ratios (docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/alone.py --rounds 6                  # every framework, train/predict @128
    .venv/bin/python docs/probes/alone.py --rounds 6 --paired results/rounds/MACHINE/COMMIT.csv

Each round starts one fresh worker per framework, in random order, one at a time: nothing else
alive while it stages and takes its samples back to back (the engine's own rounds.one_round with a
single arm), then it quits before the next starts. A round's ratio of a framework to PyTorch is the
ratio of the two processes' mean logs; the interval is the Hodges-Lehmann one over rounds, as the
engine's. With --paired, the table sets these beside the ratios estimated from a run's rounds file.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import estimate, rounds, stats  # noqa: E402
from bench.store import rounds_file  # noqa: E402

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras-jax", "keras-torch")
BENCH = r"^throughput\.(TrainStep|Predict)\."


def alone_rounds(frameworks: list[str], n: int, alternations: int, sample_time: float) -> pd.DataFrame:
    plan = rounds.Plan(bench=BENCH, keys="128", alternations=alternations, sample_time=sample_time, settle=0.0)
    env = worker_env(ROOT, None)
    rng = random.Random(int(time.time()))
    rows = []
    for round_no in range(1, n + 1):
        order = list(frameworks)
        rng.shuffle(order)
        for fw in order:
            arm = rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu")
            spent = rounds.Spent()
            rows += rounds.one_round([arm], plan, env, round_no, rng, spent=spent)
            spent.reap()  # it has exited before the next one starts
        print(f"round {round_no}/{n} done", file=sys.stderr, flush=True)
    return rounds.frame_of(rows)


def alone_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Per framework, benchmark and key: throughput ratio to torch from per-round means of logs."""
    ok = estimate.ok_rows(frame)
    out = []
    for (bench, key), group in ok.groupby(["benchmark", "key"]):
        logs = group.assign(log=[float(np.mean(np.log(estimate._samples(s)))) for s in group.samples])
        ref = logs[logs.framework == "torch"].set_index("round").log
        for fw, rows in logs[logs.framework != "torch"].groupby("framework"):
            d = (rows.set_index("round").log - ref).dropna().to_numpy()
            p = stats.paired_logs(d)
            out.append(
                {
                    "framework": fw,
                    "benchmark": bench,
                    "key": key,
                    "alone": 1 / p.ratio,
                    "alone_low": 1 / p.high,
                    "alone_high": 1 / p.low,
                    "alone_rounds": p.rounds,
                }
            )
    return pd.DataFrame(out)


def paired_ratios(path: Path) -> pd.DataFrame:
    frame = rounds_file.load(path)
    r = estimate.ratios(frame, "torch:cpu")
    return pd.DataFrame(
        {
            "framework": r.arm.str.split(":").str[0],
            "benchmark": r.benchmark,
            "key": r.key,
            "paired": 1 / r.ratio,
            "paired_low": 1 / r.high,
            "paired_high": 1 / r.low,
            "paired_rounds": r.rounds,
        }
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--alternations", type=int, default=8, help="samples per process and benchmark")
    p.add_argument("--sample-time", type=float, default=0.1)
    p.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS))
    p.add_argument("--paired", type=Path, help="a run's rounds file to set beside")
    p.add_argument("--save", type=Path, help="write the alone rounds here (CSV)")
    p.add_argument("--add", type=Path, help="an earlier --save of this probe: its rounds are added to these")
    a = p.parse_args()
    frame = alone_rounds(a.frameworks, a.rounds, a.alternations, a.sample_time) if a.rounds else rounds.frame_of([])
    if a.add:
        old = rounds_file.load(a.add)
        frame = pd.concat([old, frame.assign(round=frame["round"] + int(old["round"].max()))], ignore_index=True)
    if a.save:
        frame.to_csv(a.save, index=False)
    table = alone_ratios(frame)
    if a.paired:
        table = table.merge(paired_ratios(a.paired), on=["framework", "benchmark", "key"], how="left")
        table["alone_in_paired"] = [  # the alone estimate inside the published interval
            pl <= al <= ph if not math.isnan(pl) else None
            for pl, ph, al in zip(table.paired_low, table.paired_high, table.alone)
        ]
        table["overlap"] = [
            not (ph < al or pl > ah) if not math.isnan(pl) else None
            for pl, ph, al, ah in zip(table.paired_low, table.paired_high, table.alone_low, table.alone_high)
        ]
    table["benchmark"] = table.benchmark.str.split(".").str[1]
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
