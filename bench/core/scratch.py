"""Temporary folders of the tool, named with the process that made them, so the next command removes
what a killed one (SIGKILL, power loss) left behind."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

_NAME = re.compile(r"^seqmnist-([a-z]+)-(\d+)-")


def make(kind: str) -> Path:
    """A fresh folder seqmnist-<kind>-<pid>-XXXX in the system's temporary folder."""
    return Path(tempfile.mkdtemp(prefix=f"seqmnist-{kind}-{os.getpid()}-"))


def sweep(parent: Path | None = None) -> list[Path]:
    """Remove the tool's temporary folders whose process is gone; returns what was removed."""
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    for folder in parent.glob("seqmnist-*"):
        match = _NAME.match(folder.name)
        if not match or not folder.is_dir() or folder.is_symlink() or _alive(int(match.group(2))):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
