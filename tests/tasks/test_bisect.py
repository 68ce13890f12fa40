"""bench/tasks/bisect.py with a fake measurement engine (no framework, milliseconds): a chain of real git
commits whose train step carries a planted slowdown, measured by paired rounds with realistic noise."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import make_repo

from bench.core.errors import RunError
from bench.tasks import bisect
from bench.tasks.compare import CompareOptions, Comparison, estimates

TRAIN = "throughput.TrainStep.time_train_step"
PREDICT = "throughput.Predict.time_predict"


def chain(tmp_path, n: int) -> tuple[object, list[str]]:
    """A repository of n + 1 commits: GOOD, then n more; returns (root, [GOOD, c1, ..., cn])."""
    return tmp_path / "repo", make_repo(tmp_path / "repo", n + 1)


class FakeEngine:
    """Paired rounds of GOOD and one commit: each round's values drift together (30%), each sample 1%
    noise; `train[i]`/`predict[i]`: commit i's time per call over GOOD's; `broken`: commits that fail."""

    def __init__(self, commits, train, predict=None, broken=(), noise=0.01, seed=0):
        self.index = {c: i for i, c in enumerate(commits)}
        self.train, self.predict = train, predict or [1.0] * len(commits)
        self.broken, self.noise = set(broken), noise
        self.rng = np.random.default_rng(seed)
        self.calls: list[tuple[int, int, str]] = []

    def __call__(self, opts: CompareOptions) -> Comparison:
        base, head = self.index[opts.base], self.index[opts.head]
        self.calls.append((base, head, opts.bench, opts.keys))
        if head in self.broken:
            raise RunError(f"{opts.head[:8]}: the head revision's worker failed: SyntaxError")
        rows = []
        for bench, factors in ((TRAIN, self.train), (PREDICT, self.predict)):
            if not re.search(opts.bench, bench):
                continue
            for r in range(1, 9):
                drift = float(np.exp(self.rng.normal(0, 0.3)))
                for side, i in (("base", base), ("head", head)):
                    samples = 0.01 * factors[i] * drift * np.exp(self.rng.normal(0, self.noise, 4))
                    rows.append(
                        dict(framework="torch", device="cpu", benchmark=bench, param=1, params="torch, cpu, 128",
                             key="128", round=r, arm=side, value=float(samples.mean()), samples=(), status="ok",
                             reason="")
                    )  # fmt: skip
        frame = pd.DataFrame(rows)
        return Comparison(opts.base, opts.head, frame, estimates(frame, opts.threshold, 0.95), {}, {})


def run(repo, commits, engine, **kw) -> bisect.Bisection:
    opts = bisect.BisectOptions(good=commits[0], bad=commits[-1], root=repo, quiet=True, **kw)
    return bisect.bisect(opts, measure=engine)


def test_finds_the_planted_commit_and_does_not_blame_a_smaller_slowdown(tmp_path):
    """16 commits: +2% at commit 4 and +10% more at commit 11: commit 11 is the first bad one."""
    repo, commits = chain(tmp_path, 16)
    train = [1.0] * 4 + [1.02] * 7 + [1.02 * 1.10] * 6
    for seed in range(3):
        engine = FakeEngine(commits, train, seed=seed)
        b = run(repo, commits, engine)
        assert b.found and b.first_bad.commit == commits[11], [(s.commit[:8], s.verdict) for s in b.steps]
        assert b.first_bad.low > b.midpoint and "TrainStep" in b.target
        assert len(b.steps) <= 5 and all(call[0] == 0 for call in engine.calls)  # every step against GOOD
        assert engine.calls[1][2:] == (rf"^{TRAIN.replace('.', chr(92) + '.')}$", "128")  # steps: the target only
        assert engine.calls[0][3] is None  # the first comparison: every benchmark and size


def test_a_commit_that_does_not_build_is_skipped(tmp_path):
    repo, commits = chain(tmp_path, 8)
    train = [1.0] * 6 + [1.15] * 3  # first bad: commit 6; commit 4, the first middle, does not build
    engine = FakeEngine(commits, train, broken={4})
    b = run(repo, commits, engine)
    assert b.found and b.first_bad.commit == commits[6], [(commits.index(s.commit), s.verdict) for s in b.steps]
    assert [s.verdict for s in b.steps if s.commit == commits[4]] == ["skip"]


def test_a_skipped_commit_next_to_the_change_leaves_a_range(tmp_path):
    repo, commits = chain(tmp_path, 6)
    train = [1.0] * 3 + [1.15] * 4  # first bad: commit 3, but 3 does not build
    engine = FakeEngine(commits, train, broken={3})
    b = run(repo, commits, engine)
    assert not b.found and b.range == (commits[2], commits[4])
    assert "Not pinned to one commit" in bisect.render(b)


def test_good_and_bad_that_do_not_differ_are_refused(tmp_path):
    repo, commits = chain(tmp_path, 4)
    engine = FakeEngine(commits, [1.0, 1.01, 1.0, 0.99, 1.01])
    with pytest.raises(RunError, match="is not slower than .* beyond 3%"):
        run(repo, commits, engine)
    assert len(engine.calls) == 1  # only the first comparison


def test_bad_before_good_and_unknown_revisions_are_refused(tmp_path):
    repo, commits = chain(tmp_path, 3)
    with pytest.raises(RunError, match="not an ancestor"):
        bisect.check(bisect.BisectOptions(good=commits[3], bad=commits[0], root=repo))
    with pytest.raises(RunError, match="unknown revision"):
        bisect.check(bisect.BisectOptions(good="nosuch", bad=commits[0], root=repo))


def test_the_budget_of_steps_ends_with_the_narrowest_range(tmp_path):
    repo, commits = chain(tmp_path, 16)
    train = [1.0] * 9 + [1.2] * 8
    b = run(repo, commits, FakeEngine(commits, train), max_steps=2)
    assert not b.found and len(b.steps) == 2
    lo, hi = (commits.index(c) for c in b.range)
    assert lo < 9 <= hi and hi - lo <= 5


def test_the_cli_exit_statuses(tmp_path, monkeypatch, capsys):
    from bench import cli

    repo, commits = chain(tmp_path, 6)
    monkeypatch.chdir(repo)
    engine = FakeEngine(commits, [1.0] * 3 + [1.2] * 4)
    monkeypatch.setattr(bisect, "bisect", lambda opts, measure=engine, log=None: _real(opts, engine))
    args = ["bisect", commits[0], commits[-1], "--frameworks", "torch", "--machine", "box"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert f"First bad commit: {commits[3][:12]}" in out and "commit 3" in out
    assert (repo / "results" / "bisect" / "box" / f"{commits[0][:8]}-{commits[-1][:8]}.md").is_file()
    assert cli.main(args + ["--max-steps", "1"]) == 1
    engine.calls.clear()
    assert cli.main(args + ["--params", "128"]) == 0
    assert engine.calls[0][3] == "128"  # --params narrows the first comparison too
    assert cli.main(["bisect", commits[-1], commits[0], "--machine", "box"]) == 2
    assert "not an ancestor" in capsys.readouterr().err


_real = bisect.bisect
