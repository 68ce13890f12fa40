"""results/asv/benchmarks.json: the committed file holds what asv discovers in bench/suites at this
commit for a full run, byte for byte, so a full run (asv rewrites the file) leaves it as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_the_committed_benchmarks_json_is_what_asv_discovers_now(tmp_path):
    conf = tmp_path / "asv.conf.json"
    conf.write_text(
        json.dumps(
            {
                "version": 1,
                "project": "seqmnist-bench",
                "repo": str(ROOT),
                "branches": ["HEAD"],  # whatever is checked out, a branch or a detached commit
                "environment_type": "existing",
                "pythons": ["same"],
                "benchmark_dir": str(ROOT / "bench" / "suites"),
                "results_dir": str(tmp_path / "results"),
                "html_dir": str(tmp_path / "html"),
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQMNIST_")}  # a full run's grids: a
    # quick run (SEQMNIST_ACCURACY_EPOCHS=1) rewrites the epochs in the accuracy benchmarks' entries
    env["HOME"] = str(tmp_path)  # asv keeps its machines in ~/.asv-machine.json
    asv = [sys.executable, "-m", "asv"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    config = ["--config", str(conf), "--machine", "discovery"]
    for step in (
        ["machine", "--yes"],
        ["run", "--python=same", "--bench", "^no such benchmark$", "--set-commit-hash", head],
    ):
        proc = subprocess.run([*asv, *step, *config], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 or "No benchmarks selected" in proc.stdout, (
            proc.stdout[-2000:] + proc.stderr[-2000:]
        )
    text = (tmp_path / "results" / "benchmarks.json").read_text()
    stored = git_show("results/asv/benchmarks.json")  # as committed: a user's quick run rewrites the file
    discovered, committed = json.loads(text), json.loads(stored)
    behind = sorted(k for k in discovered if committed.get(k) != discovered[k])
    assert not behind, f"results/asv/benchmarks.json is behind bench/suites for {behind}: copy asv's entries in"
    if committed.keys() == discovered.keys():  # no entry kept for a benchmark no longer in the suites
        assert stored == text  # as asv writes it, byte for byte


def git_show(path: str) -> str:
    proc = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT, capture_output=True, text=True, check=True)
    return proc.stdout
