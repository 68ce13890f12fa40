"""One measuring command at a time per checkout: run, compare and noise take results/.lock."""

from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

from bench.core.errors import RunError
from bench.store import layout


class Lock:
    """An exclusive, non-blocking flock on <root>/results/.lock, released when the process ends (even
    killed); RunError naming the holder when another command has it."""

    def __init__(self, root: Path, command: str):
        self.path = layout.lock_file(root)
        self.command = command
        self.fd: int | None = None

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # never through a link (a committed results/.lock link would truncate its target), never a FIFO
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise RunError(
                f"cannot take the lock {self.path}: {exc.strerror} (a link or special file there?)"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RunError(f"cannot take the lock {self.path}: not a regular file; remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunError(
                f"another seqmnist-bench command is measuring in this checkout ({holder}); "
                "wait for it to finish: two at once would disturb each other's timings and results"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.command}, pid {os.getpid()}, since {time.strftime('%H:%M:%S')}".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
