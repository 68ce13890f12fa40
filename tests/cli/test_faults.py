"""Faults of the machine or of stored files, met as a user meets them: exit 2 with one line naming what
failed, never a traceback (exit 1 is the gate's verdict and nothing else), nothing half-written."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from asv_files import BASE, HEAD, write_results
from conftest import ROOT, cli, make_repo

from bench.store.lock import Lock


def one_line_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-2000:]
    for needle in needles:
        assert needle in errors[0], errors[0]


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A checkout the harness recognises (asv.conf.json) with two commits, and nothing measured yet."""
    make_repo(tmp_path / "repo")
    return tmp_path / "repo"


@pytest.mark.parametrize("content", ["{bad", "[1,2]"], ids=["truncated", "array"])
@pytest.mark.parametrize("command", ["compare", "noise"])
def test_a_corrupt_fingerprint_is_exit_2_naming_it(checkout, command, content):
    fp = checkout / "results" / "meta" / "box" / "fingerprint.json"
    fp.parent.mkdir(parents=True)
    fp.write_text(content)
    args = ["compare", "HEAD~1", "HEAD"] if command == "compare" else ["noise", "--rounds", "1"]
    proc = cli(*args, "--machine", "box", "--frameworks", "torch", cwd=checkout)
    one_line_error(proc, "fingerprint.json", "restore or delete it")
    assert fp.read_text() == content  # never replaced behind the user's back


def test_a_corrupt_fingerprint_in_a_merged_artifact_is_exit_2(checkout, tmp_path):
    artifact = tmp_path / "artifact"
    write_results(artifact / "asv", "box", BASE, 1_700_000_000_000, {})
    (artifact / "meta" / "box").mkdir(parents=True)
    (artifact / "meta" / "box" / "fingerprint.json").write_text("{bad")
    proc = cli("merge", str(artifact), cwd=checkout)
    one_line_error(proc, "fingerprint.json", "not valid JSON")
    assert not (checkout / "results" / "asv").exists()


@pytest.fixture
def clone(tmp_path) -> Path:
    """A clone of this repository as committed (the suite, the results), as a pull request arrives."""
    repo = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(repo)], check=True)
    return repo


def stored(repo: Path) -> list[str]:
    return sorted(str(p.relative_to(repo)) for p in (repo / "results").rglob("*") if p.name != ".lock")


@pytest.mark.parametrize(
    "args",
    [["compare", "HEAD~1", "HEAD"], ["run", "--frameworks", "torch"], ["noise"]],
    ids=["compare", "run", "noise"],
)
def test_no_git_on_path_is_exit_2(clone, args):
    python_only = Path(os.sys.executable).parent  # the venv's bin: python, no git
    env = {"PATH": str(python_only), "HOME": os.environ.get("HOME", "/tmp")}
    before = stored(clone)
    proc = cli(*args, "--machine", "box", cwd=clone, env=env)
    one_line_error(proc, "git is not on PATH")
    assert stored(clone) == before


def test_compare_checks_its_revisions_before_it_fingerprints_or_locks(checkout):
    proc = cli("compare", "HEAD~1", "nosuchrev", "--machine", "box", cwd=checkout)
    one_line_error(proc, "unknown revision 'nosuchrev'")
    assert not (checkout / "results").exists()  # no calibration, no fingerprint.json, no lock file


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "--frameworks", "nope"], "invalid choice: 'nope'"),
        (["history", "restore", "--remote", "/nonexistent/origin.git"], "cannot fetch the history branch"),
        (["compare", "HEAD~1", "HEAD", "--rounds", "0"], "--rounds"),
    ],
    ids=["usage", "git", "usage-value"],
)
def test_an_error_is_one_line_without_the_usage_text_or_gits_advice(checkout, args, needle):
    proc = cli(*args, cwd=checkout)
    one_line_error(proc, needle)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["bisect", "HEAD~1", "HEAD", "--frameworks", "torch"], "predates the benchmark suite"),
        (["profile", "--framework", "torch", "--device", "gpu", "--steps", "1"], "nothing could be profiled"),
    ],
    ids=["bisect", "profile"],
)
def test_a_failed_bisect_or_profile_leaves_no_fingerprint_behind(checkout, args, needle):
    """Neither stored anything, so neither claims the machine name for this host."""
    proc = cli(*args, "--machine", "box", cwd=checkout)
    one_line_error(proc, needle)
    assert not list((checkout / "results").rglob("fingerprint.json"))


def test_compare_beside_another_measuring_command_writes_nothing(checkout):
    with Lock(checkout, "run"):
        proc = cli("compare", "HEAD~1", "HEAD", "--machine", "box", cwd=checkout)
    one_line_error(proc, "another seqmnist-bench command is measuring", "run, pid")
    assert sorted(p.name for p in (checkout / "results").rglob("*")) == [".lock"]  # no fingerprint taken


def test_report_on_a_full_disk_is_exit_2_and_keeps_every_file_whole(results, monkeypatch, capsys):
    from bench import cli as cli_module
    from bench.core import files

    root = results.parents[1]
    monkeypatch.chdir(root)
    assert cli_module.main(["report", "--no-plots"]) in (0, 1)
    out = results.parent / "report"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    assert cli_module.main(["report", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "No space left on device" in err and "Traceback" not in err
    assert str(out) in err  # 46.13: the error names the file it was writing
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing truncated, no temporary files


def test_report_into_a_folder_it_cannot_write_is_exit_2(results):
    blocked = results.parent / "report"
    blocked.write_text("a file where the report folder goes")
    proc = cli("report", "--no-plots", "--out", str(blocked / "sub"), cwd=results.parents[1])
    one_line_error(proc, "sub")


def test_report_for_an_unknown_machine_is_exit_2_and_writes_nothing(results):
    proc = cli("report", "--machine", "nosuch", "--no-plots", cwd=results.parents[1])
    one_line_error(proc, "--machine 'nosuch'", "box")
    assert not (results.parent / "report").exists()


def test_a_truncated_result_leaves_the_readme_as_it_was(results):
    from bench.report.publish import README_END, README_START

    root = results.parents[1]
    readme = root / "README.md"
    readme.write_text(f"# x\n\n{README_START}\nold table\n{README_END}\n")
    (results / "box" / f"{HEAD[:8]}-existing-py_test.json").write_text('{"results": {')  # truncated
    proc = cli("report", "--no-plots", "--readme", str(readme), cwd=root)
    one_line_error(proc, f"{HEAD[:8]}-existing-py_test.json", "--skip-corrupt")
    assert "old table" in readme.read_text() and not (results.parent / "report").exists()
    proc = cli("report", "--no-plots", "--readme", str(readme), "--skip-corrupt", cwd=root)
    assert proc.returncode in (0, 1) and "left as it was" in proc.stderr, proc.stderr[-2000:]
    assert "old table" in readme.read_text()
    assert f"{HEAD[:8]}-existing-py_test.json" in (results.parent / "report" / "index.html").read_text()


def test_train_with_an_empty_data_dir_is_refused():
    proc = cli("train", "--framework", "torch", "--data-dir", "")
    assert proc.returncode == 2 and "--data-dir: empty" in proc.stderr and "Traceback" not in proc.stderr


def test_run_with_a_data_folder_that_does_not_exist_is_exit_2(clone):
    """The data folder named and the accuracy benchmarks asked for: a data error, not an all-n/a result."""
    before = stored(clone)
    proc = cli(
        "run", "--bench", "Accuracy", "--data-dir", "/nonexistent", "--frameworks", "torch", "--machine", "box",
        cwd=clone,
    )  # fmt: skip
    one_line_error(proc, "/nonexistent")
    assert stored(clone) == before  # nothing stored


@pytest.mark.parametrize("name", ["machine.json", "benchmarks.json"])
def test_garbled_asv_bookkeeping_is_exit_2_naming_it(results, name):
    path = results / ("box" if name == "machine.json" else "") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{garbled")
    proc = cli("report", "--no-plots", "--readme", "", cwd=results.parents[1])
    one_line_error(proc, name, "--skip-corrupt")
    assert not (results.parent / "report").exists()


def test_report_for_a_name_whose_newest_run_was_kept_apart_uses_that_key(results):
    from asv_files import FW_2B

    write_results(results, "box-0123abcd", HEAD, 1_790_000_000_000,
                  {"throughput.TrainStep.time_train_step": (FW_2B, [0.01] * 6, [None] * 6)})  # fmt: skip
    proc = cli("report", "--machine", "box-0123", "--no-plots", cwd=results.parents[1])
    one_line_error(proc, "--machine 'box-0123'")  # a prefix is not a name
    shutil.rmtree(results / "box")
    proc = cli("report", "--machine", "box", "--no-plots", "--readme", "", cwd=results.parents[1])
    assert proc.returncode == 0 and "kept apart as 'box-0123abcd'" in proc.stderr, proc.stderr


HOSTILE = "x\n::warning title=owned::pwned \x1b]0;title\x07 \x1b[2J"


def _hostile_meta(results: Path, **fields) -> Path:
    import json

    meta = results.parent / "meta" / "box"
    meta.mkdir(parents=True, exist_ok=True)
    path = meta / f"{HEAD[:8]}.json"
    path.write_text(json.dumps({"machine": "box", "commit": HEAD, **fields}))
    return path


@pytest.mark.parametrize(
    "fields",
    [{"host": {"cpu_model": HOSTILE}}, {"frameworks": {"torch": {"version": HOSTILE}}}],
    ids=["cpu-model", "framework-version"],
)
def test_a_stored_name_with_a_line_break_or_escape_is_refused_naming_the_file(results, fields):
    """48.6: host strings and framework versions are validated where they are read: one printable line."""
    path = _hostile_meta(results, **fields)
    proc = cli(
        "report", "--no-plots", "--readme", "", cwd=results.parents[1], env=dict(os.environ, GITHUB_ACTIONS="true")
    )
    one_line_error(proc, path.name, "one printable line")
    assert "\x1b" not in proc.stderr + proc.stdout


def test_stored_text_reaches_no_ci_log_or_terminal_as_a_command_or_control_sequence(results):
    """48.6: a skip reason (a worker's error, lines and all) holding a workflow command after a line
    break and terminal escape sequences is printed by `report` (as CI runs it) on one line, escapes
    shown: no printed line starts a workflow command and no ESC or BEL reaches the log or the tables."""
    _hostile_meta(results, skipped={"tensorflow:cpu": HOSTILE, "jax:cpu": HOSTILE})
    env = dict(os.environ, GITHUB_ACTIONS="true")
    proc = cli(
        "report", "--no-plots", "--readme", "", "--base", BASE[:8], "--head", HEAD[:8], cwd=results.parents[1], env=env
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert not [line for line in out.splitlines() if line.lstrip().startswith("::warning")], out[-3000:]
    assert "\x1b" not in out and "\x07" not in out
    latest = (results.parent / "report" / "latest.md").read_text()
    assert "\x1b" not in latest and not [line for line in latest.splitlines() if line.lstrip().startswith("::")]
