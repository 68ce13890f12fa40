"""What this VM does with memory the guest frees: the balloon's free page reporting (freed 2 MiB blocks
handed back to the host, which then backs them again on the next touch) and DAMON's proactive reclaim,
as the guest kernel shows them; then the first touch of fresh memory, 512 MiB at a time, held until the
end (docs/findings.md, "Memory the host takes back").

    .venv/bin/python docs/probes/host_memory.py --gib 12
"""

from __future__ import annotations

import argparse
import mmap
import time
from pathlib import Path

import numpy as np

REPORTING = Path("/sys/module/page_reporting/parameters")
DAMON = Path("/sys/kernel/mm/damon/admin/kdamonds")
CHUNK = 512 << 20


def settings() -> list[str]:
    """The guest's page-reporting parameters and each DAMON scheme's action and access pattern."""
    out = [f"page_reporting {p.name} = {p.read_text().strip()}" for p in sorted(REPORTING.glob("*"))]
    for scheme in sorted(p for p in DAMON.glob("*/contexts/*/schemes/*") if p.is_dir()):
        pattern = {p.parent.name + "/" + p.name: p.read_text().strip() for p in (scheme / "access_pattern").glob("*/*")}
        out.append(f"DAMON {scheme.relative_to(DAMON)}: action {(scheme / 'action').read_text().strip()}, {pattern}")
    return out or ["neither page reporting nor DAMON is visible in this kernel"]


def first_touches(gib: float) -> list[float]:
    """Seconds to fault in each 512 MiB of fresh anonymous memory (one write per 4 KiB page), all held."""
    held, times = [], []
    for _ in range(int(gib * (1 << 30) // CHUNK)):
        began = time.perf_counter()
        m = mmap.mmap(-1, CHUNK, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        a = np.frombuffer(m, dtype=np.uint8)
        a[::4096] = 1
        times.append(time.perf_counter() - began)
        held.append((m, a))
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gib", type=float, default=12.0, help="fresh memory to touch, in 512 MiB pieces")
    args = p.parse_args()
    print("\n".join(settings()))
    times = first_touches(args.gib)
    print("ms per 512 MiB, in order: " + " ".join(f"{1e3 * t:.0f}" for t in times))
    fast = [t for t in times if t < 2 * min(times)]
    slow = [t for t in times if t >= 2 * min(times)]
    print(
        f"{len(fast)} pieces at {1e3 * np.median(fast):.0f} ms (median), {len(slow)} at "
        + (f"{1e3 * np.median(slow):.0f} ms" if slow else "-")
    )


if __name__ == "__main__":
    main()
