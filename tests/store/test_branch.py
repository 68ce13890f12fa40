"""bench/store/branch.py: the history branch, with a bare repository as the remote: a runner saves its
machine, another runner's push in between is retried, not lost; restore brings every machine back."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from asv_files import BASE, FW2, HEAD, write_results

from bench.core.errors import RunError
from bench.store import branch

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def checkout(tmp_path: Path, name: str, origin: Path) -> Path:
    repo = tmp_path / name
    subprocess.run(["git", "clone", "--quiet", str(origin), str(repo)], check=True, capture_output=True)
    return repo


@pytest.fixture
def origin(tmp_path) -> Path:
    """A remote with one commit of a project (asv.conf.json), as CI's checkout sees it."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "asv.conf.json").write_text("{}")
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=src, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=src, check=True)
    subprocess.run([*GIT, "commit", "-qm", "project"], cwd=src, check=True)
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(src), str(bare)], check=True)
    return bare


def measured(repo: Path, machine: str, commit: str, value: float) -> None:
    write_results(repo / "results" / "asv", machine, commit, 1_700_000_000_000,
                  {"cold_start.ColdStart.timeraw_cold_start": (FW2, [value] * 3, [None] * 3)})  # fmt: skip
    (repo / "results" / "asv" / "benchmarks.json").write_text(json.dumps({"version": 2, machine: {"unit": "s"}}))
    meta = repo / "results" / "meta" / machine
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "fingerprint.json").write_text(json.dumps({"cpu_model": machine}))
    profiles = repo / "results" / "profiles" / machine
    (profiles / "traces").mkdir(parents=True, exist_ok=True)
    (profiles / f"{commit[:8]}.json").write_text(json.dumps({"machine": machine, "breakdowns": []}))
    (profiles / "traces" / "trace.json").write_text("{}")


def on_branch(origin: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(origin), "ls-tree", "-r", "--name-only", "benchmark-results"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.split()


def test_save_then_restore_into_a_fresh_checkout(tmp_path, origin):
    a = checkout(tmp_path, "a", origin)
    assert branch.restore(a) is None  # no branch yet: nothing to do
    measured(a, "gha-cpu", BASE, 1.5)
    saved = branch.save(a, "gha-cpu")
    assert saved.commit and saved.attempts == 1
    assert f"results/asv/gha-cpu/{BASE[:8]}-existing-py_test.json" in on_branch(origin)
    assert "asv.conf.json" not in on_branch(origin)  # the branch holds results only
    assert branch.save(a, "gha-cpu").commit is None  # nothing new: no empty commit
    fresh = checkout(tmp_path, "fresh", origin)
    plan = branch.restore(fresh)
    assert plan.machines == {"gha-cpu": 1}
    assert (fresh / "results" / "meta" / "gha-cpu" / "fingerprint.json").is_file()
    assert (fresh / "results" / "profiles" / "gha-cpu" / f"{BASE[:8]}.json").is_file()  # the step breakdowns
    assert not any("traces" in name for name in on_branch(origin))  # a profile's traces stay local
    assert (
        subprocess.run(["git", "-C", str(a), "worktree", "list"], capture_output=True, text=True).stdout.count("\n")
        == 1
    )


def test_a_push_that_loses_the_race_is_redone_on_top_and_nothing_is_lost(tmp_path, origin, monkeypatch):
    a, b = checkout(tmp_path, "a", origin), checkout(tmp_path, "b", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    measured(b, "gha-gpu", HEAD, 0.9)
    branch.save(a, "gha-cpu")
    real = branch._copy_machine
    raced = []

    def copy_while_b_pushes(root, tree, machine):
        if machine == "gha-cpu" and not raced:  # a's first attempt: b saves between a's fetch and push
            raced.append(None)
            raced[0] = branch.save(b, "gha-gpu")
        return real(root, tree, machine)

    measured(a, "gha-cpu", HEAD, 1.4)  # a's next commit
    monkeypatch.setattr(branch, "_copy_machine", copy_while_b_pushes)
    saved = branch.save(a, "gha-cpu")
    assert saved.attempts == 2 and raced[0].commit
    files = on_branch(origin)
    assert f"results/asv/gha-gpu/{HEAD[:8]}-existing-py_test.json" in files  # b's push survived
    assert f"results/asv/gha-cpu/{HEAD[:8]}-existing-py_test.json" in files
    shown = subprocess.run(["git", "-C", str(origin), "show", "benchmark-results:results/asv/benchmarks.json"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert {"gha-cpu", "gha-gpu"} <= set(json.loads(shown))


def test_save_without_results_or_with_an_unreachable_remote_is_an_error(tmp_path, origin):
    a = checkout(tmp_path, "a", origin)
    with pytest.raises(RunError, match="nothing to save"):
        branch.save(a, "gha-cpu")
    measured(a, "gha-cpu", BASE, 1.5)
    subprocess.run(["git", "-C", str(a), "remote", "set-url", "origin", str(tmp_path / "gone.git")], check=True)
    with pytest.raises(RunError, match="cannot fetch the history branch"):
        branch.save(a, "gha-cpu")


def test_save_takes_the_keys_another_host_under_the_name_was_kept_apart_as(tmp_path, origin):
    """A CI label's runner can be another host next time: run keeps it apart as name-<id>; its history goes too."""
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    measured(a, "gha-cpu-0123abcd", HEAD, 1.1)
    measured(a, "gha-cpu-old", HEAD, 1.1)  # another name, not a key of gha-cpu
    branch.save(a, "gha-cpu")
    saved = {p.split("/")[2] for p in on_branch(origin) if p.startswith("results/asv/gha")}
    assert saved == {"gha-cpu", "gha-cpu-0123abcd"}
