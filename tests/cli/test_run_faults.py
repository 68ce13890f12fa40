"""Issue 46: a run never loses what it measured, and bad input is a user error. Each case a user's
command in a clone of this repository (its committed suite and results), or the layer it reaches."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import cli, make_repo, write_idx
from test_faults import one_line_error, stored

from bench.core.errors import RunError
from bench.core.repo import commit_of
from bench.store import layout
from bench.tasks.host import identify_host
from bench.workload import data


@pytest.fixture
def clone(tmp_path) -> Path:
    from conftest import ROOT

    repo = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(repo)], check=True)
    return repo


def _head(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize(
    "name, content, needle",
    [
        ("rounds", "abc\n", ".csv"),
        ("rounds", "arm,benchmark,round,value\n,x,1,0.1\n", "no arm"),
        ("meta", '{"machine": "box", "commit": "x", "benchmarks": {"a": 5}}', ".json"),
        ("results", "{garbled", ".json"),
        ("benchmarks", "<<<<<<< HEAD\n{}", "benchmarks.json"),
    ],
    ids=["rounds-abc", "rounds-no-arm", "meta-shape", "results", "benchmarks-conflict"],
)
def test_an_unreadable_stored_file_is_exit_2_before_any_worker_starts(clone, name, content, needle):
    """46.5: the file is named, nothing is measured (no round line), nothing stored changes."""
    head = _head(clone)
    results = layout.asv_dir(clone)
    path = {
        "rounds": layout.rounds_file(results, "box", head),
        "meta": clone / "results" / "meta" / "box" / f"{head[:8]}.json",
        "results": results / "box" / f"{head[:8]}-existing-python.json",
        "benchmarks": layout.benchmarks_file(clone),
    }[name]
    if name == "results":  # results under a machine need its fingerprint, or the run keeps this host apart
        identify_host(clone, "box", None, log=lambda m: None, claim=True)
        (results / "box").mkdir(parents=True)
        (results / "box" / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    before = {p: p.read_bytes() for p in (clone / "results").rglob("*") if p.is_file() and p.name != ".lock"}
    proc = cli("run", "--quick", "--frameworks", "torch", "--bench", "TrainStep", "--machine", "box", cwd=clone)
    one_line_error(proc, needle)
    assert "[rounds] round" not in proc.stderr
    after = {p: p.read_bytes() for p in (clone / "results").rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before  # nothing written, not even the machine's fingerprint


def test_a_link_loop_as_the_data_folder_is_a_data_error_and_no_traceback(clone, tmp_path):
    """46.10: the loop is the data layer's 'does not exist' (exit 2 naming it) for the accuracy suite,
    and no error at all for benchmarks that need no data (it once was an internal error for both)."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    proc = cli(
        "run", "--bench", "Accuracy", "--data-dir", str(loop), "--frameworks", "torch", "--machine", "box", cwd=clone
    )  # fmt: skip
    one_line_error(proc, str(loop))
    proc = cli(
        "run", "--quick", "--bench", "TrainStep", "--processes", "1", "--data-dir", str(loop), "--frameworks",
        "torch", "--machine", "box", cwd=clone,
    )  # fmt: skip
    assert proc.returncode == 0 and "internal error" not in proc.stderr, proc.stderr[-2000:]


def test_an_unwritable_home_is_asvs_own_message_not_an_internal_error(clone, tmp_path):
    """46.10: asv cannot write ~/.asv-machine.json: exit 2 with what asv said."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asv-machine.json").mkdir()  # a folder where asv writes its machine file: refused even as root
    before = stored(clone)
    env = dict(os.environ, HOME=str(home))
    proc = cli(
        "run", "--quick", "--frameworks", "torch", "--bench", "TrainStep", "--machine", "box", cwd=clone, env=env
    )
    one_line_error(proc, "asv could not record machine")
    assert stored(clone) == before


def test_an_idx_header_whose_sizes_overflow_is_refused_as_bad_data(tmp_path):
    """46.10: dimensions whose product wraps int64 to 0 once passed as an empty file of that shape."""
    raw = (0x803).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") * 2
    with pytest.raises(data.DataError, match="truncated"):
        data.parse_idx(raw, tmp_path / "x", 0x803, 3)
    raw = (0x803).to_bytes(4, "big") + (2**16).to_bytes(4, "big") * 3  # 2**48: int64 fine, still far too big
    with pytest.raises(data.DataError, match="truncated"):
        data.parse_idx(raw, tmp_path / "x", 0x803, 3)


def test_a_huge_sparse_idx_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "train-images-idx3-ubyte"
    with big.open("wb") as fh:
        fh.truncate(4 * 2**30)  # 4 GiB of holes: reading it whole would take the memory
    with pytest.raises(data.DataError, match="larger than"):
        data.read_bytes(big)


def test_a_small_idx_file_still_reads(tmp_path):
    import numpy as np

    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(10))  # gzipped, as MNIST ships
    assert data.parse_idx(data.read_bytes(path), path, data.LABEL_MAGIC, 1).tolist() == list(range(10))


@pytest.mark.parametrize("cell", ["", "5"], ids=["empty", "numeric"])
def test_noise_between_with_a_bad_arm_cell_is_exit_2_naming_the_file(tmp_path, cell):
    rows = "arm,benchmark,key,round,value,status\n{arm},throughput.TrainStep.time_train_step,128,1,0.01,ok\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(rows.format(arm=cell))
    b.write_text(rows.format(arm="torch:cpu"))
    make_repo(tmp_path / "repo")
    proc = cli("noise", "--between", str(a), str(b), "--machine", "box", cwd=tmp_path / "repo")
    one_line_error(proc, "a.csv")


def test_a_name_that_is_both_a_branch_and_a_tag_is_refused(tmp_path):
    """46.13: git would measure the tag silently."""
    first, second = make_repo(tmp_path / "repo")
    git = ["git", "-C", str(tmp_path / "repo"), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "tag", "main", first], check=True)
    with pytest.raises(RunError, match="ambiguous"):
        commit_of(tmp_path / "repo", "main")
    assert commit_of(tmp_path / "repo", "heads/main") == second
    assert commit_of(tmp_path / "repo", "tags/main") == first
    proc = cli("compare", "main", "HEAD~1", "--machine", "box", cwd=tmp_path / "repo")
    one_line_error(proc, "ambiguous")


def test_another_machines_corrupt_files_are_not_read_for_this_machines_table(results):
    """46.9: `run` prints its table from this machine's files only: a broken run metadata, machine file
    or results file of another machine cannot change its exit."""
    from asv_files import BASE as B

    from bench.report import load_results

    other = results.parent / "meta" / "other"
    other.mkdir(parents=True)
    (other / f"{B[:8]}.json").write_text("{broken")
    (results / "other").mkdir()
    (results / "other" / "machine.json").write_text("{broken")
    frame = load_results(results, machine="box")
    assert set(frame.machine) == {"box"}
    with pytest.raises(RunError, match="other"):
        load_results(results)  # the report, which reads every machine, still names them


@pytest.mark.parametrize("kind", ["fingerprint", "profile", "settings"])
def test_report_skip_corrupt_skips_every_kind_of_stored_file_or_writes_nothing(results, kind):
    """46.12: without --skip-corrupt, exit 2 naming the file and nothing written; with it, the file is
    skipped, named, and the report is whole (its page written)."""
    root = results.parent
    path = {
        "fingerprint": root / "meta" / "box" / "fingerprint.json",
        "profile": root / "profiles" / "box" / "abcdef12.json",
        "settings": root / "settings" / "box" / "abcdef12-allocator.csv",
    }[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{broken" if path.suffix == ".json" else "not,a\nrounds")
    refused = cli("report", "--no-plots", "--readme", "", cwd=root.parent)
    one_line_error(refused, path.name)
    assert not (root / "report").exists()
    skipped = cli("report", "--no-plots", "--readme", "", "--skip-corrupt", cwd=root.parent)
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    assert path.name in skipped.stderr and (root / "report" / "index.html").is_file()
