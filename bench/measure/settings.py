"""System settings of the open division: a declared search space of environments a framework's process
can be started with (the allocator first), each measured against the framework's closed row, a plain
process (rounds.closed_env), in the same paired rounds. A setting whose library is not installed here
is skipped, saying which library and which package has it."""

from __future__ import annotations

import ctypes.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One candidate: what it sets in the process's environment, and the shared library it preloads."""

    name: str
    says: str  # what it is, for the page and README ("jemalloc, preloaded")
    env: tuple[tuple[str, str], ...] = ()
    library: str = ""  # the soname it preloads ('' for none)
    package: str = ""  # the Debian package that has it

    def missing(self) -> str | None:
        """Why it cannot run here (its library is not installed: the dynamic loader's cache has no such
        soname), or None."""
        if not self.library:
            return None
        short = self.library.removeprefix("lib").split(".so")[0]
        if ctypes.util.find_library(short) == self.library:
            return None
        return f"{self.library} is not installed here (Debian: apt-get install {self.package})"


CLOSED = Setting("glibc", "glibc's malloc with its defaults (the closed division)")
ALLOCATORS = (
    CLOSED,
    Setting(
        "glibc-fixed",
        "glibc's malloc with fixed mmap and trim thresholds (32 MiB, 1 GiB)",
        (("MALLOC_MMAP_THRESHOLD_", str(32 * 2**20)), ("MALLOC_TRIM_THRESHOLD_", str(2**30))),
    ),
    Setting(
        "jemalloc", "jemalloc, preloaded", (("LD_PRELOAD", "libjemalloc.so.2"),), "libjemalloc.so.2", "libjemalloc2"
    ),
    Setting(
        "tcmalloc",
        "tcmalloc (minimal), preloaded",
        (("LD_PRELOAD", "libtcmalloc_minimal.so.4"),),
        "libtcmalloc_minimal.so.4",
        "libtcmalloc-minimal4",
    ),
)
SEARCH_SPACES = {"allocator": ALLOCATORS}  # what `settings --space` measures


def arm_name(framework: str, device: str, setting: Setting) -> str:
    """'keras-torch:cpu' for the closed row, 'keras-torch:cpu@jemalloc' for an open one."""
    base = f"{framework}:{device}"
    return base if setting == CLOSED else f"{base}@{setting.name}"
