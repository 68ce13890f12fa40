"""bench/store/lock.py: one measuring command per checkout; a second is refused naming the holder."""

from __future__ import annotations

import os

import pytest

from bench.core.errors import RunError
from bench.store.lock import Lock


def test_a_second_command_is_refused_naming_the_first_and_can_go_after_it(tmp_path):
    with Lock(tmp_path, "run"):
        with pytest.raises(RunError, match=r"another seqmnist-bench command .*\(run, pid \d+"):
            with Lock(tmp_path, "compare"):
                pass
    with Lock(tmp_path, "compare"):  # released on exit
        assert (tmp_path / "results" / ".lock").read_text().startswith("compare")


def test_the_lock_never_follows_a_link_nor_opens_a_fifo(tmp_path):
    """results/.lock a link to a file elsewhere: refused naming the lock, the target left whole (it was
    truncated to 0 bytes by every command); a FIFO there is refused too, without hanging."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    results = tmp_path / "repo" / "results"
    results.mkdir(parents=True)
    (results / ".lock").symlink_to(target)
    with pytest.raises(RunError, match=r"results/\.lock"):
        with Lock(tmp_path / "repo", "run"):
            pass
    assert target.read_text() == "keep me"
    (results / ".lock").unlink()
    os.mkfifo(results / ".lock")
    with pytest.raises(RunError, match="not a regular file"):
        with Lock(tmp_path / "repo", "run"):
            pass
