"""The harness's side of a worker process (bench/measure/worker.py): start it (fresh, or forked by a
fork server, a Zygote), ask, close."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

WORKER = Path(__file__).with_name("worker.py")


class WorkerError(Exception):
    """A worker process failed as a whole (import error, crash, timeout) or a request failed in it."""


def tail(log: IO[str], lines: int = 8) -> str:
    """The last lines a process wrote to its log (what a failure message quotes)."""
    log.seek(0)
    return "\n".join(log.read().strip().splitlines()[-lines:])


class Forked:
    """A worker a Zygote forked: not this process's child (the zygote's, which reaps it), so it is watched
    through a pidfd (Linux). What the Worker uses of subprocess.Popen, with no exit status."""

    def __init__(self, pid: int, stdin, stdout):
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.pidfd = os.pidfd_open(pid)  # asked for before the worker reads its first request: it is alive
        self.returncode: int | None = None

    def _ended(self, timeout: float | None) -> bool:
        if self.returncode is None and select.select([self.pidfd], [], [], timeout)[0]:
            self.returncode = -1  # ended; its status went to the zygote
            os.close(self.pidfd)
        return self.returncode is not None

    def poll(self) -> int | None:
        self._ended(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Zygote:
    """A fork server for one arm (worker.py --zygote): it imports the framework once; each worker is then
    forked from it, a new process without the import. `refused`: why it cannot serve (a thread started at
    import, the import failed); then it has ended and the arm's workers start fresh."""

    def __init__(self, tree: Path, framework: str, device: str, preload: tuple[str, ...], env: dict, timeout=900):
        self.log = tempfile.TemporaryFile(mode="w+")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [sys.executable, str(WORKER), "--zygote", str(theirs.fileno()), "--tree", str(tree)]
        cmd += ["--framework", framework, "--device", device, "--preload", ",".join(preload)]
        self.proc = subprocess.Popen(
            [*cmd, "--parent", str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            env=env,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        self.sock = ours
        self.sock.settimeout(timeout)
        reply = self._receive()
        self.refused: str | None = reply.get("refused")
        self.seconds: float = float(reply.get("import", 0.0))
        if self.refused:
            self.close()

    def _receive(self) -> dict:
        try:
            data = self.sock.recv(1 << 16)
        except OSError as exc:  # a timeout among them
            data, why = b"", str(exc)
        else:
            why = "it ended"
        if not data:
            return {"refused": f"the fork server gave no answer ({why}): {tail(self.log)}"}
        return json.loads(data)

    def fork(self, bench: str) -> tuple[Forked, IO[str]]:
        """A new worker for `bench`: (its process, its stderr log)."""
        log = tempfile.TemporaryFile(mode="w+")
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        try:
            socket.send_fds(self.sock, [json.dumps({"bench": bench}).encode()], [req_r, rep_w, log.fileno()])
            reply = self._receive()
        finally:
            os.close(req_r)
            os.close(rep_w)
        if "pid" not in reply:
            os.close(req_w)
            os.close(rep_r)
            raise WorkerError(reply.get("refused") or f"the fork server said {reply}")
        forked = Forked(int(reply["pid"]), open(req_w, "w"), open(rep_r))
        return forked, log

    def close(self) -> None:
        """End it (closing the socket tells it to); its workers live on until they are told to quit."""
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Worker:
    """A worker process for one revision tree, framework and device, speaking one JSON line per request:
    a fresh process, or one `zygote` forks."""

    def __init__(self, tree: Path, framework: str, device: str, bench: str, env: dict, zygote: Zygote | None = None):
        self.proc: subprocess.Popen | Forked
        if zygote is not None:
            self.proc, self.log = zygote.fork(bench)
            return
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
            why = "timed out" if not ready else self.ended()
            raise WorkerError(f"worker {why}:\n{tail(self.log)}")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def ended(self) -> str:
        """How the process ended, as far as this process can know."""
        if isinstance(self.proc, Forked):
            return "ended (a forked worker: its exit status went to its fork server)"
        return f"exited {self.proc.returncode}"

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
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass  # a write left unflushed to a worker that ended: nothing to deliver
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
