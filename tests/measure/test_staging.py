"""How a round stages its workers: a few at a time (no more than the cores), the slowest first, and
whichever replies first frees its core. Fake workers and pipes, no framework."""

from __future__ import annotations

import os
import random

from fakes import BENCH, FakeWorker, Machine, arms

from bench.measure.rounds import Plan, first_replied, run_rounds, staging_order
from impls.threads import usable_cores

STAGE = {"torch": 1.0, "jax": 3.0, "tensorflow": 5.0, "keras-torch": 4.0, "keras-jax": 2.0}  # seconds


class _Counted(FakeWorker):
    """Counts the workers staging at once (sent setup, reply not taken), reports its staging seconds
    and logs the order workers start staging in."""

    def send(self, request):
        if request["op"] == "setup":
            self.m.staging += 1
            self.m.most = max(self.m.most, self.m.staging)
            self.m.started.append(self.arm.framework)
        super().send(request)

    def receive(self):
        reply = super().receive()
        if "jobs" in reply:
            self.m.staging -= 1
            reply["staged"] = {"import": STAGE[self.arm.framework] / 2, "setup": STAGE[self.arm.framework] / 2}
        return reply


def _machine() -> Machine:
    m = Machine({(fw, "128"): 0.001 for fw in STAGE}, drift=0.0, noise=0.0)
    m.staging, m.most, m.started = 0, 0, []
    return m


def test_no_more_workers_stage_at_once_than_asked_and_the_slowest_start_first():
    m = _machine()
    plan = Plan(bench=BENCH, min_rounds=3, max_rounds=3, alternations=2, settle=0.0, stage_at_once=2)
    r = run_rounds(arms(*STAGE), plan, {}, start=lambda a, b, e: _Counted(m, a))
    assert m.most == 2
    assert len(r.frame[r.frame.status == "ok"].arm.unique()) == 5  # every arm staged and timed
    slowest_first = sorted(STAGE, key=lambda fw: -STAGE[fw])
    assert m.started[5:10] == slowest_first and m.started[10:] == slowest_first  # rounds 2 and 3
    assert r.staged["tensorflow:cpu"]["import"] == 3 * 2.5


def test_by_default_as_many_stage_at_once_as_the_cores_this_process_may_use():
    m = _machine()
    plan = Plan(bench=BENCH, min_rounds=1, max_rounds=1, alternations=2, settle=0.0)
    run_rounds(arms(*STAGE), plan, {}, start=lambda a, b, e: _Counted(m, a))
    assert m.most == min(5, usable_cores())


def test_the_first_round_starts_in_random_order():
    orders = {tuple(a.name for a in staging_order(arms(*STAGE), {}, random.Random(s))) for s in range(8)}
    assert len(orders) > 1


class _Pipe:
    """A worker's reply pipe and nothing else."""

    def __init__(self):
        self.read, self.write = os.pipe()

    def fileno(self) -> int:
        return self.read


def test_the_worker_that_replies_first_frees_its_core_not_the_first_started():
    staging = arms("torch", "jax", "tensorflow")
    workers = {a.name: _Pipe() for a in staging}
    os.write(workers["jax:cpu"].write, b'{"jobs": []}\n')
    assert first_replied(staging, workers).name == "jax:cpu"
    os.write(workers["torch:cpu"].write, b'{"jobs": []}\n')
    assert first_replied(staging, workers).name == "torch:cpu"  # both ready: the one started first
    for w in workers.values():
        os.close(w.read), os.close(w.write)
