"""bench/store/lock.py: one measuring command per checkout; a second is refused naming the holder."""

from __future__ import annotations

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
