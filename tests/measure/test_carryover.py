"""Carry-over between arms and where a round's time goes, with fake workers whose truth is known: an
arm whose idle pool spins after its sample and slows whatever runs next; workers that take known
seconds to stage and to time."""

from __future__ import annotations

import math
import os
import time

import pytest
from fakes import BENCH, FakeWorker, Machine, arms

from bench.measure import estimate
from bench.measure.rounds import Plan, run_rounds
from bench.measure.sampler import host_steal, where_time_went

TRUTH = {
    ("torch", "128"): 0.010,
    ("jax", "128"): 0.015,
    ("tensorflow", "128"): 0.030,
    ("keras-jax", "128"): 0.020,
    ("keras-torch", "128"): 0.040,
}
FIVE = ("torch", "jax", "tensorflow", "keras-jax", "keras-torch")
SPIN = {"keras-torch": (0.02, 1.10)}  # keras-torch's pool spins 20 ms and slows the next sample by 10%


def _rounds(settle: float, seed: int = 7):
    machine = Machine(TRUTH, drift=0.3, wander=0.003, noise=0.003, seed=seed, spin=SPIN)
    plan = Plan(bench=BENCH, min_rounds=8, max_rounds=8, seed=seed, reference="torch:cpu", settle=settle)
    return run_rounds(arms(*FIVE), plan, {}, start=machine.start)


def _published(frame) -> dict[str, float]:
    return {r.arm.split(":")[0]: r.ratio for r in estimate.ratios(frame, "torch:cpu").itertuples()}


def test_a_planted_carry_over_is_found_without_settling():
    """No settling: torch's samples right after keras-torch's are 10% slower, and the estimate says
    so; the published ratio of keras-torch, bracketed by such a sample, is off by several percent."""
    r = _rounds(settle=0.0)
    carry = estimate.carryover(r.frame).set_index(["after", "arm"])
    planted = carry.loc[("keras-torch:cpu", "torch:cpu")]
    assert planted.low <= 1.10 <= planted.high
    assert abs(planted.ratio - 1.10) < 0.01
    others = carry.drop(("keras-torch:cpu", "torch:cpu"))
    assert (others.ratio - 1).abs().max() < 0.01  # nothing else was planted
    named = estimate.carryover_named(estimate.carryover(r.frame))
    assert list(zip(named.after, named.arm)) == [("keras-torch:cpu", "torch:cpu")]
    biased = _published(r.frame)["keras-torch"] / 4.0 - 1
    assert biased < -0.02  # the bias the interval cannot show


def test_settling_removes_the_carry_over_and_the_ratios_are_unbiased():
    """The engine's default: before a sample it waits until the previous arm's process is idle, so
    the planted spin slows nothing: no carry-over named, every ratio within 1% of the truth."""
    r = _rounds(settle=Plan.settle)
    carry = estimate.carryover(r.frame)
    assert estimate.carryover_named(carry).empty
    assert (carry.ratio - 1).abs().max() < 0.01
    for framework, ratio in _published(r.frame).items():
        true = TRUTH[(framework, "128")] / TRUTH[("torch", "128")]
        assert ratio == pytest.approx(true, rel=0.01), framework
    assert r.phases["settling"] >= 0.02 * 8 * Plan.alternations  # keras-torch's spin was waited out


def test_every_sample_records_the_arm_before_it_and_the_gap():
    r = _rounds(settle=Plan.settle)
    ref = r.frame[r.frame.arm == "torch:cpu"].iloc[0]
    before, gaps = ref.after, ref.gap
    assert len(before) == len(gaps) == len(ref.samples)
    assert set(before) <= {f"{fw}:cpu" for fw in FIVE} | {"-"}
    assert all(g >= 0 for g in gaps)
    after_keras = [g for b, g in zip(before, gaps) if b == "keras-torch:cpu"]
    assert after_keras and min(after_keras) >= 0.02  # the spin waited out before each


def test_carry_over_needs_samples_after_the_arm_itself():
    """Arms only ever sampled after the reference have nothing to compare with: no row, no guess."""
    carry = estimate.carryover(_rounds(settle=0.0).frame)
    assert set(carry.arm) == {"torch:cpu"}
    assert "not estimable" in estimate.describe_carryover(carry.iloc[0:0])


class _Sleepy(FakeWorker):
    """Stages in STAGE seconds and times a sample in its calls' seconds, for real."""

    STAGE = 0.05

    def ask(self, request):
        if request["op"] == "setup":
            time.sleep(self.STAGE)
            return super().ask(request)
        if request["op"] == "time":
            time.sleep(self.jobs[request["job"]][1] * request["number"])
            return {"seconds": self.jobs[request["job"]][1]}
        return {}


def test_efficiency_is_the_share_of_wall_time_in_timed_samples():
    """Three arms staged in 0.05 s each (one after another), samples of 0.04 s: the engine's own
    accounting of a round matches the known durations."""
    truth = {("torch", "128"): 0.004, ("jax", "128"): 0.004, ("tensorflow", "128"): 0.004}
    machine = Machine(truth, drift=0.0, noise=0.0)
    plan = Plan(bench=BENCH, min_rounds=3, max_rounds=3, sample_time=0.04, alternations=4, settle=0.0)
    r = run_rounds(arms("torch", "jax", "tensorflow"), plan, {}, start=lambda a, b, e: _Sleepy(machine, a))
    sampling = 3 * 3 * 4 * 0.04  # rounds x arms x alternations x sample
    staging = 3 * 3 * _Sleepy.STAGE
    calibrating = 3 * 3 * 0.032  # ceil(0.03 / 0.004) calls of 4 ms
    assert r.phases["sampling"] == pytest.approx(sampling, rel=0.15)
    assert r.phases["staging"] == pytest.approx(staging, rel=0.15)
    assert r.phases["calibrating"] == pytest.approx(calibrating, rel=0.15)
    expected = sampling / (sampling + staging + calibrating)
    assert r.efficiency == pytest.approx(expected, rel=0.1)
    assert sum(r.phases.values()) <= r.wall_seconds
    assert not math.isnan(r.efficiency)


class _Unreadable(FakeWorker):
    """A process whose threads cannot be read (no /proc)."""

    def busy(self):
        return None


def test_where_threads_cannot_be_read_the_engine_waits_the_whole_settle():
    plan = Plan(bench=BENCH, min_rounds=1, max_rounds=1, alternations=2, settle=0.01, seed=1)
    machine = Machine({("torch", "128"): 0.01, ("jax", "128"): 0.01}, drift=0.0, noise=0.0)
    r = run_rounds(arms("torch", "jax"), plan, {}, start=lambda a, b, e: _Unreadable(machine, a))
    switches = sum(
        b != row.arm for row in r.frame.itertuples() for b in row.after if b != "-"
    )  # samples after the other arm
    assert switches >= 2
    assert r.phases["settling"] >= 0.01 * switches * 0.9


def test_a_real_worker_reports_its_cpu_time(tmp_path):
    """The client reads a live worker's threads' CPU time from /proc (None where there is none)."""
    import os

    from bench.measure.client import Worker

    w = Worker(tmp_path, "torch", "cpu", "nothing", dict(os.environ))
    try:
        used = w.cpu_seconds()
        if not os.path.isdir("/proc/self/task"):
            assert used is None
            return
        for _ in range(100):  # a process just spawned may not have run, or its count not reached a tick
            if used:
                break
            time.sleep(0.02)
            used = w.cpu_seconds()
        assert used is not None and used > 0
    finally:
        w.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="no /proc")
def test_running_sees_a_spinning_process_at_once_and_a_sleeping_one_as_idle():
    """The settle wait's reading: a process in a busy loop is running at every look, one asleep is
    not, and a process that has gone cannot be read."""
    import subprocess
    import sys

    from bench.measure.client import running

    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    nap = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.3)
        assert all(running(spin.pid) for _ in range(20))
        assert not any(running(nap.pid) for _ in range(20))
    finally:
        for p in (spin, nap):
            p.kill()
            p.wait()
    assert running(spin.pid) is None


def test_each_round_records_the_hosts_steal_and_the_run_names_its_worst_round():
    """A host clock that loses 1.5 s to the hypervisor during round 2: the round's line and the run's
    summary say so; where the kernel does not say (None), nothing is claimed."""
    plan = Plan(bench=BENCH, min_rounds=3, max_rounds=3, alternations=2, settle=0.0, seed=1)
    machine = Machine({("torch", "128"): 0.002, ("jax", "128"): 0.002}, drift=0.0, noise=0.0)
    clock = iter([10.0, 10.1, 10.1, 11.6, 11.6, 11.6])  # read before and after each round
    said: list[str] = []
    r = run_rounds(
        arms("torch", "jax"),
        plan,
        {},
        start=lambda a, b, e: FakeWorker(machine, a),
        log=said.append,
        steal=lambda: next(clock),
    )
    assert r.steal == pytest.approx({1: 0.1, 2: 1.5, 3: 0.0})
    assert "host steal 1.5 s" in said[1] and "host steal 0.1 s" in said[0]
    assert "host steal 1.6 s (most in round 2: 1.5 s)" in where_time_went(r)

    blind = run_rounds(arms("torch", "jax"), plan, {}, start=lambda a, b, e: FakeWorker(machine, a), steal=lambda: None)
    assert blind.steal == {} and "steal" not in where_time_went(blind)


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="the host's steal is read from Linux's /proc/stat")
def test_the_hosts_steal_clock_reads_and_never_runs_backwards():
    first = host_steal()
    second = host_steal()
    assert first is not None and second is not None and 0 <= first <= second
