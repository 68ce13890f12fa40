"""bench/tasks/history.py: the history branch, with a bare repository as the remote: a runner saves its
machine, another runner's push in between is retried, not lost; restore brings every machine back."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from asv_files import BASE, FW2, HEAD, write_results

from bench.core.errors import RunError
from bench.tasks import history

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
    assert history.restore(a) is None  # no branch yet: nothing to do
    measured(a, "gha-cpu", BASE, 1.5)
    saved = history.save(a, "gha-cpu")
    assert saved.commit and saved.attempts == 1
    assert f"results/asv/gha-cpu/{BASE[:8]}-existing-py_test.json" in on_branch(origin)
    assert "asv.conf.json" not in on_branch(origin)  # the branch holds results only
    assert history.save(a, "gha-cpu").commit is None  # nothing new: no empty commit
    fresh = checkout(tmp_path, "fresh", origin)
    plan = history.restore(fresh)
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
    history.save(a, "gha-cpu")
    real = history.push
    raced = []

    def push_after_b(root, remote, commit, name):
        if root == a and not raced:  # a's first attempt: b saves between a's fetch and push
            raced.append(None)
            raced[0] = history.save(b, "gha-gpu")
        return real(root, remote, commit, name)

    measured(a, "gha-cpu", HEAD, 1.4)  # a's next commit
    monkeypatch.setattr(history, "push", push_after_b)
    saved = history.save(a, "gha-cpu")
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
        history.save(a, "gha-cpu")
    measured(a, "gha-cpu", BASE, 1.5)
    subprocess.run(["git", "-C", str(a), "remote", "set-url", "origin", str(tmp_path / "gone.git")], check=True)
    with pytest.raises(RunError, match="cannot fetch the history branch"):
        history.save(a, "gha-cpu")


def test_a_server_that_refuses_the_push_is_named_at_once_not_retried(tmp_path, origin):
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'GH006: Protected branch update failed' >&2\nexit 1\n")
    hook.chmod(0o755)
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    said = []
    with pytest.raises(RunError, match="cannot push the history branch.*GH006: Protected branch") as refused:
        history.save(a, "gha-cpu", log=said.append)
    assert said == [] and "kept moving" not in str(refused.value)  # one attempt: the server said no
    assert (
        "benchmark-results"
        not in subprocess.run(["git", "-C", str(origin), "branch"], capture_output=True, text=True, check=True).stdout
    )


def test_save_takes_the_keys_another_host_under_the_name_was_kept_apart_as(tmp_path, origin):
    """A CI label's runner can be another host next time: run keeps it apart as name-<id>; its history goes too."""
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    measured(a, "gha-cpu-0123abcd", HEAD, 1.1)
    measured(a, "gha-cpu-old", HEAD, 1.1)  # another name, not a key of gha-cpu
    history.save(a, "gha-cpu")
    saved = {p.split("/")[2] for p in on_branch(origin) if p.startswith("results/asv/gha")}
    assert saved == {"gha-cpu", "gha-cpu-0123abcd"}


# ---------------------------------------------------------------- the branch as untrusted input


def poisoned(tmp_path: Path, origin: Path, add) -> Path:
    """A runner's honest save, then someone's commit on the branch made by `add(tree)` in a checkout
    of it: what a careless or hostile push leaves there."""
    a = checkout(tmp_path, "honest", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    history.save(a, "gha-cpu")
    tree = tmp_path / "hostile"
    subprocess.run(["git", "clone", "--quiet", "-b", "benchmark-results", str(origin), str(tree)], check=True)
    add(tree)
    subprocess.run([*GIT, "-C", str(tree), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(tree), "commit", "-qm", "poison"], check=True)
    subprocess.run(["git", "-C", str(tree), "push", "--quiet", "origin", "HEAD:benchmark-results"], check=True)
    return a


def test_a_folder_on_the_branch_replaced_by_a_link_is_refused_and_nothing_outside_is_touched(tmp_path, origin):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("a runner's own file")

    def link_meta(tree):
        import shutil

        shutil.rmtree(tree / "results" / "meta")
        (tree / "results" / "meta").symlink_to(outside)

    a = poisoned(tmp_path, origin, link_meta)
    measured(a, "gha-cpu", HEAD, 1.4)
    with pytest.raises(history.BranchError, match="results/meta: a symbolic link"):
        history.save(a, "gha-cpu")
    assert [p.name for p in outside.iterdir()] == ["keep.txt"] and (outside / "keep.txt").read_text()
    fresh = checkout(tmp_path, "fresh", origin)
    with pytest.raises(history.BranchError, match="results/meta: a symbolic link"):
        history.restore(fresh)
    assert not (fresh / "results" / "meta").exists()


@pytest.mark.parametrize(
    "entry",
    ["100644 blob {blob}\t.git/config", "160000 commit {commit}\tvendor", "100644 blob {blob}\tnotes.txt"],
    ids=["dot-git-config", "top-level-submodule", "top-level-file"],
)
def test_anything_outside_results_on_the_branch_is_refused_by_restore_and_save(tmp_path, origin, entry):
    """Made with git's plumbing (a checkout cannot hold `.git/config`): the branch's tree plus one entry."""
    a = checkout(tmp_path, "honest", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    history.save(a, "gha-cpu")
    bare = ["git", "-C", str(origin)]

    def run(*args, **kw) -> str:
        return subprocess.run([*bare, *args], capture_output=True, text=True, check=True, **kw).stdout.strip()

    tip = run("rev-parse", "benchmark-results")
    blob = run("hash-object", "-w", "--stdin", input="[core]\n\tfsmonitor = touch /tmp/pwned\n")
    line = entry.format(blob=blob, commit=tip)
    name, rest = line.split("\t")
    if "/" in rest:  # .git/config: a tree .git holding the file
        inner = run("mktree", input=f"{name}\tconfig\n")
        line = f"040000 tree {inner}\t.git"
    top = run("ls-tree", tip) + "\n" + line + "\n"
    made = run(*GIT[1:], "commit-tree", run("mktree", input=top), "-p", tip, "-m", "poison")
    run("update-ref", "refs/heads/benchmark-results", made)
    shown = entry.split("\t")[1]
    with pytest.raises(history.BranchError, match=re.escape(shown)):
        history.restore(checkout(tmp_path, "fresh", origin))
    measured(a, "gha-cpu", HEAD, 1.4)
    with pytest.raises(history.BranchError, match=re.escape(shown)):
        history.save(a, "gha-cpu")
    assert run("rev-parse", "benchmark-results") == made  # nothing pushed on top of it


def test_a_link_on_the_branch_is_never_followed_so_no_local_file_is_read_or_pushed(tmp_path, origin):
    secret = tmp_path / "runner-secret.json"
    secret.write_text(json.dumps({"token": "s3cret"}))

    def link_file(tree):
        target = tree / "results" / "asv" / "benchmarks.json"
        target.unlink()
        target.symlink_to(secret)

    a = poisoned(tmp_path, origin, link_file)
    measured(a, "gha-cpu", HEAD, 1.4)
    with pytest.raises(history.BranchError, match="benchmarks.json: a symbolic link"):
        history.save(a, "gha-cpu")
    log = subprocess.run(["git", "-C", str(origin), "log", "-p", "benchmark-results"], capture_output=True, text=True)
    assert "s3cret" not in log.stdout
    with pytest.raises(history.BranchError, match="symbolic link"):
        history.restore(checkout(tmp_path, "fresh", origin))


def test_save_adds_and_never_removes_or_rewrites_what_the_branch_holds(tmp_path, origin):
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    history.save(a, "gha-cpu")
    before = set(on_branch(origin))
    first = f"results/asv/gha-cpu/{BASE[:8]}-existing-py_test.json"
    held = subprocess.run(["git", "-C", str(origin), "show", f"benchmark-results:{first}"], capture_output=True).stdout
    import shutil

    shutil.rmtree(a / "results" / "rounds", ignore_errors=True)
    (a / first).unlink()  # a runner that lost (or deleted) its results
    measured(a, "gha-cpu", HEAD, 1.4)
    (a / "results" / "meta" / "gha-cpu" / "fingerprint.json").write_text(json.dumps({"cpu_model": "gha-cpu"}) + " ")
    saved = history.save(a, "gha-cpu")
    assert saved.commit and before < set(on_branch(origin))  # added to, nothing removed
    again = subprocess.run(["git", "-C", str(origin), "show", f"benchmark-results:{first}"], capture_output=True).stdout
    assert again == held
    assert saved.kept == ["results/meta/gha-cpu/fingerprint.json"]  # the branch's bytes kept


def test_save_pushes_only_what_restore_accepts(tmp_path, origin):
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    (a / "results" / "meta" / "gha-cpu" / "notes.json").write_text("")  # an empty JSON
    with pytest.raises(RunError, match="notes.json: not valid JSON"):
        history.save(a, "gha-cpu")
    (a / "results" / "meta" / "gha-cpu" / "notes.json").write_text("[1, 2]")  # JSON, but not a results file
    with pytest.raises(RunError, match="expected a JSON object"):
        history.save(a, "gha-cpu")
    assert (
        subprocess.run(
            ["git", "-C", str(origin), "rev-parse", "--verify", "-q", "benchmark-results"], capture_output=True
        ).returncode
        != 0
    )  # fmt: skip  (nothing was pushed)


def test_a_foreign_file_on_the_branch_is_named_by_its_branch_path(tmp_path, origin):
    a = poisoned(tmp_path, origin, lambda tree: (tree / "results" / "meta" / "gha-cpu" / "x.json").write_text(""))
    with pytest.raises(RunError) as info:
        history.restore(checkout(tmp_path, "fresh", origin))
    assert "branch 'benchmark-results': results/meta/gha-cpu/x.json: not valid JSON" in str(info.value)
    assert "seqmnist-history-" not in str(info.value) and "git checkout" not in str(info.value)
    assert a.is_dir()


def test_restore_checks_sizes_before_reading_a_file(tmp_path, origin, monkeypatch):
    def big(tree):
        (tree / "results" / "rounds" / "gha-cpu").mkdir(parents=True)
        (tree / "results" / "rounds" / "gha-cpu" / "0123abcd.csv").write_text("x" * 5000)

    poisoned(tmp_path, origin, big)
    monkeypatch.setattr(history.merge, "MAX_BYTES", 4096)
    ran = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def spy_run(cmd, *a, **k):
        ran.append(cmd[:2])
        return real_run(cmd, *a, **k)

    class SpyPopen(real_popen):
        def __init__(self, cmd, *a, **k):
            ran.append(cmd[:2])
            super().__init__(cmd, *a, **k)

    monkeypatch.setattr(history.subprocess, "run", spy_run)
    monkeypatch.setattr(history.subprocess, "Popen", SpyPopen)
    with pytest.raises(history.BranchError, match="5,000 bytes, over the 4,096"):
        history.restore(checkout(tmp_path, "fresh", origin))
    assert not [c for c in ran if c[1] in ("archive", "cat-file")]  # refused from the listing, nothing read


def test_save_leaves_a_users_branches_alone(tmp_path, origin):
    a = checkout(tmp_path, "a", origin)
    for name in ("seqmnist-history-1", "seqmnist-history-2"):
        subprocess.run(["git", "-C", str(a), "branch", name], check=True)
    measured(a, "gha-cpu", BASE, 1.5)
    history.save(a, "gha-cpu")
    branches = subprocess.run(
        ["git", "-C", str(a), "branch", "--list", "seqmnist-history-*"], capture_output=True, text=True
    )
    assert branches.stdout.split() == ["seqmnist-history-1", "seqmnist-history-2"]
    assert "worktrees" not in {p.name for p in (a / ".git").iterdir()} or not any((a / ".git" / "worktrees").iterdir())


def test_an_interrupt_during_the_push_says_truthfully_that_it_landed(tmp_path, origin, monkeypatch, capsys):
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    real = subprocess.Popen

    class CtrlCMidPush(real):  # the Ctrl-C arrives while git push runs; the push goes on and lands
        def communicate(self, *args, **kwargs):
            if self.args[:2] == ["git", "push"] and not getattr(self, "hit", False):
                self.hit = True
                self.wait()
                raise KeyboardInterrupt
            return super().communicate(*args, **kwargs)

    monkeypatch.setattr(history.subprocess, "Popen", CtrlCMidPush)
    with pytest.raises(KeyboardInterrupt):
        history.save(a, "gha-cpu")
    assert "the push had landed, saved as" in capsys.readouterr().err
    assert on_branch(origin)


@pytest.mark.parametrize(
    "remote, name", [("--upload-pack=touch /tmp/pwned", "benchmark-results"), ("origin", "-x"), ("origin", "a..b")]
)
def test_options_and_bad_refs_are_refused_as_names(tmp_path, origin, remote, name):
    a = checkout(tmp_path, "a", origin)
    measured(a, "gha-cpu", BASE, 1.5)
    with pytest.raises(history.BranchError, match="not a"):
        history.save(a, "gha-cpu", remote=remote, branch=name)
    with pytest.raises(history.BranchError, match="not a"):
        history.restore(a, remote=remote, branch=name)


def test_a_name_with_a_trailing_newline_is_not_a_results_path():
    """The name patterns ended in '$', which also matches before a final newline: 'asv/evil\\n/' and
    'meta/evil\\n/x.json\\n' were restored. Every stored name is matched whole."""
    assert history.known("results/asv/box/aaaaaaaa-existing-python.json")
    assert not history.known("results/asv/evil\n/aaaaaaaa-existing-python.json")
    assert not history.known("results/meta/evil/x.json\n")
    assert not history.known("results/rounds/box/aaaaaaaa.csv\n")


def test_a_branch_past_the_budget_is_refused_with_the_numbers_before_anything_is_read(tmp_path, origin, monkeypatch):
    """48.5: many names of one large blob cost the branch nothing and the restorer the whole disk: the
    listing's total is checked against the budget first, and nothing is read or written."""

    def many(tree):
        folder = tree / "results" / "rounds" / "gha-cpu"
        folder.mkdir(parents=True)
        for i in range(64):
            (folder / f"{i:08x}.csv").write_text("x" * 3000)  # one blob, 64 names

    poisoned(tmp_path, origin, many)
    monkeypatch.setattr(history.merge, "MAX_TOTAL", 100_000)
    fresh = checkout(tmp_path, "fresh", origin)
    with pytest.raises(history.BranchError, match=r"would write \d+ files, [\d,]+ bytes: over the"):
        history.restore(fresh)
    assert not (fresh / "results" / "rounds").exists()


def test_restore_reads_many_files_in_one_git_process(tmp_path, origin, monkeypatch):
    """48.5: 2,000 files restore through one `git cat-file --batch`, not a process each (17.6 ms a file)."""

    def many(tree):
        folder = tree / "results" / "rounds" / "gha-cpu"
        folder.mkdir(parents=True)
        for i in range(2000):
            (folder / f"{i:08x}.csv").write_text(f"arm,benchmark,round,value\ntorch:cpu,b,1,0.{i + 1}\n")

    poisoned(tmp_path, origin, many)
    started = []
    real_popen = subprocess.Popen

    class SpyPopen(real_popen):
        def __init__(self, cmd, *a, **k):
            started.append(cmd[:3])
            super().__init__(cmd, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", SpyPopen)
    fresh = checkout(tmp_path, "fresh", origin)
    history.restore(fresh)
    assert sum(1 for c in started if c[1] == "cat-file") == 1
    assert len(list((fresh / "results" / "rounds" / "gha-cpu").glob("*.csv"))) == 2000
    assert (fresh / "results" / "rounds" / "gha-cpu" / f"{1999:08x}.csv").read_text().endswith("0.2000\n")
