"""Child processes that never outlive the command: a command run in a session of its own (asv, whose
benchmark processes are no children of ours) is stopped as a whole on an interrupt, or by a guard
process when the command is killed outright (SIGKILL, an out-of-memory kill). The engine's workers die
with it on their own (bench/measure/worker.die_with)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.core import interrupts, scratch


def run_group(cmd: list[str], root: Path, env: dict, quiet: bool = False, restore: Path | None = None) -> int:
    """Run `cmd` in a session of its own with a private TMPDIR; on an interrupt stop the whole session
    (asv, its benchmark processes, accuracy jobs), remove the TMPDIR, and re-raise. A guard process stops
    the session, removes the folder and puts `restore` back as it was before (a tracked file the command
    rewrites) if this process dies without doing so."""

    tmp = scratch.make("asv")
    copy = None
    if restore is not None and restore.is_file():
        copy = tmp.parent / f"{tmp.name}.restore"
        shutil.copyfile(restore, copy)
    proc: subprocess.Popen | None = None
    guard: subprocess.Popen | None = None
    try:
        with interrupts.deferred():  # a Ctrl-C while the two start waits until both are up, then stops them:
            # one that came in between left the command running beside the run's last writes
            proc = subprocess.Popen(
                cmd,
                cwd=root,
                env=dict(env, TMPDIR=tmp),
                start_new_session=True,
                stdout=subprocess.DEVNULL if quiet else None,
            )
            guard = _guard(proc.pid, tmp, [str(restore), str(copy)] if copy else [])
        return proc.wait()
    except BaseException:
        if proc is not None:
            stop_group(proc, signal)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _release(guard)
        if copy is not None:
            copy.unlink(missing_ok=True)


def _guard(sid: int, tmp: Path, restore: list[str]) -> subprocess.Popen | None:
    """A process that waits for the end of its stdin (this process's end of the pipe closes when it ends,
    however it ends); unless told "done" first, it then stops session `sid`, removes `tmp` and copies
    `restore`'s saved copy back. In a session of its own: a Ctrl-C at the terminal does not reach it."""
    with contextlib.suppress(OSError):
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("guard.py")), str(sid), str(tmp), *restore],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    return None


def _release(guard: subprocess.Popen | None) -> None:
    """The command ended here, its session stopped: tell the guard so, and let it quit."""
    if guard is None:
        return
    with contextlib.suppress(OSError):
        guard.stdin.write(b"done\n")  # type: ignore[union-attr]
        guard.stdin.close()  # type: ignore[union-attr]
    try:
        guard.wait(timeout=15)
    except subprocess.TimeoutExpired:
        guard.kill()
        guard.wait()


def stop_group(proc: subprocess.Popen, signal) -> None:
    """SIGTERM to every process of `proc`'s session, SIGKILL after 5 s for what is left."""
    stop_session(proc.pid, signal, lambda: proc.poll() is None)


def stop_session(sid: int, signal, leader_alive=None) -> None:
    """SIGTERM to every process of session `sid`, SIGKILL after 5 s for what is left. The session, not
    the process group: asv puts each benchmark process (and the accuracy jobs its setup_cache starts)
    in a process group of its own."""
    alive = leader_alive or (lambda: _exists(sid))
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        members = session_members(sid)
        if members is None:  # no /proc: the group is what can be reached
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(sid, sig)
        for pid in (members or []) + ([sid] if alive() else []):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if not alive() and not session_members(sid):
                return
            time.sleep(0.1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


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
