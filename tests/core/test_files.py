"""bench/core/files.py and scratch.py: atomic writes, stored JSON read back with the file named, and the
temporary folders a killed command leaves removed by the next one."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from bench.core import files, scratch


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "results.csv"
    files.write_text(target, "old,complete\n")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        files.write_text(target, "new," * 10_000)
    assert target.read_text() == "old,complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_a_write_replaces_the_whole_file_and_creates_its_folder(tmp_path):
    target = tmp_path / "a" / "b" / "x.json"
    files.write_json(target, {"k": 1})
    files.write_json(target, {"k": 2})
    assert files.read_json(target) == {"k": 2}
    assert oct(target.stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize(
    "text,why",
    [
        ("{bad", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, found a JSON array"),
        (b"\xff\xfe", "not a UTF-8"),
    ],
    ids=["truncated", "array", "binary"],
)
def test_a_corrupt_stored_file_is_named(tmp_path, text, why):
    path = tmp_path / "fingerprint.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(files.CorruptFile) as info:
        files.read_json(path)
    assert str(path) in str(info.value) and why in str(info.value)


def test_sweep_removes_the_folders_of_dead_processes_only(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"seqmnist-compare-{dead.pid}-abcd"
    (stale / "base").mkdir(parents=True)
    mine = tmp_path / f"seqmnist-asv-{os.getpid()}-efgh"
    mine.mkdir()
    other = tmp_path / "seqmnist-notours"
    other.mkdir()
    assert scratch.sweep(tmp_path) == [stale]
    assert not stale.exists() and mine.is_dir() and other.is_dir()


def test_make_names_the_folder_after_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    folder = scratch.make("seeds")
    assert folder.parent == tmp_path and folder.name.startswith(f"seqmnist-seeds-{os.getpid()}-")
    assert scratch.sweep(tmp_path) == []  # alive: kept


def test_sweep_removes_old_half_written_files_only(tmp_path):
    import time

    results = tmp_path / "results" / "asv" / "box"
    results.mkdir(parents=True)
    kept = files.write_text(results / "abc-existing-python.json", "{}")
    stale = results / ".abc-existing-python.json.x1y2.tmp"
    stale.write_text('{"half')
    young = results / ".other.json.z9.tmp"
    young.write_text("being written")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert files.sweep(tmp_path / "results") == [stale]
    assert kept.is_file() and young.is_file() and not stale.exists()
