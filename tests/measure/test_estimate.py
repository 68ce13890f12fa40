"""How a round's ratio is read from two arms' records: sample with sample where they were timed in the same
passes, process with process where each was timed alone (rounds.Plan.one_at_a_time)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.measure import estimate
from bench.store.record import Measurement, frame_of


def _row(arm: str, round_no: int, samples, after, bracket=()) -> Measurement:
    return Measurement(
        arm=arm, framework=arm.split(":")[0], device="cpu", benchmark="throughput.Predict.time_predict", param=0,
        params="", key="128", round=round_no, value=float(np.mean(samples)), samples=tuple(samples),
        after=tuple(after), gap=tuple(0.0 for _ in samples), bracket=tuple(bracket),
    )  # fmt: skip


SLOW_END = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0]  # a process whose window ends in a slow spell of the host


def _frame(alone: bool, rounds: int = 8):
    rows = []
    for r in range(1, rounds + 1):
        jax = [0.015 * f * (1 + 0.01 * r) for f in SLOW_END]
        torch = [0.010 * (1 + 0.01 * r)] * 6
        if alone:
            rows += [_row("jax:cpu", r, jax, ["jax:cpu"] * 6), _row("torch:cpu", r, torch, ["torch:cpu"] * 6)]
        else:
            rows += [_row("jax:cpu", r, jax, ["torch:cpu"] * 6), _row("torch:cpu", r, torch, ["jax:cpu"] * 6)]
    return frame_of(rows)


def test_processes_timed_alone_are_read_by_their_mean_logs_not_sample_by_sample():
    """Alone, sample k of one process has nothing to do with sample k of the other: the round's log ratio
    is the difference of the two processes' mean logs, so the slow spell at the end of jax's window counts
    (a third of its samples at 2x); timed in turn, the pairs' median stands (the spell is the machine's)."""
    alone, together = _frame(alone=True), _frame(alone=False)
    mean = 1.5 * math.exp(np.mean(np.log(SLOW_END)))
    r = estimate.ratios(alone, "torch:cpu").set_index("arm").loc["jax:cpu"]
    assert r.ratio == pytest.approx(mean, rel=1e-6)
    r = estimate.ratios(together, "torch:cpu").set_index("arm").loc["jax:cpu"]
    assert r.ratio == pytest.approx(1.5, rel=1e-6)


def test_timed_together_reads_what_ran_before_each_sample():
    """In turn: some sample follows another arm's (or is bracketed); alone: every sample follows its own
    process; rows that do not say what ran before (older rounds files) count as timed together."""
    alone, together = _frame(alone=True), _frame(alone=False)
    pick = lambda f, arm: f[f.arm == arm]  # noqa: E731
    assert not estimate.timed_together(pick(alone, "jax:cpu"), pick(alone, "torch:cpu"))
    assert estimate.timed_together(pick(together, "jax:cpu"), pick(together, "torch:cpu"))
    unsaid = alone.assign(after=[()] * len(alone))
    assert estimate.timed_together(pick(unsaid, "jax:cpu"), pick(unsaid, "torch:cpu"))
    bracketed = alone.assign(bracket=[(0.01,) * 6] * len(alone))
    assert estimate.timed_together(pick(bracketed, "jax:cpu"), pick(bracketed, "torch:cpu"))


def test_a_cell_of_processes_timed_alone_is_their_mean_log():
    """A cell over processes timed alone is the mean of their logs (a slow spell counts in proportion)."""
    rows = [_row("jax:cpu", r, [0.010] * 6 if r % 4 else [0.020] * 6, ["jax:cpu"] * 6) for r in range(1, 13)]
    cell = estimate.cells(frame_of(rows)).iloc[0]
    assert cell.value == pytest.approx(0.010 * 2 ** (3 / 12), rel=1e-6)
