"""Issue 11 with real processes, in a throwaway clone and tiny data: `run` from a subfolder, a quick
run on top of a full one, the lock against a second run, and SIGTERM leaving no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from asv_files import stores_agree
from conftest import clone_with_tiny_data

MACHINE = "proc-test"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    pytest.importorskip("torch")
    return clone_with_tiny_data(tmp_path_factory.mktemp("processes"))


def env(**extra) -> dict:
    return dict(os.environ, SEQMNIST_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2", **extra)


def run(repo: Path, *args: str, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.cli", "run", "--machine", MACHINE, "--frameworks", "torch", *args],
        cwd=cwd or repo,
        env=env(PYTHONPATH=str(repo)),
        capture_output=True,
        text=True,
        timeout=600,
        **kw,
    )


def samples(repo: Path, name: str = "throughput.TrainStep.time_train_step") -> list:
    (path,) = (repo / "results" / "asv" / MACHINE).glob("*-*.json")  # one file: the rounds and asv's part
    doc = json.loads(path.read_text())
    row = doc["results"][name]
    return row[doc["result_columns"].index("samples")][0]  # torch, cpu, batch 32


@pytest.mark.long  # make test-all: three runs (88 s here); make test: tests/store/test_run_store.py
def test_run_from_a_subfolder_then_quick_then_full(clone):
    """5/18: the table prints from bench/; 11: a quick run keeps the full result, a full run adds its
    processes; 13: the second run does not call the tree dirty because of the first run's writes; 31: the
    paired rounds come before the asv part (after it, the first round stood apart: docs/findings.md)."""
    repo, _ = clone
    first = run(repo, "--bench", "TrainStep|HostMemory", "--processes", "1", cwd=repo / "bench")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "train samples/s @32" in first.stdout and "host peak MiB" in first.stdout
    assert -1 < first.stderr.find("[rounds] round 1/") < first.stderr.find(": asv run (full)"), first.stderr[-3000:]
    assert len(samples(repo)) == 1
    quick = run(repo, "--quick", "--bench", "TrainStep", "--processes", "1")
    assert quick.returncode == 0, quick.stderr[-3000:]
    assert "uncommitted changes" not in quick.stderr
    assert "stored full results of 1 benchmark(s) stay" in quick.stderr, quick.stderr[-3000:]
    assert len(samples(repo)) == 1
    (rounds,) = (repo / "results" / "rounds" / MACHINE).glob("*.csv")
    assert len(rounds.read_text().splitlines()) == 1 + 3  # the full run's round, batch 32, 128 and 1024: kept
    stores_agree(repo / "results" / "asv", MACHINE, _head(repo))
    full = run(repo, "--bench", "TrainStep", "--processes", "1")
    assert full.returncode == 0, full.stderr[-3000:]
    assert len(samples(repo)) == 2  # a full run adds to the full run before it
    stores_agree(repo / "results" / "asv", MACHINE, _head(repo))
    meta = json.loads((repo / "results" / "meta" / MACHINE / f"{_head(repo)[:8]}.json").read_text())
    assert meta["benchmarks"]["throughput.TrainStep.time_train_step"]["quick"] is False


def _head(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def _marked(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (children inherit it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _wait_for(check, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.3)
    return False


def _running(marker: str, module: str) -> bool:
    """A process carrying `marker` runs `module` (python -m module)."""
    for pid in _marked(marker):
        try:
            if module.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


@pytest.mark.parametrize(
    "bench, processes, child",
    [
        pytest.param("cold_start", "0", "asv", marks=pytest.mark.long),  # make test: kills' asv-SIGINT
        ("TrainStep", "3", "worker.py"),
        (r"accuracy\.Accuracy", "0", "bench.workload.accuracy_job"),
    ],
    ids=["asv", "replicated", "accuracy-job"],
)
def test_lock_then_sigterm_leaves_no_process_behind(clone, bench, processes, child, tmp_path):
    """14: a second run in the same checkout is refused while the first measures; SIGTERM stops the
    first with exit 130, its asv / worker / cold-start processes with it, and no temporary folder (the
    run gets a temporary folder of its own: tests beside it make and sweep theirs in the shared one)."""
    repo, data = clone
    marker = f"SEQMNIST_TEST_MARK={uuid.uuid4().hex}"
    key, value = marker.split("=")
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.cli",
            "run",
            "--machine",
            MACHINE,
            "--frameworks",
            "torch",
            "--bench",
            bench,
            "--processes",
            processes,
            "--data-dir",
            str(data),
        ],
        cwd=repo,
        env=env(PYTHONPATH=str(repo), SEQMNIST_ACCURACY_EPOCHS="500", TMPDIR=str(own_tmp), **{key: value}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # measuring has begun once the child this case is about runs (asv, a worker, an accuracy job: asv puts
        # the last in a process group of its own)
        assert _wait_for(lambda: _running(marker, child), 120), f"the run started no {child} process"
        second = run(repo, "--bench", "Predict", "--processes", "1")
        assert second.returncode == 2 and "another seqmnist-bench command" in second.stderr, second.stderr[-2000:]
        time.sleep(2)
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, err[-3000:]
    assert "interrupted" in err
    assert _wait_for(lambda: not _marked(marker), 15), f"left running: {_marked(marker)}"
    assert not list(own_tmp.glob("seqmnist-*"))
    for path in (repo / "results").rglob("*.json"):
        json.loads(path.read_text())  # every results and meta file is whole
    assert run(repo, "--bench", "NoSuchBench").returncode == 2  # the lock was released
