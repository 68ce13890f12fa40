"""Child process groups: run a command in a session of its own and, on an interrupt, stop every process
it started (asv puts each benchmark process in a process group of its own, so the session is the unit)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.core import scratch


def run_group(cmd: list[str], root: Path, env: dict, quiet: bool = False) -> int:
    """Run `cmd` in its own process group with a private TMPDIR; on an interrupt stop the whole group
    (asv, its benchmark processes, accuracy jobs), remove the TMPDIR, and re-raise."""

    tmp = scratch.make("asv")
    proc = subprocess.Popen(
        cmd, cwd=root, env=dict(env, TMPDIR=tmp), start_new_session=True, stdout=subprocess.DEVNULL if quiet else None
    )
    try:
        return proc.wait()
    except BaseException:
        stop_group(proc, signal)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stop_group(proc: subprocess.Popen, signal) -> None:
    """SIGTERM to every process of `proc`'s session, SIGKILL after 5 s for what is left. The session, not
    the process group: asv puts each benchmark process (and the accuracy jobs its setup_cache starts)
    in a process group of its own."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        members = session_members(proc.pid)
        if members is None:  # no /proc: the group is what can be reached
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        for pid in (members or []) + ([proc.pid] if proc.poll() is None else []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if proc.poll() is not None and not session_members(proc.pid):
                return
            time.sleep(0.1)


def session_members(sid: int) -> list[int] | None:
    """Live processes of session `sid` (Linux /proc; None where there is none)."""
    proc_dir = Path("/proc")
    if not (proc_dir / "self" / "stat").is_file():
        return None
    members = []
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(stat.parent.name))
    return members
