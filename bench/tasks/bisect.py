"""`seqmnist-bench bisect GOOD BAD`: the first commit of GOOD..BAD (first parents) that carries a
slowdown, each step decided with the paired-rounds engine `compare` uses.

First GOOD and BAD are compared; the benchmark that regressed most (beyond --threshold) is the one
followed. Its total change R = BAD/GOOD sets the line between "like GOOD" and "like BAD": the
geometric midpoint sqrt(R), so a smaller slowdown elsewhere in the range (2% under a 10% one) is not
blamed. Each step measures a commit against GOOD and calls it bad when the interval of its change lies
wholly above the midpoint, good when wholly below; a commit whose benchmark fails or does not build
is skipped (as `git bisect skip`), one the budget cannot decide is left undecided, and the answer is then
the narrowest range the steps proved.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.core.errors import RunError
from bench.core.repo import GitFailed, find_root, git
from bench.core.text import md_table, md_text, one_line
from bench.measure.stats import THRESHOLD
from bench.store import layout
from bench.tasks import compare

Measure = Callable[[compare.CompareOptions], compare.Comparison]
STEP_ALTERNATIONS = 16  # a step times one benchmark and size: 16 GOOD/commit sample pairs a round (compare's
# 4 spread over every size) keep its round short and its per-round ratio steady


@dataclass
class BisectOptions:
    good: str
    bad: str
    frameworks: tuple[str, ...] = ("torch",)
    devices: tuple[str, ...] = ("cpu",)
    bench: str = compare.DEFAULT_BENCH
    threshold: float = THRESHOLD  # BAD must be slower than GOOD by more than this (its whole interval)
    budget: float = 300.0  # seconds of rounds per step (and for the first comparison)
    max_steps: int = 12
    threads: int | None = None
    seed: int = 0
    root: Path = field(default_factory=Path.cwd)
    quiet: bool = False
    keys: str | None = None  # regex the parameters other than framework and device must match


@dataclass
class Trial:
    commit: str
    subject: str
    verdict: str  # good, bad, skip, undecided
    ratio: float = math.nan  # the followed benchmark's time per call at `commit` over GOOD's
    low: float = math.nan
    high: float = math.nan
    rounds: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class Bisection:
    good: str
    bad: str
    target: str  # the followed benchmark and its parameters
    total: Trial  # BAD against GOOD
    midpoint: float
    steps: list[Trial]
    first_bad: Trial | None  # None: not pinned to one commit
    range: tuple[str, str]  # the narrowest (last good, first bad) proved

    @property
    def found(self) -> bool:
        return self.first_bad is not None


def first_parent_range(root: Path, good: str, bad: str) -> list[tuple[str, str]]:
    """(hash, subject) of the first-parent commits after GOOD up to BAD, oldest first."""
    try:
        git(root, "merge-base", "--is-ancestor", good, bad)
    except GitFailed:
        raise RunError(f"{good[:8]} is not an ancestor of {bad[:8]}: bisect needs GOOD before BAD") from None
    lines = git(
        root, "rev-list", "--first-parent", "--reverse", "--format=%H %s", "--no-commit-header", f"{good}..{bad}"
    )
    return [(line[:40], one_line(line[41:])) for line in lines.splitlines() if line.strip()]  # a subject is
    # someone's text (a pull request's title): control characters shown, never sent to the terminal


def check(opts: BisectOptions) -> tuple[str, str, list[tuple[str, str]]]:
    """(GOOD, BAD, the range between) as hashes; RunError for unknown revisions, GOOD not before BAD,
    or nothing between."""
    root = find_root(opts.root)
    good, bad = compare.revisions(compare.CompareOptions(base=opts.good, head=opts.bad, root=root))
    chain = first_parent_range(root, good, bad)
    if not chain:
        raise RunError(f"no commit between {opts.good} and {opts.bad}")
    return good, bad, chain


def bisect(
    opts: BisectOptions, measure: Measure = compare.measure, log: Callable[[str], None] | None = None
) -> Bisection:
    """Confirm BAD is slower than GOOD, then bisect; see the module's docstring."""
    say = log or (lambda m: None if opts.quiet else print(m, file=sys.stderr, flush=True))
    root = find_root(opts.root)
    base = compare.CompareOptions(
        base=opts.good, head=opts.bad, frameworks=opts.frameworks, devices=opts.devices, bench=opts.bench,
        threshold=opts.threshold, budget=opts.budget, threads=opts.threads, seed=opts.seed, root=root, quiet=opts.quiet,
        keys=opts.keys,
    )  # fmt: skip
    good, bad, chain = check(opts)
    subjects = dict(chain)
    say(f"bisect: {len(chain)} first-parent commit(s) after {good[:8]} up to {bad[:8]}; first, BAD against GOOD")
    started = time.monotonic()
    confirm = measure(replace(base, base=good, head=bad))
    target = _target(confirm.verdicts, opts.threshold, good, bad)
    total = _step(bad, subjects[bad], target, confirm, time.monotonic() - started, 1.0)
    midpoint = math.sqrt(total.ratio)
    total.verdict = "bad"
    key = f"{target.benchmark}({target.params})"
    say(f"bisect: following {key}: BAD is {_pct(total)} against GOOD; a commit is bad above {midpoint - 1:+.1%}")
    narrow = replace(
        base, frameworks=(target.framework,), devices=(target.device,), bench=f"^{re.escape(target.benchmark)}$",
        keys=re.escape(_key(confirm.rounds, target)), threshold=midpoint - 1, alternations=STEP_ALTERNATIONS,
    )  # fmt: skip
    lo, hi = -1, len(chain) - 1  # chain[lo] proved good (-1: GOOD), chain[hi] proved bad
    tried: dict[int, Trial] = {hi: total}
    steps: list[Trial] = []
    while hi - lo > 1 and len(steps) < opts.max_steps:
        pick = _next(lo, hi, tried)
        if pick is None:
            break  # every commit between is skipped or undecided
        commit, subject = chain[pick]
        say(f"bisect: step {len(steps) + 1}: {commit[:8]} {subject[:60]} ({hi - lo - 1} commit(s) left to place)")
        t0 = time.monotonic()
        try:
            c = measure(replace(narrow, base=good, head=commit))
        except RunError as exc:  # it does not build, or its worker cannot start
            step = Trial(commit, subject, "skip", seconds=time.monotonic() - t0, note=str(exc).splitlines()[-1][:200])
        else:
            step = _step(commit, subject, target, c, time.monotonic() - t0, midpoint)
        tried[pick] = step
        steps.append(step)
        say(f"bisect: {commit[:8]} is {step.verdict}" + (f": {_pct(step)}" if step.rounds else f" ({step.note})"))
        if step.verdict == "bad":
            hi = pick
        elif step.verdict == "good":
            lo = pick
    first = tried[hi] if hi - lo == 1 else None
    return Bisection(good, bad, key, total, midpoint, steps, first, (chain[lo][0] if lo >= 0 else good, chain[hi][0]))


def _target(verdicts: pd.DataFrame, threshold: float, good: str, bad: str):
    """The benchmark that regressed most from GOOD to BAD; RunError when none did beyond the threshold."""
    regressed = verdicts[verdicts.verdict == "regression"]
    if regressed.empty:
        seen = "; ".join(f"{r.benchmark}({r.params}): {r.verdict} {compare.outcome(r.change, r.reason)}"
                         for r in verdicts.itertuples())  # fmt: skip
        raise RunError(
            f"{bad[:8]} is not slower than {good[:8]} beyond {threshold:.0%} on any benchmark measured, so there is "
            f"nothing to bisect ({seen or 'nothing comparable'})"
        )
    return regressed.sort_values("ratio").iloc[-1]


def _key(rounds: pd.DataFrame, target) -> str:
    """The followed benchmark's parameters other than framework and device (what each step times alone)."""
    rows = rounds[(rounds.benchmark == target.benchmark) & (rounds.params == target.params)]
    return str(rows.key.iloc[0]) if "key" in rows and len(rows) else ""


def _step(commit: str, subject: str, target, c: compare.Comparison, seconds: float, midpoint: float) -> Trial:
    """The followed benchmark's verdict at `commit`: bad when its interval lies above the midpoint,
    good below, skip when it fails there, undecided when the interval straddles the midpoint."""
    rows = c.verdicts[(c.verdicts.benchmark == target.benchmark) & (c.verdicts.params == target.params)]
    if rows.empty:
        return Trial(commit, subject, "skip", seconds=seconds, note="the benchmark did not run at this commit")
    row = rows.iloc[0]
    if row.verdict in ("failed", "gone", "new", "base failed"):
        return Trial(commit, subject, "skip", seconds=seconds, note=f"{row.verdict}: {str(row.reason)[-200:]}")
    if row.low > midpoint:
        verdict = "bad"
    elif row.high < midpoint:
        verdict = "good"
    else:
        verdict = "undecided"
    return Trial(commit, subject, verdict, row.ratio, row.low, row.high, int(row.rounds), seconds)


def _next(lo: int, hi: int, tried: dict[int, Trial]) -> int | None:
    """The untried commit strictly between lo and hi nearest their middle (skipped ones are passed over)."""
    middle = (lo + hi) / 2
    open_ = [i for i in range(lo + 1, hi) if i not in tried]
    return min(open_, key=lambda i: (abs(i - middle), i)) if open_ else None


def _pct(step: Trial) -> str:
    return f"{step.ratio - 1:+.1%} [{step.low - 1:+.1%}, {step.high - 1:+.1%}] ({step.rounds} rounds)"


def render(b: Bisection) -> str:
    """The bisection as Markdown: the answer, the rule, every step."""
    if b.found:
        assert b.first_bad is not None
        head = (
            f"**First bad commit: {b.first_bad.commit[:12]}** {md_text(b.first_bad.subject)} — {md_text(b.target)} "
            f"{_pct(b.first_bad)} against {b.good[:8]}"
        )
    else:
        head = (
            f"**Not pinned to one commit** within the steps allowed: the first bad commit is after "
            f"{b.range[0][:12]} and at or before {b.range[1][:12]}"
        )
    steps = [b.total, *b.steps]
    table = pd.DataFrame(
        {
            "commit": [s.commit[:8] for s in steps],
            "subject": [s.subject[:60] for s in steps],
            "verdict": [s.verdict for s in steps],
            "change against GOOD": [_pct(s) if s.rounds else s.note for s in steps],
            "seconds": [f"{s.seconds:.0f}" for s in steps],
        }
    )
    return "\n".join(
        [
            f"# Bisect {b.good[:8]}..{b.bad[:8]}",
            "",
            head,
            "",
            f"Followed: {b.target}, BAD {_pct(b.total)} against GOOD. A commit is bad when the 95% interval of its "
            f"change against GOOD lies wholly above {b.midpoint - 1:+.1%} (the geometric midpoint of no change and "
            "BAD's), good when wholly below, skipped when the benchmark fails there, undecided otherwise.",
            "",
            md_table(table, index=False),
            "",
        ]
    )


def save(b: Bisection, root: Path, machine: str) -> Path:
    """results/bisect/<machine>/<good8>-<bad8>.md (not tracked by git)."""
    return files.write_text(layout.bisect_file(root, machine, b.good, b.bad), render(b))
