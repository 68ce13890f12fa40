"""`seqmnist-bench bisect` end to end: a throwaway clone with a short planted chain (the train step 2%
slower, then 30% slower still), real paired measurements of PyTorch: BAD against GOOD, then one step, in
which the 2% commit is called good, so the 30% commit is named.

The slowdown is large enough that every step is decided in the 6 rounds a step always takes (BAD is
about +32%, so a commit is bad above about +15%, far from the 2% commit's +2-4%): with one batch size
(--params 128) the whole bisection took 100 s on the 2-vCPU EPYC, and a step the budget cannot decide
would run to the 300 s budget. Whether a 10%
step is found beside a 2% one, over 16 commits, is the probe's trials (docs/validation.md, "Bisect")."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "probes"))
import bisect_trials  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timed,
    pytest.mark.long,
]  # make test-all; make test: tests/tasks/test_bisect.py


def test_bisect_names_the_commit_that_made_the_step_30pct_slower(tmp_path):
    repo = bisect_trials.clone(tmp_path)
    good = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    hashes = bisect_trials.planted_chain(repo, 2, small_at=1, big_at=2, big=0.30)
    proc = bisect_trials.bisect(repo, good, hashes[-1], "--params", "128")  # one size: each step a short round
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"First bad commit: {hashes[1][:12]}" in proc.stdout, proc.stdout
    assert "the step 30% slower" in proc.stdout and "torch, cpu, 128" in proc.stdout
    log = repo / "results" / "bisect" / "bisect-probe" / f"{good[:8]}-{hashes[-1][:8]}.md"
    assert log.is_file() and hashes[0][:8] not in log.read_text().split("First bad")[1].split("\n")[0]
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert worktrees.count("\n") == 1  # every step's worktrees removed
