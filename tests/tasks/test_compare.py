"""bench/tasks/compare.py: the paired comparison's bookkeeping (its statistics are tested in test_stats.py)."""

from __future__ import annotations

import pandas as pd


def test_compare_never_calls_a_pair_skipped_on_both_sides_failed():
    from bench.tasks.compare import estimates

    rows = [
        {
            "framework": "torch",
            "device": "gpu",
            "benchmark": "throughput.TrainStep.time_train_step",
            "param": 0,
            "params": "torch, gpu, 32",
            "key": "32",
            "round": 1,
            "arm": side,
            "value": float("nan"),
            "status": "skipped",
            "reason": "no GPU",
        }
        for side in ("base", "head")
    ]
    assert estimates(pd.DataFrame(rows), 0.03, 0.95).empty


def _gone_rows():
    """A benchmark that ran at base and is skipped at head with the framework's import error."""
    common = {
        "framework": "torch",
        "device": "cpu",
        "benchmark": "throughput.TrainStep.time_train_step",
        "param": 1,
        "params": "torch, cpu, 128",
        "key": "128",
    }
    rows = []
    for r in range(1, 7):
        rows.append({**common, "round": r, "arm": "base", "value": 0.01, "samples": (), "status": "ok", "reason": ""})
        rows.append(
            {
                **common,
                "round": r,
                "arm": "head",
                "value": float("nan"),
                "samples": (),
                "status": "skipped",
                "reason": "NotImplementedError(\"torch is not usable here: No module named 'torchh'\")",
            }
        )
    return pd.DataFrame(rows)


def test_a_benchmark_that_ran_at_base_and_not_at_head_fails_the_gate_with_the_reason():
    from bench.tasks.compare import estimates, exit_status

    v = estimates(_gone_rows(), 0.03, 0.95)
    assert list(v.verdict) == ["failed"] and "torchh" in v.reason.iloc[0] and "ran at base" in v.reason.iloc[0]
    assert exit_status(v) == 1


def test_an_intended_removal_is_named_and_passes():
    from bench.tasks.compare import estimates, exit_status

    v = estimates(_gone_rows(), 0.03, 0.95, allow_gone=r"TrainStep.*\(torch, cpu, 128\)")
    assert list(v.verdict) == ["gone"] and "on purpose" in v.reason.iloc[0]
    assert exit_status(v) == 0


def test_worktrees_a_killed_compare_left_are_removed_by_the_next_one(tmp_path, monkeypatch):
    """SIGKILL leaves compare's worktrees checked out and registered; the next compare removes and prunes them."""
    import os
    import subprocess
    import sys

    import pytest
    from conftest import make_repo

    from bench.core.errors import RunError
    from bench.tasks.compare import CompareOptions, measure

    repo = tmp_path / "repo"
    make_repo(repo)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    stale = tmp_path / f"seqmnist-compare-{killed.pid}-abcd"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(stale / "base"), "HEAD"], cwd=repo, check=True)

    def worktrees() -> list[str]:
        out = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=repo, capture_output=True, text=True)
        return [line.split(" ", 1)[1] for line in out.stdout.splitlines() if line.startswith("worktree ")]

    assert len(worktrees()) == 2
    with pytest.raises(RunError, match="predates the benchmark suite"):  # stops after its own checkout
        measure(CompareOptions(base="HEAD~1", head="HEAD", root=repo, quiet=True))
    assert not stale.exists() and worktrees() == [str(repo)]
    assert not [p for p in tmp_path.glob("seqmnist-*") if os.path.isdir(p)]


def test_one_interrupt_ends_the_whole_comparison_not_one_framework(tmp_path, monkeypatch):
    """Ctrl-C during the first framework's rounds: no other framework starts, KeyboardInterrupt (exit
    130 at the top) rather than 'nothing to compare', and the worktrees are gone."""
    import subprocess

    import pytest
    from conftest import make_repo

    from bench.measure import rounds
    from bench.store import record
    from bench.tasks import compare

    repo = tmp_path / "repo"
    make_repo(repo)
    (repo / "bench" / "suites").mkdir(parents=True)
    (repo / "bench" / "suites" / "x.py").write_text("")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "suites"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "--allow-empty", "-qm", "head"], cwd=repo, check=True)
    started = []

    def interrupted(opts, trees, framework, device, env, seed, label):
        started.append(label)
        return rounds.Rounds(record.frame_of([]), 1.0, "interrupted after 0 round(s)", [], interrupted=True)

    monkeypatch.setattr(compare, "_rounds", interrupted)
    opts = compare.CompareOptions(base="HEAD~1", head="HEAD", root=repo, quiet=True, frameworks=("torch", "jax"))
    with pytest.raises(KeyboardInterrupt):
        compare.measure(opts)
    assert started == ["torch:cpu"]
    out = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert out.count("\n") == 1


def test_a_change_reads_in_samples_per_second_where_the_benchmark_table_says_so():
    from bench.tasks.compare import change_text

    row = {"ratio": 1.25, "low": 1.2, "high": 1.3, "rounds": 8}
    train = change_text(pd.Series({**row, "benchmark": "throughput.TrainStep.time_train_step"}), 0.95)
    matmul = change_text(pd.Series({**row, "benchmark": "baseline.HostMatmul.time_host_matmul"}), 0.95)
    assert train.startswith("-20.0% samples/s (95% CI") and train.endswith("8 paired rounds")
    assert matmul.startswith("-20.0% speed (1/time)")


def test_compare_forks_its_workers_from_fork_servers_unless_told_fresh_and_closes_them(tmp_path, monkeypatch):
    """compare's rounds start workers as run's do (bench/measure/forks.py, tested in
    tests/measure/test_forks.py): through fork servers by default, closed when the rounds end;
    new interpreters with --fresh-processes."""
    from bench.measure import rounds
    from bench.measure.forks import ForkServers
    from bench.store import record
    from bench.tasks import compare

    seen = []

    def fake_rounds(arms, plan, env, check=None, log=None, start=rounds.start_worker, **kw):
        assert isinstance(start, ForkServers)
        start.servers["base"] = None  # as if a server had been started: close() must clear it
        seen.append(start)
        return rounds.Rounds(record.frame_of([]), 1.0, "stopped", [])

    monkeypatch.setattr(rounds, "run_rounds", fake_rounds)
    trees = {"base": tmp_path / "base", "head": tmp_path / "head"}
    for fresh in (False, True):
        opts = compare.CompareOptions(base="a", head="b", root=tmp_path, quiet=True, fresh_processes=fresh)
        compare._rounds(opts, trees, "torch", "cpu", {}, seed=1, label="torch:cpu")
    forked, fresh_start = seen
    assert not forked.fresh and forked.servers == {}
    assert fresh_start.fresh and fresh_start.servers == {}
