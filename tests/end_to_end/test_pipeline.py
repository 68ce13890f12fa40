"""End to end, as a user runs it, in a throwaway clone of this repository: asv run (quick, one
framework, tiny data) -> report -> compare (after report, with local edits, refusing bad revisions)
-> noise -> a head that breaks an import fails the gate. The verdict on a planted slowdown, which
judges real timings, is test_planted_compare.py's (marker timed: make test runs it alone)."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import clone_with_tiny_data

ROOT = Path(__file__).resolve().parents[2]
MACHINE = "ci-smoke"
pytestmark = pytest.mark.slow  # make test runs a file on one worker (--dist loadfile): these tests build on each other


def _torch_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is None


def cli(clone: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, SEQMNIST_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "bench.cli", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if _torch_missing():
        pytest.skip("torch is not installed")
    repo, data = clone_with_tiny_data(tmp_path_factory.mktemp("pipeline"))
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "ci@example.invalid"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "ci"], check=True)
    # a fork that keeps none of the published machines' results: its report reads only this test's runs
    # (the committed history's report is tests/docs/test_docs.py's, in-process)
    machines = [f"results/asv/{p.name}" for p in (repo / "results" / "asv").iterdir() if p.is_dir()]
    folders = [f"results/{f}" for f in ("meta", "rounds", "profiles", "settings")]
    subprocess.run(["git", "-C", str(repo), "rm", "-rq", "--ignore-unmatch", *machines, *folders], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "no published results"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "head"], check=True)  # HEAD~1 here
    return repo, data


def _result_file(repo: Path, commit: str) -> dict:
    files = list((repo / "results" / "asv" / MACHINE).glob(f"{commit[:8]}-*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def test_quick_run_stores_positive_values_and_na_for_skips(clone):
    repo, data = clone
    proc = cli(
        repo,
        "run",
        "--quick",
        "--frameworks",
        "torch",
        "--data-dir",
        str(data),
        "--machine",
        MACHINE,
        "--processes",
        "2",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "torch" in proc.stdout and "train samples/s @128" in proc.stdout  # the summary table
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    results = _result_file(repo, head)["results"]
    for name in (
        "throughput.TrainStep.time_train_step",
        "throughput.Predict.time_predict",
        "cold_start.ColdStart.timeraw_cold_start",
    ):
        values, params = results[name][0], results[name][1]
        combos = list(itertools.product(*params))
        for combo, value in zip(combos, values):
            timed = combo[:2] == ("'torch'", "'cpu'") and (not name.startswith("throughput.") or combo[2] == "128")
            if timed:  # a quick run's rounds time batch 128 only
                assert value is not None and value > 0, (name, combo, value)
            else:
                assert value is not None and math.isnan(value), (name, combo, value)  # skipped, not failed
    full_runs = ("accuracy.", "memory.", "variants.", "baseline.")  # the baseline: not in a quick run's rounds
    assert not [n for n in results if n.startswith(full_runs)]  # the full run's
    # replicated throughput: one sample per process, two processes
    samples = _result_file(repo, head)["results"]["throughput.TrainStep.time_train_step"]
    names = _result_file(repo, head)["result_columns"]
    per_process = samples[names.index("samples")]
    assert [len(s) for s in per_process if s] == [2]  # batch 128, the one size a quick run's rounds time
    # nothing of this machine's paths in what is published: the results file's name and contents
    stored = [
        p
        for p in (repo / "results").rglob("*")
        if p.is_file() and p.suffix in (".json", ".csv", ".md") and MACHINE in p.parts
    ]
    assert not [p for p in stored if "existing-py_" in p.name], stored  # asv names it after the interpreter path
    for p in stored:
        assert str(repo) not in p.read_text() and str(data) not in p.read_text(), p
    rounds = (repo / "results" / "rounds" / MACHINE / f"{head[:8]}.csv").read_text().splitlines()
    assert (
        rounds[0].startswith("format,arm,framework,device,benchmark") and len(rounds) > 1
    )  # the engine's rounds, kept
    meta = json.loads((repo / "results" / "meta" / MACHINE / f"{head[:8]}.json").read_text())
    assert meta["frameworks"]["torch"]["version"].startswith("2.13")
    assert meta["host"]["threads"] == 1
    from bench.measure.rounds import stabilizers

    dropped = meta["closed_division"]["dropped"]  # plain processes: what this environment set, left out
    assert isinstance(dropped, list) and stabilizers(dict.fromkeys(dropped, "")) == dropped
    assert meta["fingerprint"]["id"] and meta["fingerprint"]["cpu_count"] >= 1
    assert (repo / "results" / "meta" / MACHINE / "fingerprint.json").is_file()
    # asv rewrote its benchmarks.json with the quick run's parameters (1 epoch): the published one is put back
    diff = subprocess.run(
        ["git", "-C", str(repo), "diff", "--stat", "--", "results/asv/benchmarks.json"], capture_output=True, text=True
    )
    assert diff.returncode == 0 and not diff.stdout.strip(), diff.stdout


def test_report_writes_tables_and_plots(clone):
    repo, _ = clone
    proc = cli(repo, "report")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = repo / "results" / "report"
    for name in ("results.csv", "latest.md", "latest.csv", "index.html", f"throughput_{MACHINE}_cpu.png"):
        assert (out / name).is_file(), name
    latest = (out / "latest.md").read_text()
    assert "| torch" in latest and "n/a [" in latest  # tensorflow/jax were not run: footnoted


def _commit(repo: Path, path: str, old: str, new: str, message: str) -> None:
    target = repo / path
    source = target.read_text()
    assert old in source
    target.write_text(source.replace(old, new, 1))
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", message], check=True)


def _compare(
    repo: Path, base: str, head: str, bench: str = r"TrainStep\.", rounds: int = 6, params: str | None = None
) -> subprocess.CompletedProcess:
    narrow = ["--params", params] if params else []
    return cli(
        repo, "compare", base, head, "--frameworks", "torch", "--bench", bench, *narrow,
        "--rounds", str(rounds), "--machine", MACHINE, "--seed", "1",
    )  # fmt: skip


def test_compare_after_report_and_with_local_edits_still_runs(clone):
    """report rewrites tracked files (README table, results/report): compare must not refuse."""
    repo, _ = clone
    assert cli(repo, "report").returncode == 0
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nlocal edit\n")
    try:
        proc = cli(
            repo,
            "compare",
            "HEAD~1",
            "HEAD",
            "--frameworks",
            "torch",
            "--bench",
            r"Predict\.",
            "--params",
            "128",
            "--rounds",
            "1",
            "--machine",
            MACHINE,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]  # one round decides nothing: inconclusive
        assert "Traceback" not in proc.stderr and "full report" in proc.stdout
        assert "too few rounds for a 95% interval" in proc.stdout
        assert "uncommitted changes are not measured" in proc.stderr
    finally:
        subprocess.run(["git", "-C", str(repo), "checkout", "README.md"], check=True)


def test_compare_refuses_unknown_revisions_and_empty_selections(clone):
    repo, _ = clone
    proc = cli(repo, "compare", "no-such-rev", "HEAD", "--frameworks", "torch")
    assert proc.returncode == 2 and "unknown revision" in proc.stderr
    proc = cli(
        repo, "compare", "HEAD~1", "HEAD", "--frameworks", "torch", "--bench", "NoSuchBenchmark", "--rounds", "1"
    )
    assert proc.returncode == 2 and "no benchmark matched" in proc.stderr, proc.stderr[-2000:]
    proc = cli(repo, "compare", "HEAD~1", "HEAD", "--frameworks", "torch", "--params", "7", "--rounds", "1")
    assert proc.returncode == 2 and "no benchmark matched" in proc.stderr, proc.stderr[-2000:]  # no batch size 7


@pytest.mark.long  # make test-all (a noise run); make test: noise's store in tests/measure/test_between_runs.py
def test_noise_check_stores_what_compare_then_uses(clone):
    repo, _ = clone
    proc = cli(
        repo, "noise", "--frameworks", "torch", "--bench", r"TrainStep\.", "--params", "32|128", "--rounds", "2",
        "--machine", MACHINE,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rounds_for_10%" in proc.stdout and "torch, cpu, 128" in proc.stdout
    stored = json.loads((repo / "results" / "meta" / MACHINE / "noise.json").read_text())
    assert len(stored["benchmarks"]) == 2 and all(b["sd"] >= 0 for b in stored["benchmarks"])  # 1024 not asked
    proc = cli(
        repo, "compare", "HEAD~1", "HEAD", "--frameworks", "torch", "--bench", "NoSuchBenchmark", "--machine", MACHINE
    )
    assert "noise check of" in proc.stderr  # compare read the stored noise to choose its rounds


def test_a_head_that_breaks_a_frameworks_import_fails_the_gate(clone):
    """A misspelled import in impls/torch_lstm.py makes torch 'unavailable' at head: every benchmark that
    ran at base and does not at head fails the gate (exit 1) with the reason, not 'gone' and exit 0."""
    repo, _ = clone
    _commit(
        repo,
        "impls/torch_lstm.py",
        "import torch.nn.functional as F",
        "import torch.nn.functionall as F",
        "broken import",
    )
    proc = _compare(repo, "HEAD~1", "HEAD", bench=r"Predict\.", rounds=1, params="128")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "failed" in proc.stdout and "functionall" in proc.stdout, proc.stdout[-3000:]
