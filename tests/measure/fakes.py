"""A fake machine and fake workers for the engine: known per-call times, drift shared by every arm of
a round, per-sample noise, processes that can be slow for their whole life. No framework, no process."""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure.rounds import Arm
from bench.measure.worker import Described

BENCH = "throughput.TrainStep.time_train_step"


@dataclass
class Machine:
    """truth[(framework, key)] = seconds per call; drift: each round's factor is exp(N(0, drift)) and
    it wanders by `wander` (log sd) between consecutive samples; noise: log sd of one sample."""

    truth: dict
    drift: float = 0.3
    wander: float = 0.01
    noise: float = 0.02
    bimodal: dict = field(default_factory=dict)  # framework -> (probability slow, factor)
    seed: int = 0
    spin: dict = field(default_factory=dict)  # framework -> (seconds its idle pool spins after each of its
    # samples, factor on a sample of another process that starts within them): a planted carry-over

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.level = 0.0
        self.round = None
        self.last: tuple[FakeWorker, float] | None = None  # the worker that sampled last, when it ended

    def carried(self, worker: FakeWorker) -> float:
        """The factor on `worker`'s sample starting now from the previous sample's still-spinning pool."""
        if self.last is None or self.last[0] is worker:
            return 1.0
        seconds, factor = self.spin.get(self.last[0].arm.framework, (0.0, 1.0))
        return factor if time.monotonic() < self.last[1] + seconds else 1.0

    def start(self, arm: Arm, bench: str, env: dict):
        return FakeWorker(self, arm)

    def factor(self) -> float:
        self.level += self.rng.gauss(0, self.wander)
        return math.exp(self.level + self.rng.gauss(0, self.noise))


class FakeWorker:
    def __init__(self, machine: Machine, arm: Arm):
        self.m, self.arm = machine, arm
        self.m.level = self.m.rng.gauss(0, self.m.drift)  # a new process: a new round's level
        p, f = machine.bimodal.get(arm.framework, (0.0, 1.0))
        self.slow = f if machine.rng.random() < p else 1.0
        self.jobs = [(key, t) for (fw, key), t in machine.truth.items() if fw == arm.framework]
        self.pending = None
        self.ended: float | None = None
        self.closed = False  # told to quit (the process has exited)
        self.spin = machine.spin.get(arm.framework, (0.0, 1.0))[0]

    def send(self, request):
        self.pending = request

    def receive(self, timeout=None):
        request, self.pending = self.pending, None
        return self.ask(request)

    def ask(self, request):
        if request["op"] == "setup":
            keys = re.compile(request.get("keys") or ".*")
            self.jobs = [(key, t) for key, t in self.jobs if keys.fullmatch(key)]
            return {
                "jobs": [
                    Described(
                        job=i,
                        name=BENCH,
                        param=i,
                        params=[repr(self.arm.framework), "'cpu'", key],
                        param_names=["framework", "device", "batch_size"],
                        all_params=[],
                        version="1",
                        unit="seconds",
                        status="ok",
                        reason="",
                        once=t,
                    ).message()
                    for i, (key, t) in enumerate(self.jobs)
                ]
            }
        if request["op"] == "time":
            seconds = self.jobs[request["job"]][1] * self.slow * self.m.factor() * self.m.carried(self)
            self.ended = time.monotonic()
            self.m.last = (self, self.ended)
            return {"seconds": seconds}
        return {}

    def busy(self) -> bool:
        """Its pool spins for `spin` seconds after each of its samples."""
        return self.ended is not None and time.monotonic() < self.ended + self.spin

    def close(self, interrupted=False):
        self.closed = True
        if self.m.last is not None and self.m.last[0] is self:
            self.m.last = None  # a process that exited spins no more


def arms(*frameworks: str) -> list[Arm]:
    return [Arm(f"{fw}:cpu", Path("."), fw, "cpu") for fw in frameworks]
