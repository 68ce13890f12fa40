"""The statistics behind every verdict and interval: paired log-ratios, Hodges-Lehmann intervals.

Paired rounds (base and head measured back to back, in separate processes) cancel machine drift;
the Hodges-Lehmann estimate with its Wilcoxon signed-rank interval is robust to the odd round that
a neighbour on a shared box spoiled, and distribution-free (Kalibera & Jones 2013 argue for
process-level replication; the signed-rank interval is the classic nonparametric choice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

MIN_ROUNDS = 6  # the fewest paired rounds whose signed-rank interval can reach 95%


@lru_cache(maxsize=256)
def _signed_rank_cdf(n: int) -> np.ndarray:
    """P(W+ <= w) for w = 0..n(n+1)/2 under the null (exact, by counting subsets of ranks)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return np.cumsum(counts) / 2.0**n


def _walsh_rank(n: int, confidence: float) -> int | None:
    """The order statistic k of the Walsh averages bounding a two-sided `confidence` interval:
    the largest k with P(W+ <= k - 1) <= alpha / 2; None if n is too small to reach it."""
    alpha = 1.0 - confidence
    cdf = _signed_rank_cdf(n)
    ok = np.nonzero(cdf <= alpha / 2)[0]
    return int(ok[-1]) + 1 if ok.size else None


def hodges_lehmann(d, confidence: float = 0.95) -> tuple[float, float, float]:
    """Location estimate and distribution-free interval of paired differences `d`:
    (median of Walsh averages, low, high). The interval is (-inf, inf) when `d` is too short."""
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return math.nan, -math.inf, math.inf
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2.0)
    estimate = float(np.median(walsh))
    k = _walsh_rank(n, confidence)
    if k is None:
        return estimate, -math.inf, math.inf
    return estimate, float(walsh[k - 1]), float(walsh[walsh.size - k])


@dataclass(frozen=True)
class Paired:
    """head/base of a lower-is-better quantity (time) from paired rounds, with its interval."""

    ratio: float  # exp(HL estimate of the mean log-ratio): 1.10 = head takes 10% longer
    low: float
    high: float
    rounds: int
    sd: float  # robust sd of one round's log-ratio (MAD-based): the machine's paired noise
    confidence: float

    @property
    def settled(self) -> bool:
        return self.low > 0


def round_log_ratio(base_samples, head_samples) -> float:
    """One round's log(head/base): the median over its pairs (sample k of each side, taken back to
    back in ABBA order) of log(head_k / base_k). A slow spell of the machine that starts or ends
    inside one pair spoils that pair, not the round, as it would spoil one side's mean."""
    b, h = np.asarray(base_samples, dtype=float), np.asarray(head_samples, dtype=float)
    n = min(b.size, h.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(h[:n]) - np.log(b[:n])
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else math.nan


def paired_logs(d, confidence: float = 0.95) -> Paired:
    """Estimate head/base from one log-ratio per paired round."""
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    est, low, high = hodges_lehmann(d, confidence)
    sd = robust_sd(d)
    return Paired(math.exp(est) if d.size else math.nan, math.exp(low), math.exp(high), int(d.size), sd, confidence)


def mixture_logs(d, confidence: float = 0.95) -> Paired:
    """Estimate head/base from one log-ratio per round where the processes are bimodal: the mean of the
    logs with a Student t interval, so each mode counts in the proportion the processes show it (the
    Hodges-Lehmann centre sits in the larger mode and its interval can leave the other out)."""
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    est, low, high = t_interval(d, confidence)
    return Paired(
        math.exp(est) if d.size else math.nan, math.exp(low), math.exp(high), int(d.size), robust_sd(d), confidence
    )


def robust_sd(d) -> float:
    """The median absolute deviation scaled to the sd of normal data, unmoved by the odd spoiled round as
    the verdict's Hodges-Lehmann interval is; nan below two values. scipy's `median_abs_deviation(d,
    scale="normal")` in numpy (tests/measure/test_stats.py checks they agree): scipy's wrapper takes
    0.46 ms a call against 0.09 ms here, and the sequential rule asks every round."""
    d = np.asarray(d, dtype=float)
    if d.size < 2:
        return math.nan
    return float(np.median(np.abs(d - np.median(d)))) / _MAD_NORMAL


_MAD_NORMAL = NormalDist().inv_cdf(0.75)  # the MAD of a standard normal: 0.6745


Z95 = 1.959964  # the two-sided 95% normal quantile (z(0.95), written once for the common case)


def z(confidence: float) -> float:
    """The two-sided normal quantile of `confidence` (1.96 for 0.95)."""
    return Z95 if confidence == 0.95 else NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def rerun_term(tau: float, confidence: float = 0.95) -> float:
    """The run-to-run term of a published ratio as a relative half-width (+-x), from the machine's
    run-to-run log sd `tau` (bench.store.reruns): what one run's interval cannot see. 0 where unmeasured."""
    return math.expm1(z(confidence) * tau) if tau > 0 else 0.0


@lru_cache(maxsize=1024)
def t_quantile(confidence: float, df: float) -> float:
    """The two-sided Student t quantile of `confidence` with `df` degrees of freedom (remembered: scipy's
    ppf costs ~5 ms a call, and a report asks for the same few thousands of times)."""
    from scipy.stats import t

    return float(t.ppf(1 - (1 - confidence) / 2, df))


def t_interval(logs, confidence: float = 0.95, rerun: bool = False) -> tuple[float, float, float]:
    """(mean, low, high) of log values with a Student t interval for their mean; with `rerun`, a
    prediction interval for the mean of as many new values (sd * sqrt(2/n): both means are noisy).
    (mean, -inf, inf) below two values, (nan, -inf, inf) with none."""
    v = np.asarray(logs, dtype=float)
    if v.size == 0:
        return math.nan, -math.inf, math.inf
    centre = float(v.mean())
    if v.size < 2:
        return centre, -math.inf, math.inf
    half = t_quantile(confidence, v.size - 1) * float(v.std(ddof=1)) * math.sqrt((2.0 if rerun else 1.0) / v.size)
    return centre, centre - half, centre + half


THRESHOLD = 0.03  # the one default: the smallest change any verdict calls (compare, report, bisect, change points)
METHOD_CHANGED = "method changed"  # base and head measured by different versions of the benchmark: never a
# regression or an improvement of the framework (asv's `version`, bumped by every change of method)
VERDICTS = (
    "regression",
    "failed",
    "improvement",
    "inconclusive",
    METHOD_CHANGED,
    "new",
    "not measured",
    "gone",
    "base failed",
    "unchanged",
)
# every verdict a comparison gives, worst first: the order every verdict table and summary lists them in
FAILS_GATE = ("regression", "failed")  # what fails a gate: slower or worse beyond the threshold, or broken at head


def status_verdict(base: str, head: str, gone_allowed: bool = False) -> str | None:
    """The one rule for what a benchmark's statuses at base and head say before any value is compared
    (`compare` and `report` alike). A status is ok, failed (invalid counts as failed), skipped, not
    selected (the run did not ask for it: --bench, --quick) or missing. A failure at head is "failed",
    else a failure at base "base failed"; a benchmark head's run did not select is "not measured" and
    fails nothing; one that ran at base and is skipped or missing at head is "failed" unless its removal
    is allowed ("gone"); one new at head is "new". "" when neither side ran (nothing to say), None when
    both ran (their values decide)."""
    base, head = ("failed" if s == "invalid" else s for s in (base, head))
    if head == "failed":
        return "failed"
    if base == "failed":
        return "base failed"
    if head == "not selected":
        return "not measured" if base == "ok" else ""
    if base != "ok" and head != "ok":
        return ""
    if base != "ok":
        return "new"
    if head != "ok":
        return "gone" if gone_allowed else "failed"
    return None


def method_changed(base_version, head_version) -> bool:
    """Whether two results of one benchmark were measured by different methods (both versions known)."""
    known = all(isinstance(v, str) and v for v in (base_version, head_version))
    return known and base_version != head_version


def gate_fails(verdicts) -> bool:
    """The one exit rule of every gate (compare, `report --fail-on-regression`, CI): a regression, or a
    benchmark that fails or no longer runs at head."""
    return any(v in FAILS_GATE for v in verdicts)


def interval_verdict(low: float, high: float, threshold: float = THRESHOLD) -> str:
    """The one verdict rule, on an interval of head/base (> 1: slower or worse): regression / improvement
    when the whole interval lies beyond +-threshold (1 + t above, 1 / (1 + t) below); unchanged when it
    lies wholly within; inconclusive when it straddles a threshold (more rounds would decide)."""
    if not (low <= high) or math.isnan(low):
        return "inconclusive"
    up, down = 1 + threshold, 1 / (1 + threshold)
    if low > up:
        return "regression"
    if high < down:
        return "improvement"
    if down < low and high < up:
        return "unchanged"
    return "inconclusive"


def verdict(p: Paired, threshold: float = THRESHOLD) -> str:
    """interval_verdict of a paired estimate (inconclusive without rounds)."""
    if not p.rounds or math.isnan(p.ratio):
        return "inconclusive"
    return interval_verdict(p.low, p.high, threshold)


def decided(p: Paired, threshold: float) -> bool:
    """No further round can change this benchmark's verdict much: its interval no longer
    straddles either threshold."""
    return verdict(p, threshold) != "inconclusive"


def detectable_change(sd: float, rounds: int, threshold: float, confidence: float = 0.95, power: float = 0.95) -> float:
    """Smallest true change that is flagged (interval wholly beyond `threshold`) with probability
    `power` in `rounds` paired rounds of noise `sd` (normal approximation; the Hodges-Lehmann
    estimate is 3/pi as efficient as the mean on normal data)."""
    if not rounds or not math.isfinite(sd):
        return math.nan
    se = sd / math.sqrt(rounds * 3.0 / math.pi)
    return math.expm1(math.log1p(threshold) + (z(confidence) + _one_sided(power)) * se)


def rounds_needed(sd: float, change: float, threshold: float, confidence: float = 0.95, power: float = 0.95) -> int:
    """Paired rounds for a true `change` to be flagged beyond `threshold` with probability `power`."""
    gap = math.log1p(change) - math.log1p(threshold)
    if gap <= 0 or not math.isfinite(sd):
        return 0 if math.isfinite(sd) and sd == 0 else -1
    both = z(confidence) + _one_sided(power)
    return max(MIN_ROUNDS, math.ceil((both * sd / gap) ** 2 * math.pi / 3.0))


def _one_sided(p: float) -> float:
    return NormalDist().inv_cdf(p)


def paired_by_seed(a, b, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """a/b of two frameworks' values paired by index (the training seed: same init and batches), pairs
    with a side missing or not positive left out: (geometric mean of the per-seed ratios, low, high,
    pairs), a Student t interval on the log-ratios (few seeds: no signed-rank interval reaches 95%
    below six). The seed-to-seed spread both sides share (a slow seed is slow everywhere) cancels."""
    d = [
        math.log(x / y)
        for x, y in zip(a, b)
        if x is not None and y is not None and np.isfinite(x) and np.isfinite(y) and x > 0 and y > 0
    ]
    centre, low, high = t_interval(d, confidence)
    return math.exp(centre) if d else math.nan, math.exp(low), math.exp(high), len(d)


def rerun_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Geometric mean of independent replicates (one value per process) and a `confidence`
    prediction interval for what a rerun of as many processes would give: Student t on the
    logs, sd * sqrt(2/n) (this run's mean and the rerun's are both noisy). (nan, -inf, inf) below
    two replicates."""
    logs = np.log(np.asarray([x for x in values if x is not None and np.isfinite(x) and x > 0], dtype=float))
    centre, low, high = t_interval(logs, confidence, rerun=True)
    return math.exp(centre), math.exp(low), math.exp(high)
