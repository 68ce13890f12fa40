"""Whether a framework's processes, each alone on the machine, fall into a fast and a slow mode, and what
differs between the two (docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/process_modes.py keras-torch --processes 12
    .venv/bin/python docs/probes/process_modes.py keras-torch --processes 12 --alternate
    .venv/bin/python docs/probes/process_modes.py keras-torch --alternate --env MALLOC_TRIM_THRESHOLD_=1073741824

Each process, one at a time with nothing else alive, stages the framework at batch 128 as the train
step's suite does (bench.workload.harness.staged: train steps and forward passes in its warm-up; with
--untrained forward passes only, as the Predict suite stages it), times predict (or --step: the train
step), takes 6 samples of at least 0.15 s
(with --alternate each after one of the other benchmark, as the engine's worker takes them), and reports its per-call time beside what the kernel counted over those samples: minor
page faults, voluntary and involuntary context switches per call, its threads, and the host's steal
time over the samples (the share of one CPU's time the hypervisor gave to something else). A mode that comes
with page faults or context switches the other mode lacks names its mechanism.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from probe_child import ROOT, staged_preamble

CHILD = r"""
import gc, json, os, resource
from bench.measure.sampler import host_steal  # the host's steal seconds: time the hypervisor ran something else

timed, other = (step, predict) if {step!r} else (predict, step)


def sample(call):
    n, t0 = 0, time.perf_counter()
    while True:
        call()
        n += 1
        if time.perf_counter() - t0 >= 0.15:
            return n, (time.perf_counter() - t0) / n


calls, per_call, faults, vcsw, ivcsw = 0, [], 0, 0, 0
stolen, began = host_steal(), time.perf_counter()
for _ in range(6):
    if {alternate!r}:
        sample(other)  # as a worker alternates its benchmarks: the other one's sample between two of these
    before = resource.getrusage(resource.RUSAGE_SELF)
    if {no_gc!r}:
        gc.disable()  # as asv's timer (and timeit) take a sample
    n, t = sample(timed)
    gc.enable()
    after = resource.getrusage(resource.RUSAGE_SELF)
    calls, faults = calls + n, faults + after.ru_minflt - before.ru_minflt
    vcsw, ivcsw = vcsw + after.ru_nvcsw - before.ru_nvcsw, ivcsw + after.ru_nivcsw - before.ru_nivcsw
    per_call.append(t)
print(json.dumps({{
    "ms": [round(t * 1e3, 3) for t in per_call],
    "minflt": faults / calls,
    "nvcsw": vcsw / calls,
    "nivcsw": ivcsw / calls,
    "threads": len(os.listdir("/proc/self/task")),
    "steal": (host_steal() - stolen) / (time.perf_counter() - began),
}}))
"""


def one_process(
    framework: str,
    step: bool,
    alternate: bool,
    env: dict,
    no_aslr: bool = False,
    no_gc: bool = False,
    untrained: bool = False,
) -> dict:
    code = staged_preamble(framework, train=not untrained) + CHILD.format(step=step, alternate=alternate, no_gc=no_gc)
    prefix = ["setarch", os.uname().machine, "-R"] if no_aslr else []  # one fixed address layout
    proc = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"the {framework} process failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("framework")
    p.add_argument("--processes", type=int, default=12)
    p.add_argument("--step", action="store_true", help="time the train step instead of predict")
    p.add_argument(
        "--alternate", action="store_true", help="a sample of the other benchmark before each (as a worker times both)"
    )
    p.add_argument(
        "--untrained", action="store_true", help="warm up with forward passes only, as the Predict benchmark stages"
    )
    p.add_argument("--no-gc", action="store_true", help="Python's garbage collector off during each sample (as asv)")
    p.add_argument("--no-aslr", action="store_true", help="each process without address-space randomization")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="set in every process")
    args = p.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **dict(e.split("=", 1) for e in args.env))
    print(
        "process  median ms/call  samples (ms)                         minflt/call  nvcsw/call  nivcsw/call  threads"
        "  steal"
    )
    for k in range(1, args.processes + 1):
        r = one_process(args.framework, args.step, args.alternate, env, args.no_aslr, args.no_gc, args.untrained)
        samples = " ".join(f"{v:.2f}" for v in r["ms"])
        print(
            f"{k:7d}  {statistics.median(r['ms']):13.2f}  {samples:35s}  {r['minflt']:11.1f}  {r['nvcsw']:10.2f}"
            f"  {r['nivcsw']:11.2f}  {r['threads']:7d}  {r['steal']:5.1%}",
            flush=True,
        )


if __name__ == "__main__":
    main()
