"""How a round stages its workers: a few at a time (no more than the cores), the slowest first, and
whichever replies first frees its core. Fake workers and pipes, no framework."""

from __future__ import annotations

import os
import random
import select
import time

from fakes import BENCH, FakeWorker, Machine, arms

from bench.measure.client import WorkerError
from bench.measure.rounds import MIN_STAGE_LIMIT, Plan, first_replied, run_rounds, stage_limit, staging_order
from bench.measure.sampler import Spent
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

    def receive(self, timeout=None):
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
    deadlines = {a.name: time.monotonic() + 60 for a in staging}
    assert first_replied(staging, workers, deadlines).name == "jax:cpu"
    os.write(workers["torch:cpu"].write, b'{"jobs": []}\n')
    assert first_replied(staging, workers, deadlines).name == "torch:cpu"  # both ready: the one started first
    for w in workers.values():
        os.close(w.read), os.close(w.write)


class _Hung(_Pipe):
    """A worker stuck while staging: it never replies (a hung import, a deadlocked backend)."""

    def __init__(self, arm):
        super().__init__()
        self.arm, self.waited = arm, []

    def send(self, request):
        pass

    def receive(self, timeout=900):
        self.waited.append(timeout)
        ready, _, _ = select.select([self.read], [], [], timeout)
        if not ready:
            raise WorkerError("worker timed out")
        return {}

    def close(self, interrupted=False):
        os.close(self.read), os.close(self.write)


def test_a_worker_stuck_while_staging_fails_its_row_at_the_runs_staging_limit():
    """46.7: the round waits for a hung worker no longer than Plan.stage_timeout (the run sets it from its
    budget), the row says why, and the other arms are timed."""
    m = _machine()
    hung: list[_Hung] = []

    def start(arm, bench, env):
        if arm.framework == "jax":
            hung.append(_Hung(arm))
            return hung[-1]
        return FakeWorker(m, arm)

    plan = Plan(bench=BENCH, min_rounds=1, max_rounds=1, alternations=2, settle=0.0, stage_timeout=0.5)
    began = time.monotonic()
    r = run_rounds(arms("torch", "jax"), plan, {}, start=start)
    assert time.monotonic() - began < 10
    assert hung and max(hung[0].waited) <= 0.5
    failed = r.frame[r.frame.status == "failed"]
    assert list(failed.arm) == ["jax:cpu"] and "timed out" in failed.reason.iloc[0]
    assert (r.frame[r.frame.arm == "torch:cpu"].status == "ok").all()


def test_the_staging_limit_follows_what_the_framework_took_before():
    plan, spent = Plan(bench=BENCH, stage_timeout=600), Spent()
    (torch,) = arms("torch")
    assert stage_limit(torch, plan, spent) == 600  # never staged: the run's limit
    spent.slowest_stage["torch:cpu"] = 3.0
    assert stage_limit(torch, plan, spent) == MIN_STAGE_LIMIT  # 5 x 3 s, but never below the floor
    spent.slowest_stage["torch:cpu"] = 40.0
    assert stage_limit(torch, plan, spent) == 200
    spent.slowest_stage["torch:cpu"] = 400.0
    assert stage_limit(torch, plan, spent) == 600
