"""When every framework runs slow at once (a round in which PyTorch's step is 15-20% slower and JAX's
40%, while the host matmul moves a few per cent), what else on the machine moves with it?
(docs/findings.md, "Slow spells of the machine").

    .venv/bin/python docs/probes/slow_spells.py --minutes 10

Two live processes (PyTorch and JAX, each staged at batch 128 as the suites stage it, the engine
workers' malloc settings) and a pair of ping-pong processes pinned to the two CPUs. In turn, over and
over: 0.5 s of PyTorch's train step, 0.5 s of JAX's, and 500 round trips of one byte between the
pinned pair (each a wake-up of a thread on the other CPU, as a thread pool's hand-off is). Each line:
seconds since the start, PyTorch's and JAX's ms per step, the round trip's median and 90th
percentile in microseconds, and the host's steal seconds over the cycle. At the end, the cycles in
which PyTorch was slowest (its top tenth) against the rest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from probe_child import ROOT, staged_preamble

sys.path.insert(0, str(ROOT))

from bench.measure.sampler import host_steal  # noqa: E402

STEPPER = r"""
print("ready", flush=True)
for line in sys.stdin:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.5:
        step()
        n += 1
    print((time.perf_counter() - t0) / n * 1e3, flush=True)
"""

ECHO = r"""
import os
os.sched_setaffinity(0, {{{cpu}}})
while True:
    b = os.read(0, 1)
    if not b:
        break
    os.write(1, b)
"""

PINGER = r"""
import os, subprocess, sys, time
os.sched_setaffinity(0, {{{cpu}}})
echo = subprocess.Popen([sys.executable, "-c", {echo!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
for line in sys.stdin:
    rtts = []
    for _ in range(500):
        t0 = time.perf_counter()
        echo.stdin.write(b"x")
        echo.stdout.read(1)
        rtts.append((time.perf_counter() - t0) * 1e6)
    rtts.sort()
    print(rtts[len(rtts) // 2], rtts[int(len(rtts) * 0.9)], flush=True)
"""


def start(code: str, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    return proc


def ask(proc: subprocess.Popen) -> list[float]:
    assert proc.stdin and proc.stdout
    proc.stdin.write("go\n")
    proc.stdin.flush()
    return [float(v) for v in proc.stdout.readline().split()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("needs two CPUs")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    steppers = {fw: start(staged_preamble(fw) + STEPPER, env) for fw in ("torch", "jax")}
    for proc in steppers.values():
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
    pinger = start(PINGER.format(cpu=cpus[0], echo=ECHO.format(cpu=cpus[1])), env)
    print("     s  torch ms  jax ms  rtt median us  rtt p90 us  steal s", flush=True)
    rows, began = [], time.monotonic()
    while time.monotonic() - began < args.minutes * 60:
        stolen = host_steal()
        torch_ms, jax_ms = ask(steppers["torch"])[0], ask(steppers["jax"])[0]
        median, p90 = ask(pinger)
        after = host_steal()
        steal = after - stolen if after is not None and stolen is not None else float("nan")
        rows.append((time.monotonic() - began, torch_ms, jax_ms, median, p90, steal))
        print(
            f"{rows[-1][0]:6.1f}  {torch_ms:8.2f}  {jax_ms:6.2f}  {median:13.1f}  {p90:10.1f}  {steal:7.2f}", flush=True
        )
    for proc in (*steppers.values(), pinger):
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait()
    cut = sorted(r[1] for r in rows)[int(len(rows) * 0.9)]
    slow, rest = [r for r in rows if r[1] >= cut], [r for r in rows if r[1] < cut]
    for name, group in (("PyTorch's slowest tenth", slow), ("the rest", rest)):
        print(
            f"{name} ({len(group)} cycles): torch {statistics.median(r[1] for r in group):.2f} ms, "
            f"jax {statistics.median(r[2] for r in group):.2f} ms, rtt median {statistics.median(r[3] for r in group):.1f} us, "
            f"p90 {statistics.median(r[4] for r in group):.1f} us, steal {sum(r[5] for r in group):.2f} s"
        )


if __name__ == "__main__":
    main()
