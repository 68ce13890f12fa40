"""The harness's side of a worker process (bench/measure/worker.py): start it, ask, close."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")


class WorkerError(Exception):
    """A worker process failed as a whole (import error, crash, timeout) or a request failed in it."""


class Worker:
    """A worker process for one revision tree, framework and device, speaking one JSON line per request."""

    def __init__(self, tree: Path, framework: str, device: str, bench: str, env: dict):
        self.log = tempfile.TemporaryFile(mode="w+")
        cmd = [
            sys.executable,
            str(WORKER),
            "--tree",
            str(tree),
            "--bench",
            bench,
            "--framework",
            framework,
            "--device",
            device,
            "--parent",
            str(os.getpid()),  # the worker dies with this process (worker.die_with)
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )

    def fileno(self) -> int:
        """Its reply pipe, for select() over several workers (the engine waits on whichever stages first)."""
        stdout = self.proc.stdout
        assert stdout is not None  # opened with stdout=PIPE
        return stdout.fileno()

    def send(self, request: dict) -> None:
        try:
            stdin = self.proc.stdin
            assert stdin is not None  # opened with stdin=PIPE
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: receive() says how

    def receive(self, timeout: float = 900) -> dict:
        stdout = self.proc.stdout
        assert stdout is not None  # opened with stdout=PIPE
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            self.proc.wait()
            self.log.seek(0)
            tail = "\n".join(self.log.read().strip().splitlines()[-8:])
            why = "timed out" if not ready else f"exited {self.proc.returncode}"
            raise WorkerError(f"worker {why}:\n{tail}")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def ask(self, request: dict) -> dict:
        self.send(request)
        return self.receive()

    def cpu_seconds(self) -> float | None:
        """CPU time all of the process's threads have used so far (Linux /proc/PID/task/*/schedstat,
        nanoseconds on a CPU, up to date at the scheduler's last tick), or None where it cannot be read:
        what the carry-over probe measures a pool's spin with."""
        total, found = 0, False
        for stat in Path(f"/proc/{self.proc.pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[0])
                found = True
            except (OSError, ValueError, IndexError):
                continue  # a thread that ended between the listing and the read
        return total / 1e9 if found else None

    def busy(self) -> bool | None:
        """Whether a thread of the process is on a CPU or waiting for one now (None: cannot be read):
        how the engine sees an idle pool still spinning after a sample."""
        return running(self.proc.pid)

    def close(self, interrupted: bool = False) -> None:
        """Ask the worker to quit (kill it at once when the caller was interrupted)."""
        if interrupted and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.poll() is None:
            try:
                self.send({"op": "quit"})
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def running(pid: int) -> bool | None:
    """Whether any thread of process `pid` is in state R (running or runnable) in /proc/PID/task/*/stat,
    or None where that cannot be read. The state changes the moment a spinning thread sleeps; the
    CPU time in schedstat is only brought up to date at the scheduler's tick (ms late)."""
    found = False
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # a thread that ended between the listing and the read
        if state == "R":
            return True
        found = True
    return False if found else None
