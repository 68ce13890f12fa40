"""The statistics behind compare's verdicts, on synthetic data where the truth is known."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from bench.measure import stats
from bench.tasks.compare import estimates


def test_signed_rank_distribution_matches_brute_force():
    n = 9
    counts = np.zeros(n * (n + 1) // 2 + 1)
    for signs in itertools.product((0, 1), repeat=n):
        counts[sum(r for r, s in zip(range(1, n + 1), signs) if s)] += 1
    assert np.allclose(stats._signed_rank_cdf(n), np.cumsum(counts) / 2**n)


def test_hodges_lehmann_interval_covers_the_truth_at_its_level():
    rng = np.random.default_rng(1)
    hits = sum(lo <= 0.1 <= hi for lo, hi in (stats.hodges_lehmann(rng.normal(0.1, 0.05, 10))[1:] for _ in range(2000)))
    assert 0.93 <= hits / 2000 <= 0.985  # the discrete interval is a little conservative


def test_hodges_lehmann_resists_one_spoiled_round():
    d = np.full(10, 0.10) + np.linspace(-0.01, 0.01, 10)
    d[3] = 2.0  # a neighbour took the machine for one process
    est, lo, hi = stats.hodges_lehmann(d)
    assert abs(est - 0.10) < 0.01 and lo > 0.08


def test_too_few_rounds_give_an_open_interval_and_no_verdict():
    p = stats.paired_logs([math.log(1.5)] * 4)
    assert not p.settled and stats.verdict(p, 0.03) == "inconclusive"


@pytest.mark.parametrize("ratio, expected", [(1.10, "regression"), (0.90, "improvement"), (1.0, "unchanged")])
def test_verdict_needs_the_whole_interval_beyond_the_threshold(ratio, expected):
    rng = np.random.default_rng(2)
    base = np.exp(rng.normal(0, 0.01, 12))
    head = base * ratio * np.exp(rng.normal(0, 0.01, 12))
    assert stats.verdict(stats.paired_logs(np.log(head / base)), 0.03) == expected


def test_a_change_near_the_threshold_is_inconclusive_not_unchanged():
    rng = np.random.default_rng(3)
    base = np.ones(8)
    head = np.exp(0.03 + rng.normal(0, 0.02, 8))
    assert stats.verdict(stats.paired_logs(np.log(head / base)), 0.03) == "inconclusive"


def simulate_round(
    rng,
    shift: float,
    alternations: int = 4,
    drift: float = 0.005,
    sample_sd: float = 0.05,
    process_sd: float = 0.01,
    spike: float = 0.02,
    spell: float = 0.0,
    spell_factor: float = 1.75,
) -> tuple[list[float], list[float]]:
    """One compare round on a noisy shared box, its base and head samples in the order taken:
    machine speed drifts (random walk per sample), each process has its own offset, each sample has
    noise and now and then a spike (+50%, a preempted vCPU); base and head alternate ABBA.
    `spell`: the chance per sample that the machine enters or leaves a slow spell (x1.75, as
    TensorFlow's predict at batch 1024 shows on the 2-core box: 44 vs 77 ms for seconds at a time).
    The defaults give a round's log-ratio an sd of about 5%, spikes included: more than the median
    measured on the 2-core box (0.4-3.9% a round on all 18 benchmarks, `noise` of 2026-11-29)."""
    speed = 0.0
    slow = rng.random() < 0.3 if spell else False
    offset = {"base": rng.normal(0, process_sd), "head": rng.normal(0, process_sd)}
    samples = {"base": [], "head": []}
    order = ["base", "head"] if rng.random() < 0.5 else ["head", "base"]
    for k in range(alternations):
        for side in order if k % 2 == 0 else order[::-1]:
            speed += rng.normal(0, drift)
            slow ^= bool(rng.random() < spell)
            value = math.exp(speed + offset[side] + rng.normal(0, sample_sd) + (shift if side == "head" else 0))
            samples[side].append(value * (1.5 if rng.random() < spike else 1.0) * (spell_factor if slow else 1.0))
    return samples["base"], samples["head"]


def sequential_trial(
    rng, shift: float, threshold: float = 0.03, min_rounds: int = 6, max_rounds: int = 14, **noise
) -> str:
    """compare's procedure for one benchmark: rounds until the verdict is decided or the budget
    (max_rounds: 300 s at ~21 s a round) is spent; the verdict then."""
    logs = []
    for n in range(1, max_rounds + 1):
        logs.append(stats.round_log_ratio(*simulate_round(rng, shift, **noise)))
        if n >= min_rounds and stats.decided(stats.paired_logs(logs), threshold):
            break
    return stats.verdict(stats.paired_logs(logs), threshold)


def round_logs(rng, n: int, shift: float = 0.0, **noise) -> list[float]:
    return [stats.round_log_ratio(*simulate_round(rng, shift, **noise)) for _ in range(n)]


def test_the_simulated_noise_is_at_least_what_the_box_shows():
    rng = np.random.default_rng(9)
    assert 0.04 <= np.std(round_logs(rng, 2000), ddof=1) <= 0.07


def test_under_heavy_noise_a_missed_slowdown_reads_inconclusive_never_unchanged():
    rng = np.random.default_rng(13)
    verdicts = [
        sequential_trial(rng, math.log(1.10), sample_sd=0.12, process_sd=0.05, drift=0.01, spike=0.03)
        for _ in range(300)
    ]
    assert verdicts.count("regression") < len(verdicts)  # the noise does cost power here ...
    assert verdicts.count("unchanged") + verdicts.count("improvement") <= 1  # ... but never a wrong all-clear


def test_a_10_percent_slowdown_is_flagged_in_95_percent_of_trials():
    rng = np.random.default_rng(10)
    verdicts = [sequential_trial(rng, math.log(1.10)) for _ in range(600)]
    assert verdicts.count("regression") / len(verdicts) >= 0.95, pd.Series(verdicts).value_counts()


def test_pure_noise_false_alarms_rarely_enough_for_18_benchmarks():
    """A/A over 3 frameworks x 6 benchmarks: compare must exit 1 in at most 5% of runs, so one
    benchmark may false-alarm in at most ~0.28% of trials."""
    rng = np.random.default_rng(11)
    verdicts = [sequential_trial(rng, 0.0) for _ in range(3000)]
    alarms = sum(v in ("regression", "improvement") for v in verdicts) / len(verdicts)
    assert alarms <= 0.0028, alarms
    assert 1 - (1 - alarms) ** 18 <= 0.05


def test_a_slow_spell_that_starts_inside_a_pair_spoils_that_pair_not_the_round():
    # ABBA: pairs (b0 h0) (h1 b1) (b2 h2) (h3 b3); the machine turns 1.75x slower after b2
    base, head = [1.0, 1.0, 1.0, 1.75], [1.1, 1.1, 1.1 * 1.75, 1.1 * 1.75]
    assert stats.round_log_ratio(base, head) == pytest.approx(math.log(1.1))
    assert abs(math.log(np.mean(head) / np.mean(base)) - math.log(1.1)) > 0.1  # each side's mean is 16% off


def test_with_slow_spells_a_10_percent_slowdown_is_still_flagged_and_noise_still_quiet():
    """Spells of 1.75x that come and go every ~20 samples (TensorFlow's predict at batch 1024 on the
    2-core box): rounds judged pair by pair keep the power; each side's mean loses it (~83% here)."""
    rng = np.random.default_rng(14)
    verdicts = [sequential_trial(rng, math.log(1.10), spell=0.05) for _ in range(600)]
    assert verdicts.count("regression") / len(verdicts) >= 0.95, pd.Series(verdicts).value_counts()
    aa = [sequential_trial(rng, 0.0, spell=0.05) for _ in range(3000)]
    assert sum(v in ("regression", "improvement") for v in aa) / len(aa) <= 0.0028


def test_rounds_needed_predicts_the_power_on_a_noisier_machine():
    """What `noise` tells a user: measure the paired sd A/A, ask for the rounds a 10% change needs;
    running that many rounds then flags it at about the promised rate (95%; the discrete signed-rank
    interval costs a little)."""
    noisy = {"sample_sd": 0.12, "process_sd": 0.05}
    rng = np.random.default_rng(12)
    sd = float(np.std(round_logs(rng, 400, **noisy), ddof=1))
    need = stats.rounds_needed(sd, 0.10, 0.03)
    assert need > 12  # more than the default budget gives here: the noise check must say so
    hits = [
        sequential_trial(rng, math.log(1.10), min_rounds=need, max_rounds=need, **noisy) == "regression"
        for _ in range(300)
    ]
    assert np.mean(hits) >= 0.90


def test_detectable_change_and_rounds_needed_agree():
    sd, threshold = 0.04, 0.03
    n = stats.rounds_needed(sd, 0.10, threshold)
    assert stats.detectable_change(sd, n, threshold) <= 0.10 + 1e-9
    assert stats.detectable_change(sd, n - 1, threshold) > 0.10 - 0.01


def test_rerun_interval_holds_a_rerun_at_its_level():
    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(2000):
        first = np.exp(rng.normal(0, 0.05, 6))
        second = np.exp(rng.normal(0, 0.05, 6))
        centre, lo, hi = stats.rerun_interval(first)
        hits += lo <= math.exp(np.log(second).mean()) <= hi
    assert 0.93 <= hits / 2000 <= 0.97


def test_estimates_turn_rounds_into_verdicts_with_their_interval():
    rows = []
    rng = np.random.default_rng(5)
    for r in range(1, 11):
        for batch, ratio in ((32, 1.15), (128, 1.0)):
            b = 0.01 * math.exp(rng.normal(0, 0.01))
            for side, value in (("base", b), ("head", b * ratio * math.exp(rng.normal(0, 0.01)))):
                rows.append(
                    {
                        "framework": "torch",
                        "device": "cpu",
                        "benchmark": "throughput.TrainStep.time_train_step",
                        "param": batch,
                        "params": f"torch, cpu, {batch}",
                        "key": f"{batch}",
                        "round": r,
                        "arm": side,
                        "value": value,
                        "status": "ok",
                        "reason": "",
                    }
                )
    rows.append(
        {
            "framework": "torch",
            "device": "cpu",
            "benchmark": "throughput.Predict.time_predict",
            "param": 0,
            "params": "torch, cpu, 32",
            "key": "32",
            "round": 1,
            "arm": "head",
            "value": float("nan"),
            "status": "failed",
            "reason": "Traceback ...\nRuntimeError: boom",
        }
    )
    v = estimates(pd.DataFrame(rows), 0.03, 0.95).set_index("param")
    assert v.loc[32, "verdict"] == "regression" and v.loc[128, "verdict"] == "unchanged"
    assert v.loc[32, "change"].startswith("-13.") and "(95% CI" in v.loc[32, "change"]
    assert v.loc[32, "change"].endswith("10 paired rounds")
    assert v.loc[0, "verdict"] == "failed" and "boom" in v.loc[0, "reason"]


def test_compare_takes_its_rounds_from_the_noise_check_of_the_same_host(tmp_path):
    import json

    from bench.tasks import noise

    path = noise.path(tmp_path, "box")
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "fingerprint_id": "abc",
                "date": "today",
                "benchmarks": [{"framework": "torch", "sd": 0.02}, {"framework": "jax", "sd": 0.08}],
            }
        )
    )
    quiet, why = noise.min_rounds_for(tmp_path, "box", "abc", ["torch"], 0.10, 0.03)
    noisy, _ = noise.min_rounds_for(tmp_path, "box", "abc", ["torch", "jax"], 0.10, 0.03)
    assert quiet == stats.MIN_ROUNDS and noisy == stats.rounds_needed(0.08, 0.10, 0.03) > quiet
    assert "noise check of today" in why
    other, why = noise.min_rounds_for(tmp_path, "box", "zzz", ["torch"], 0.10, 0.03)
    assert other is None and "another host" in why
    missing, why = noise.min_rounds_for(tmp_path, "elsewhere", "abc", ["torch"], 0.10, 0.03)
    assert missing is None and "seqmnist-bench noise" in why


def test_one_round_gives_a_verdict_line_without_an_interval():
    rows = [
        {
            "framework": "torch",
            "device": "cpu",
            "benchmark": "throughput.Predict.time_predict",
            "param": 1,
            "params": "torch, cpu, 128",
            "key": "128",
            "round": 1,
            "arm": side,
            "value": value,
            "status": "ok",
            "reason": "",
        }
        for side, value in (("base", 0.010), ("head", 0.011))
    ]
    v = estimates(pd.DataFrame(rows), 0.03, 0.95).iloc[0]
    assert v.verdict == "inconclusive" and "too few rounds for a 95% interval" in v.change


def test_estimates_judge_each_round_pair_by_pair_from_its_samples():
    """rounds.csv keeps each side's samples in the order taken; a spell that begins mid-round must not
    move the verdict (each side's mean would read these rounds as +27% or -14%)."""
    spelled = ([1.0, 1.0, 1.0, 1.75], [1.1, 1.1, 1.925, 1.925])
    unspelled = ([1.75, 1.75, 1.75, 1.0], [1.925, 1.925, 1.1, 1.1])
    rows = []
    for r in range(1, 9):
        base, head = spelled if r % 2 else unspelled
        jitter = 1 + 0.002 * r
        for side, samples in (("base", base), ("head", [v * jitter for v in head])):
            rows.append(
                {
                    "framework": "tensorflow",
                    "device": "cpu",
                    "benchmark": "throughput.Predict.time_predict",
                    "param": 2,
                    "params": "tensorflow, cpu, 1024",
                    "key": "1024",
                    "round": r,
                    "arm": side,
                    "value": float(np.mean(samples)),
                    "samples": tuple(samples),
                    "status": "ok",
                    "reason": "",
                }
            )
    v = estimates(pd.DataFrame(rows), 0.03, 0.95).iloc[0]
    assert v.verdict == "regression" and 1.10 <= v.ratio <= 1.12 and v.sd < 0.01


def test_the_small_rules_written_once_give_the_textbook_values():
    """t interval, rerun interval, robust sd and z: each checked against a hand computation."""
    import math

    from bench.measure import stats

    logs = [0.0, 0.1, 0.2]  # mean 0.1, sd 0.1, t(0.975, 2) = 4.302653
    centre, low, high = stats.t_interval(logs)
    assert centre == pytest.approx(0.1) and high - centre == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-6)
    _, _, wide = stats.t_interval(logs, rerun=True)
    assert wide - centre == pytest.approx(4.302653 * 0.1 * math.sqrt(2 / 3), rel=1e-6)
    assert stats.t_interval([0.5]) == (0.5, -math.inf, math.inf)
    assert stats.robust_sd([1.0, 2.0, 3.0, 4.0, 100.0]) == pytest.approx(1.4826 * 1.0, rel=1e-4)  # MAD 1: 100 ignored
    assert stats.z(0.95) == pytest.approx(1.959964) and stats.z(0.90) == pytest.approx(1.644854, rel=1e-6)


def test_robust_sd_is_scipys_normal_scaled_mad():
    from scipy.stats import median_abs_deviation

    rng = np.random.default_rng(3)
    for n in (2, 3, 6, 7, 40):
        d = rng.standard_t(3, n)
        assert stats.robust_sd(d) == pytest.approx(median_abs_deviation(d, scale="normal"), rel=1e-12)
    assert math.isnan(stats.robust_sd([0.2])) and math.isnan(stats.robust_sd([]))


def test_the_one_verdict_rule_on_intervals_of_head_over_base():
    from bench.measure import stats

    assert stats.THRESHOLD == 0.03
    assert stats.interval_verdict(1.04, 1.10) == "regression"  # wholly beyond +3%
    assert stats.interval_verdict(0.90, 0.96) == "improvement"  # wholly below 1/1.03
    assert stats.interval_verdict(0.98, 1.02) == "unchanged"  # wholly within
    assert stats.interval_verdict(1.01, 1.10) == "inconclusive"  # straddles +3%
    assert stats.interval_verdict(1.2, 1.2) == "regression"  # a point (one process each, no interval)
    assert stats.interval_verdict(float("nan"), 1.1) == "inconclusive"
    assert stats.interval_verdict(1.04, 1.10, threshold=0.05) == "inconclusive"


def test_the_run_to_run_term_is_one_function_the_page_and_the_stop_rule_share():
    """47: one run-to-run term (stats.rerun_term), at its confidence; nothing where unmeasured."""
    import math

    from bench.measure import stats

    assert stats.rerun_term(0.0) == 0.0
    assert stats.rerun_term(0.02) == pytest.approx(math.expm1(1.959964 * 0.02), rel=1e-5)
    assert stats.rerun_term(0.02, 0.99) > stats.rerun_term(0.02)
