"""The engine's paired rounds over the five frameworks with a chosen settle wait, to see the carry-over
it prevents (docs/findings.md, "Carry-over between arms"; docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/paired.py --settle 0 --rounds 6 --save before.csv    # no wait
    .venv/bin/python docs/probes/paired.py --rounds 6 --save after.csv                # the engine's default

Train step and predict at batch 128 (a quick run's keys), 8 bracketed passes of 0.1 s samples per
round, every framework's fresh process alive together: `run`'s rounds, with Plan.settle set. Prints
the carry-over per (previous arm, arm), the ratios to torch and where the wall time went.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import estimate, rounds  # noqa: E402
from bench.store import record, rounds_file  # noqa: E402
from bench.tasks.run import where_time_went  # noqa: E402

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras-jax", "keras-torch")


def blocks(n: int, samples: int) -> pd.DataFrame:
    """Rounds staged as the engine stages them (every framework's fresh process alive together), but
    each framework's samples taken back to back in one block, frameworks in random order: the
    paired rounds without the alternation. A round's ratio is then the ratio of two blocks' means."""
    import random

    rng = random.Random(int(time.time()))
    plan = rounds.Plan(bench=r"^throughput\.(TrainStep|Predict)\.", keys="128", sample_time=0.1, settle=0.0)
    env = worker_env(ROOT, None)
    rows: list[record.Measurement] = []
    spent = rounds.Spent()
    for round_no in range(1, n + 1):
        arms = [rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu") for fw in FRAMEWORKS]
        workers = {a.name: rounds.start_worker(a, plan.bench, env) for a in arms}
        for w in workers.values():
            w.send({"op": "setup", "keys": "128"})
        jobs = {name: w.receive()["jobs"] for name, w in workers.items()}
        spent.reap()
        sampler = rounds.Sampler(workers, plan.settle, spent)
        for bench in sorted({j["name"] for js in jobs.values() for j in js}):
            rng.shuffle(arms)
            for arm in arms:
                job = next(j for j in jobs[arm.name] if j["name"] == bench and j["status"] == "ok")
                number = max(1, round(plan.sample_time / job["once"]))
                values = [sampler.time(arm.name, job["job"], number)[0] for _ in range(samples)]
                rows.append(
                    rounds._measurement(
                        arm,
                        job,
                        round_no,
                        value=sum(values) / len(values),
                        samples=tuple(values),
                        number=number,
                    )
                )
        for w in workers.values():
            w.send({"op": "quit"})
        spent.quitting += workers.values()
        print(f"round {round_no}/{n} (blocks) done", file=sys.stderr, flush=True)
    spent.reap()
    return record.frame_of(rows)


class _StagedApart:
    """A worker staged as soon as it starts, before the next one starts (the engine stages a round's
    workers side by side): its setup reply is kept and handed to the engine when it asks."""

    def __init__(self, arm: rounds.Arm, bench: str, env: dict, keys: str):
        self.worker = rounds.start_worker(arm, bench, env)
        self.reply = self.worker.ask({"op": "setup", "keys": keys})

    def send(self, request: dict) -> None:
        if request.get("op") != "setup":
            self.worker.send(request)

    def receive(self, timeout: float = 900) -> dict:
        reply, self.reply = self.reply, None
        return reply if reply is not None else self.worker.receive(timeout)

    def ask(self, request: dict) -> dict:
        return self.worker.ask(request)

    def busy(self):
        return self.worker.busy()

    def close(self, interrupted: bool = False) -> None:
        self.worker.close(interrupted)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settle", type=float, default=rounds.Plan.settle, help="seconds (0: no wait)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--save", type=Path, help="write the rounds here (CSV)")
    p.add_argument("--blocks", action="store_true", help="each framework's samples back to back, no alternation")
    p.add_argument(
        "--stage-apart",
        action="store_true",
        help="stage each process before starting the next (the engine stages them side by side)",
    )
    a = p.parse_args()
    if a.blocks:
        frame = blocks(a.rounds, 8)
        if a.save:
            rounds_file.write(frame, a.save)
        from alone import alone_ratios

        print(alone_ratios(frame).to_markdown(index=False, floatfmt=".3f"))
        return
    arms = [rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu") for fw in FRAMEWORKS]
    plan = rounds.Plan(
        bench=r"^throughput\.(TrainStep|Predict)\.",
        keys="128",
        alternations=8,
        sample_time=0.1,
        min_rounds=a.rounds,
        max_rounds=a.rounds,
        seed=int(time.time()),
        reference="torch:cpu",
        settle=a.settle,
    )
    start = (lambda arm, bench, env: _StagedApart(arm, bench, env, "128")) if a.stage_apart else rounds.start_worker
    result = rounds.run_rounds(
        arms, plan, worker_env(ROOT, None), start=start, log=lambda m: print(m, file=sys.stderr, flush=True)
    )
    if a.save:
        rounds_file.write(result.frame, a.save)
    carry = estimate.carryover(result.frame)
    print(f"settle {a.settle:g} s, {a.rounds} rounds: " + where_time_went(result))
    print(estimate.describe_carryover(carry))
    print(carry.to_markdown(index=False, floatfmt=".3f"))
    r = estimate.ratios(result.frame, "torch:cpu")
    print(r.assign(throughput=1 / r.ratio, low=1 / r.high, high=1 / r.low).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
