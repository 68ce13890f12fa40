"""Time to accuracy paired by seed: equivalent implementations take the same steps per seed, so the
seed-to-seed spread of steps cancels in the framework ratio (synthetic seeds, known truth)."""

from __future__ import annotations

import math

import numpy as np

from bench.measure import stats


def _seeds(rng, n, sec_per_step, noise):
    steps = rng.choice([700, 1000, 1500, 2300], size=n)  # slow and fast seeds: 3x apart
    return steps, [s * sec_per_step * math.exp(rng.normal(0, noise)) for s in steps]


def test_with_equal_steps_per_seed_the_time_ratio_is_as_narrow_as_the_throughput_ratio():
    rng = np.random.default_rng(0)
    widths, unpaired, covered = [], [], 0
    for _ in range(300):
        steps = rng.choice([700, 1000, 1500, 2300], size=3)
        per_step_noise = [math.exp(rng.normal(0, 0.02)) for _ in range(6)]
        torch = [s * 0.010 * per_step_noise[i] for i, s in enumerate(steps)]
        jax = [s * 0.015 * per_step_noise[3 + i] for i, s in enumerate(steps)]
        ratio, low, high, n = stats.paired_by_seed(torch, jax)
        assert n == 3
        covered += low <= 1 / 1.5 <= high
        widths.append(high / ratio - 1)
        # the same data unpaired: each side's own spread over seeds
        _, lo_t, hi_t = stats.rerun_interval(torch)
        unpaired.append(hi_t / lo_t - 1)
        # throughput ratio from the same per-step noise, as the paired rounds would see it (3 pairs)
    throughput = [
        stats.paired_by_seed(
            [0.010 * math.exp(rng.normal(0, 0.02)) for _ in range(3)],
            [0.015 * math.exp(rng.normal(0, 0.02)) for _ in range(3)],
        )
        for _ in range(300)
    ]
    tp_width = float(np.median([h / r - 1 for r, _, h, _ in throughput]))
    assert float(np.median(widths)) <= 1.1 * tp_width  # as narrow as the throughput ratio's
    assert float(np.median(widths)) < 0.15 < float(np.median(unpaired))  # unpaired: the seeds' spread
    assert covered / 300 >= 0.9


def test_seeds_where_one_side_did_not_reach_the_target_are_left_out():
    ratio, low, high, n = stats.paired_by_seed([10.0, None, 12.0], [20.0, 30.0, 24.0])
    assert n == 2 and math.isclose(ratio, 0.5)
