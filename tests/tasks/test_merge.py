"""bench/tasks/merge.py through `seqmnist-bench merge`: results of two runners become one results folder and one
page; a second host under one machine name, or a result that would be overwritten, is refused with
nothing written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from asv_files import BASE, FW2, HEAD, write_results
from conftest import cli

HOST = {
    "cpu_model": "AMD EPYC",
    "cpu_count": 2,
    "threads": 2,
    "memory_gib": 24,
    "os": "Linux",
    "python": "3.11",
    "gpu": None,
    "versions": {"torch": "torch 2.13.0+cpu"},
    "matmul_gflops": 190.0,
}


def runner(folder: Path, machine: str, commit: str, cold: float, host: dict | None = HOST) -> Path:
    """One CI job's artifact: results/asv/<machine>/ and results/meta/<machine>/ for one commit."""
    from bench.store.fingerprint import identity

    results = folder / "results"
    write_results(
        results / "asv",
        machine,
        commit,
        1_700_000_000_000,
        {"cold_start.ColdStart.timeraw_cold_start": (FW2, [cold, cold * 2, cold * 1.5], [None] * 3)},
    )
    (results / "asv" / "benchmarks.json").write_text(json.dumps({"version": 2}))
    meta = results / "meta" / machine
    meta.mkdir(parents=True, exist_ok=True)
    (meta / f"{commit[:8]}.json").write_text(json.dumps({"machine": machine, "commit": commit}))
    if host is not None:
        (meta / "fingerprint.json").write_text(json.dumps({**host, "id": identity(host)}))
    return folder


def folders_of(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_dir())


def listing(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }  # the lock merge takes, empty once released


def test_two_machines_merge_into_one_page(tmp_path):
    cpu = runner(tmp_path / "cpu-job", "gha-ubuntu", BASE, 1.5)
    gpu = runner(tmp_path / "gpu-job", "gpu-box", BASE, 0.9, {**HOST, "gpu": "NVIDIA H200"})
    rounds = cpu / "results" / "rounds" / "gha-ubuntu" / f"{BASE[:8]}.csv"  # the paired rounds come along
    rounds.parent.mkdir(parents=True)
    rounds.write_text("arm,framework,device,benchmark,param,params,key,round,value\n")
    profile = cpu / "results" / "profiles" / "gha-ubuntu" / f"{BASE[:8]}.json"  # and the step breakdowns,
    (profile.parent / "traces").mkdir(parents=True)  # without the traces that stay on the runner
    profile.write_text(json.dumps({"machine": "gha-ubuntu", "breakdowns": []}))
    (profile.parent / "traces" / "trace.json").write_text("{}")
    into = tmp_path / "site" / "results"
    proc = cli("merge", str(cpu), str(gpu), "--into", str(into))
    assert proc.returncode == 0, proc.stderr
    assert (into / "rounds" / "gha-ubuntu" / rounds.name).read_text() == rounds.read_text()
    assert (into / "profiles" / "gha-ubuntu" / profile.name).read_text() == profile.read_text()
    assert not (into / "profiles" / "gha-ubuntu" / "traces").exists()
    assert "gha-ubuntu: 1 result file(s)" in proc.stdout and "gpu-box: 1 result file(s)" in proc.stdout
    assert (into / "meta" / "gpu-box" / "fingerprint.json").is_file()
    again = cli("merge", str(cpu), str(gpu), "--into", str(into))  # idempotent: same bytes are skipped
    assert again.returncode == 0 and "0 file(s) copied" in again.stdout
    page = cli("report", "--results", str(into / "asv"), "--no-plots", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    html = (into / "report" / "index.html").read_text()
    assert 'id="machine-gha-ubuntu"' in html and 'id="machine-gpu-box"' in html


def test_another_host_under_one_machine_name_is_refused_with_nothing_written(tmp_path):
    into = runner(tmp_path / "site", "gha-ubuntu", BASE, 1.5) / "results"
    before = listing(into)
    other = runner(tmp_path / "job", "gha-ubuntu", HEAD, 1.6, {**HOST, "cpu_model": "Intel Xeon"})
    fine = runner(tmp_path / "job2", "gpu-box", HEAD, 0.9)
    proc = cli("merge", str(fine), str(other), "--into", str(into))
    assert proc.returncode == 2 and "another host" in proc.stderr and "Intel Xeon" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert listing(into) == before  # not even gpu-box, which was fine on its own


def test_another_host_under_the_same_name_is_refused_but_a_calibration_swing_is_not(tmp_path):
    into = runner(tmp_path / "site", "gha-ubuntu", BASE, 1.5) / "results"
    other = runner(tmp_path / "job", "gha-ubuntu", HEAD, 1.6, {**HOST, "cpu_count": 4})
    proc = cli("merge", str(other), "--into", str(into))
    assert proc.returncode == 2 and "cpu_count: 2 -> 4" in proc.stderr
    swing = runner(tmp_path / "job2", "gha-ubuntu", HEAD, 1.6, {**HOST, "matmul_gflops": 93.0})
    proc = cli("merge", str(swing), "--into", str(into))
    assert proc.returncode == 0, proc.stderr  # the calibration is a measurement of the moment, not the host


def test_results_without_a_fingerprint_are_not_mixed_with_fingerprinted_ones(tmp_path):
    into = runner(tmp_path / "site", "gha-ubuntu", BASE, 1.5) / "results"
    legacy = runner(tmp_path / "old", "gha-ubuntu", HEAD, 1.5, host=None)
    proc = cli("merge", str(legacy), "--into", str(into))
    assert proc.returncode == 2 and "no fingerprint" in proc.stderr


def test_a_clone_of_the_destination_merges_back_with_its_new_machine(tmp_path):
    """A checkout's clone holds the same (even unfingerprinted, legacy) results plus a new machine's: the
    identical machines are nothing to merge, so their missing fingerprint does not refuse the new one."""
    into = runner(tmp_path / "site", "legacy", BASE, 1.5, host=None) / "results"
    clone = runner(tmp_path / "clone", "legacy", BASE, 1.5, host=None)
    runner(clone, "new-box", HEAD, 1.2)
    proc = cli("merge", str(clone), "--into", str(into))
    assert proc.returncode == 0, proc.stderr
    assert "new-box: 1 result file(s)" in proc.stdout and "legacy" not in proc.stdout


def test_a_result_is_never_overwritten(tmp_path):
    into = runner(tmp_path / "site", "gha-ubuntu", BASE, 1.5) / "results"
    before = listing(into)
    rerun = runner(tmp_path / "job", "gha-ubuntu", BASE, 1.9)  # the same commit measured again
    proc = cli("merge", str(rerun), "--into", str(into))
    assert proc.returncode == 2 and "never overwrites" in proc.stderr
    assert listing(into) == before


def test_a_folder_that_holds_no_results_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = cli("merge", str(tmp_path / "empty"), "--into", str(tmp_path / "results"))
    assert proc.returncode == 2 and "not a results folder" in proc.stderr
    proc = cli("merge", str(tmp_path / "missing"), "--into", str(tmp_path / "results"))
    assert proc.returncode == 2 and "no such folder" in proc.stderr


def secret(tmp_path: Path) -> Path:
    """A file of the merging machine that a hostile artifact points at."""
    path = tmp_path / "page-job-secret.txt"
    path.write_text("TOKEN=do-not-publish")
    return path


def planted(tmp_path: Path, kind: str) -> Path:
    """A runner's artifact with one hostile entry of `kind` beside a valid result."""
    job = runner(tmp_path / "job", "gha-ubuntu", HEAD, 1.6)
    machine_dir = job / "results" / "asv" / "gha-ubuntu"
    if kind == "file-link":
        (machine_dir / f"{BASE[:8]}-existing-python.json").symlink_to(secret(tmp_path))
    elif kind == "folder-link":
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / f"{BASE[:8]}-existing-python.json").write_text(json.dumps({"x": secret(tmp_path).read_text()}))
        (job / "results" / "asv" / "evil").symlink_to(outside, target_is_directory=True)
    elif kind == "meta-folder-link":
        shutil.rmtree(job / "results" / "meta" / "gha-ubuntu")
        (job / "results" / "meta" / "gha-ubuntu").symlink_to(tmp_path, target_is_directory=True)
    elif kind == "meta-link":  # a level above the machine's folder: results/meta itself
        outside = tmp_path / "outside-meta"
        shutil.copytree(job / "results" / "meta", outside)
        (outside / "gha-ubuntu" / "notes.json").write_text(json.dumps({"x": secret(tmp_path).read_text()}))
        shutil.rmtree(job / "results" / "meta")
        (job / "results" / "meta").symlink_to(outside, target_is_directory=True)
    elif kind == "fifo":
        os.mkfifo(job / "results" / "meta" / "gha-ubuntu" / "pipe.json")
    elif kind == "oversize":
        with open(job / "results" / "rounds" / "gha-ubuntu" / f"{HEAD[:8]}.csv", "wb") as fh:
            fh.truncate(33 * 2**20)  # sparse: 33 MiB without the disk
    elif kind == "stray-name":
        (job / "results" / "rounds" / "gha-ubuntu" / "notes.txt").write_text("hello")
    elif kind == "corrupt-json":
        (machine_dir / f"{BASE[:8]}-existing-python.json").write_text('{"results": ')
    elif kind == "bad-machine-name":
        (job / "results" / "asv" / ".hidden").mkdir()
    return job


HOSTILE = {
    "file-link": "symbolic link",
    "folder-link": "not a machine folder",
    "meta-folder-link": "symbolic link",
    "meta-link": "symbolic link",
    "fifo": "not a regular file",
    "oversize": "over the",
    "stray-name": "not a file merge knows",
    "corrupt-json": "not valid JSON",
    "bad-machine-name": "not a machine name",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_merge_reads_only_regular_results_files_and_writes_nothing_otherwise(tmp_path, kind):
    (tmp_path / "job" / "results" / "rounds" / "gha-ubuntu").mkdir(parents=True)
    into = runner(tmp_path / "site", "gpu-box", BASE, 0.9) / "results"
    before = listing(into)
    job = planted(tmp_path, kind)
    proc = cli("merge", str(job), "--into", str(into))
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert HOSTILE[kind] in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert listing(into) == before
    assert "do-not-publish" not in "".join(p.read_text(errors="replace") for p in into.rglob("*") if p.is_file())


def test_a_merge_that_fails_midway_leaves_the_destination_as_it_was(tmp_path, monkeypatch):
    """Disk full on the third file: staged files are removed, nothing reached results/, no .merging left."""
    import errno

    from bench.core import files
    from bench.tasks import merge

    into = runner(tmp_path / "site", "gpu-box", BASE, 0.9) / "results"
    before = listing(into)
    job = runner(tmp_path / "job", "gha-ubuntu", HEAD, 1.6)
    runner(job, "other-box", HEAD, 1.2)
    plan = merge.plan([job], into)
    assert len(plan.copies) >= 4
    real, calls = files.write_bytes, []

    def fills_up(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))  # as files.write_bytes says it
        return real(path, data)

    monkeypatch.setattr(files, "write_bytes", fills_up)
    folders = folders_of(into)
    with pytest.raises(OSError) as failed:
        merge.apply(plan, into)
    assert listing(into) == before and folders_of(into) == folders  # no file, no empty folder left
    assert not list(into.glob(".merging-*"))
    assert ".merging-" not in str(failed.value) and str(into) in str(failed.value)  # names where it was going


def test_a_failed_rename_takes_back_what_was_renamed(tmp_path, monkeypatch):
    from bench.tasks import merge

    into = runner(tmp_path / "site", "gpu-box", BASE, 0.9) / "results"
    before = listing(into)
    job = runner(tmp_path / "job", "gha-ubuntu", HEAD, 1.6)
    plan = merge.plan([job], into)
    real, calls = os.replace, []

    def breaks(src, dst):
        if ".merging-" in str(dst):  # staging itself (files.write_bytes) goes through
            return real(src, dst)
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(merge.os, "replace", breaks)
    folders = folders_of(into)
    with pytest.raises(OSError):
        merge.apply(plan, into)
    monkeypatch.undo()
    assert len(calls) == 3 and listing(into) == before  # two renamed, then taken back
    assert folders_of(into) == folders  # and the folders made for them removed


@pytest.mark.parametrize(
    "file, change",
    [
        ("asv/zzz/machine.json", lambda d: {**d, "machine": "gate"}),
        (f"asv/zzz/{BASE[:8]}-existing-py_test.json", lambda d: {**d, "params": {**d["params"], "machine": "gate"}}),
        (f"asv/zzz/{BASE[:8]}-existing-py_test.json", lambda d: {**d, "commit_hash": HEAD}),
        (f"meta/zzz/{BASE[:8]}.json", lambda d: {**d, "machine": "gate"}),
        (f"meta/zzz/{BASE[:8]}.json", lambda d: {**d, "commit": HEAD}),
    ],
    ids=["machine.json", "results-machine", "results-commit", "meta-machine", "meta-commit"],
)
def test_a_file_naming_another_machine_or_commit_than_its_path_is_refused(tmp_path, file, change):
    """48.3: a machine is its folder, a commit its file name: merge (and restore, which merges) and load
    refuse a file that says otherwise, naming it, with nothing written."""
    from bench import report
    from bench.core.files import CorruptFile

    job = runner(tmp_path / "job", "zzz", BASE, 1.5)
    path = job / "results" / file
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    into = runner(tmp_path / "dest", "gate", HEAD, 1.5) / "results"
    before = listing(into)
    proc = cli("merge", str(job), "--into", str(into))
    assert proc.returncode == 2 and path.name in proc.stderr, proc.stderr[-2000:]
    assert "its folder" in proc.stderr or "its name" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert listing(into) == before
    with pytest.raises(CorruptFile, match=path.name):
        report.load_results(job / "results" / "asv")
