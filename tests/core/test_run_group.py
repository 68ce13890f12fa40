"""bench/core/processes.run_group: a Ctrl-C at any moment of a command's start, its guard's start
included, stops the command's whole session; none keeps running beside what the caller does next."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from bench.core import processes


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_while_the_guard_starts_still_stops_the_command(tmp_path, monkeypatch):
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal (CI may ignore it)
    real, started = processes._guard, []

    def guard_after_ctrl_c(sid, tmp, restore):
        started.append(sid)
        os.kill(os.getpid(), signal.SIGINT)  # the command is up, its guard not yet
        return real(sid, tmp, restore)

    monkeypatch.setattr(processes, "_guard", guard_after_ctrl_c)
    script = "import time; time.sleep(60)"
    try:
        with pytest.raises(KeyboardInterrupt):
            processes.run_group([sys.executable, "-c", script], tmp_path, dict(os.environ))
    finally:
        signal.signal(signal.SIGINT, saved)
    (pid,) = started
    end = time.monotonic() + 15
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert not alive(pid), "the command outlived the interrupt"
