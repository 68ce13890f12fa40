"""Where a framework's step spends its threads: each process alone, the CPU ticks of its two busiest
threads (with their names) and of its main thread while it times its train step for 2 s, and (unless
--quiet) how often the two sat on one CPU (docs/findings.md, "JAX's two modes at two threads").

    .venv/bin/python docs/probes/thread_ticks.py jax --processes 14 --quiet
    .venv/bin/python docs/probes/thread_ticks.py jax --processes 14 --every 0.05
    .venv/bin/python docs/probes/thread_ticks.py jax --processes 14 --quiet --no-wait

The parent reads /proc/PID/task/*/stat every --every seconds during the timing (that reading itself
uses a CPU; --quiet reads only before and after). With --no-wait the process times its step right
after its warm-up instead of waiting for the parent's line first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from probe_child import ROOT, staged_preamble

sys.path.insert(0, str(ROOT))


CHILD = r"""
for _ in range(5):
    step()
print("ready", flush=True)
if {wait!r}:
    sys.stdin.readline()
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 2.0:
    step()
    n += 1
print((time.perf_counter() - t0) / n * 1e3, flush=True)
"""


def threads(pid: int) -> dict[str, tuple[int, int, str]]:
    """thread id -> (CPU it last ran on, utime + stime ticks, the thread's name)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name, rest = Path(f"/proc/{pid}/task/{tid}/stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue  # a thread that ended between the listing and the read
        fields = rest.split()
        out[tid] = (int(fields[36]), int(fields[11]) + int(fields[12]), name)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("framework")
    p.add_argument("--processes", type=int, default=10)
    p.add_argument("--every", type=float, default=0.05, help="seconds between readings of the threads")
    p.add_argument("--quiet", action="store_true", help="read the threads only before and after")
    p.add_argument("--no-wait", action="store_true", help="time right after the warm-up (no pause for the parent)")
    args = p.parse_args()
    child = staged_preamble(args.framework) + CHILD.format(wait=not args.no_wait)
    for k in range(args.processes):
        proc = subprocess.Popen(
            [sys.executable, "-c", child],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(os.environ),
        )
        assert proc.stdin and proc.stdout and proc.stdout.readline().strip() == "ready"
        first, seen = threads(proc.pid), []
        proc.stdin.write("go\n")
        proc.stdin.flush()
        began = time.monotonic()
        while time.monotonic() - began < 1.9:
            if args.quiet:
                time.sleep(1.9)
                break
            seen.append(threads(proc.pid))
            time.sleep(args.every)
        ms = float(proc.stdout.readline())
        last = threads(proc.pid)
        proc.stdin.close()
        proc.wait()
        used = {t: last[t][1] - first.get(t, (0, 0, ""))[1] for t in last}
        busy = sorted(last, key=lambda t: -used[t])[:2]
        ticks = [used[t] for t in busy]
        same = sum(1 for s in seen if all(t in s for t in busy) and s[busy[0]][0] == s[busy[1]][0])
        where = f"; on one CPU in {same} of {len(seen)} readings" if seen else ""
        names = "/".join(last[t][2] for t in busy)
        main_ticks = used.get(str(proc.pid), 0)  # the Python thread that calls the step
        print(
            f"process {k + 1}: {ms:.1f} ms per step; two busiest threads ({names}) ticks {ticks}, "
            f"main thread {main_ticks}{where}",
            flush=True,
        )


if __name__ == "__main__":
    main()
