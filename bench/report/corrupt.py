"""Stored files that cannot be read, in one place for every reader of the report: a CorruptFile naming
the file (exit 2), or with --skip-corrupt, each skipped with a warning and listed (the page states
them; the README is then left as it was)."""

from __future__ import annotations

import warnings
from pathlib import Path

from bench.core.files import CorruptFile


class Corrupt:
    """Stored files that cannot be read: a CorruptFile (exit 2) at the first, or with `skip`, each named
    in a warning and listed in `skipped` (the page states them; the README is then left as it was)."""

    def __init__(self, skip: bool):
        self.skip = skip
        self.skipped: list[str] = []

    def __call__(self, path: Path, why: str) -> None:

        if not self.skip:
            raise CorruptFile(
                f"{path}: {why}; restore it (git checkout -- {path}) or delete it, or pass --skip-corrupt to "
                "publish without it"
            )
        warnings.warn(f"skipping {path}: {why}", stacklevel=3)
        self.skipped.append(f"{path.parent.name}/{path.name}: {why}")


def readable(path: Path, read, corrupt: Corrupt | None):
    """read(path), or None once `corrupt` has skipped it: a CorruptFile, or a file of the wrong shape
    (KeyError, TypeError, ValueError, AttributeError while reading it), names the file. Without
    `corrupt` the error goes on."""
    try:
        return read(path)
    except (CorruptFile, KeyError, TypeError, ValueError, AttributeError) as exc:
        if corrupt is None:
            raise
        said = str(exc).removeprefix(f"{path}: ").split("; restore")[0]
        corrupt(
            path, said if isinstance(exc, CorruptFile) else f"not what the tool stores ({type(exc).__name__}: {exc})"
        )
    return None
