"""compare end to end on real timings, in a throwaway clone as a pull request would arrive: a commit
that plants a 10 ms sleep in PyTorch's train step is a regression (exit 1), and a comment-only commit
right after it is not (exit 0). Marker timed: make test runs it alone, after the other tests."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import clone_with_tiny_data
from test_pipeline import MACHINE, _commit, _compare, _torch_missing

pytestmark = [pytest.mark.slow, pytest.mark.timed]


@pytest.fixture
def clone(tmp_path):
    if _torch_missing():
        pytest.skip("torch is not installed")
    repo, data = clone_with_tiny_data(tmp_path)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "ci@example.invalid"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "ci"], check=True)
    return repo, data


def test_compare_flags_a_planted_slowdown_and_passes_a_comment_only_commit(clone):
    repo, _ = clone
    _commit(
        repo,
        "impls/torch_lstm.py",
        "        self.optimizer.zero_grad(set_to_none=True)\n",
        "        __import__('time').sleep(0.01)  # planted slowdown\n        self.optimizer.zero_grad(set_to_none=True)\n",
        "planted slowdown",
    )
    proc = _compare(repo, "HEAD~1", "HEAD", params="32")  # the size where 10 ms weighs most
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    store = next((repo / "results" / "compare" / MACHINE).glob("*"))
    report = (store / "regressions.md").read_text()
    assert re.search(r"\| regression +\| throughput\.TrainStep\.time_train_step +\| torch, cpu, 32 ", report), report
    assert "samples/s (95% CI" in report and "6 paired rounds" in report
    assert "torch, cpu, 128" not in report  # --params: only batch 32 was measured
    assert list((store / "asv" / MACHINE).glob("*-paired-rounds.json"))
    # compare wrote nothing tracked: the checkout is as clean as before
    assert (
        subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout
        == ""
    )

    _commit(repo, "impls/torch_lstm.py", "# planted slowdown", "# planted slowdown (comment only)", "comment only")
    proc = _compare(repo, "HEAD~1", "HEAD", bench=r"Predict\.", params="128")  # a second compare right after
    # the first (the forward pass, which the planted line never touches)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "regression" not in proc.stdout.split("full report")[0].split("on " + MACHINE)[1].splitlines()[0]
