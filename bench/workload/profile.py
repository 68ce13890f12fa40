"""One framework's steps under its own profiler, in a process of its own.

`python -m bench.workload.profile SPEC_JSON` stages the model per batch size, times the step without
the profiler, profiles it, times the step's matmuls alone (the reachable ceiling), and prints one
JSON breakdown per (mode, batch size) on stdout. `seqmnist-bench profile` starts it once per framework.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.workload.breakdown import Breakdown, split, step_matmuls
from bench.workload.harness import staged

TIMING_BLOCKS = 7  # unprofiled blocks per step time; the median is the step time
BLOCK_SECONDS = 0.25
ATTEMPTS = 3  # profiled runs per step; the breakdown is the one the profiler slowed least


def timed_blocks(work: Callable[[], object], blocks: int = TIMING_BLOCKS) -> float:
    """Seconds per call of work(): the median over `blocks` blocks of about BLOCK_SECONDS each."""
    start = time.perf_counter()
    work()
    calls = max(1, int(BLOCK_SECONDS / max(time.perf_counter() - start, 1e-6)))
    per_call = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        per_call.append((time.perf_counter() - start) / calls)
    return statistics.median(per_call)


def profile_one(model, x, y, mode: str, steps: int, trace_dir: Path) -> Breakdown:
    """The breakdown of one staged model's train or predict step."""
    if mode == "train":

        def work():
            model.synchronize(model.step_on_device(x, y))
    else:

        def work():
            model.synchronize(model.forward_on_device(x))

    before = timed_blocks(work)  # the step without the profiler, before and after it (drift cancels)
    best: tuple[float, list, Path] | None = None
    for attempt in range(ATTEMPTS):  # the least disturbed of a few profiled runs: the profiler's cost varies
        folder = trace_dir / f"attempt-{attempt}"
        seconds, ops = _profiled(model, work, steps, folder)
        if best is None or seconds < best[0]:
            best = (seconds, ops, folder)
    assert best is not None  # ATTEMPTS >= 1
    profiled, ops, kept = best
    step_seconds = math.sqrt(before * timed_blocks(work))
    for folder in trace_dir.glob("attempt-*"):
        if folder != kept:
            shutil.rmtree(folder, ignore_errors=True)
    categories, top = split(ops, steps, step_seconds)
    cfg = model.config
    shapes = step_matmuls(cfg.n_input, cfg.n_hidden, cfg.n_classes, cfg.n_steps, len(x), mode == "train")
    chain = type(model).matmul_chain(shapes, model.device)
    ceiling = timed_blocks(chain, blocks=5)
    return Breakdown(
        framework=model.framework,
        variant=model.variant,
        device=model.device,
        mode=mode,
        batch_size=len(x),
        step_seconds=step_seconds,
        profiled_seconds=profiled / steps,
        categories=categories,
        ceiling_seconds=ceiling,
        top_ops=top,
        trace=f"{trace_dir.name}/{kept.name}",
    )


def _profiled(model, work: Callable[[], object], steps: int, folder: Path) -> tuple[float, list]:
    """(the profiled steps' own wall time, without the profiler's start, stop and export; the ops)."""
    inside = [0.0]

    def timed_work():
        start = time.perf_counter()
        work()
        inside[0] += time.perf_counter() - start

    folder.mkdir(parents=True, exist_ok=True)
    ops = model.profile(timed_work, steps, str(folder))
    return inside[0], ops


def main(spec: dict) -> int:
    """Profile every (batch size, mode) of SPEC; one JSON line per breakdown, a skip line when it cannot run."""
    for batch in spec["batch_sizes"]:
        try:
            st = staged(spec["framework"], spec["device"], batch, spec["variant"])
        except NotImplementedError as exc:  # the harness's skip: no such variant, device or framework
            print(json.dumps({"skip": str(exc)}), flush=True)
            return 0
        for mode in spec["modes"]:
            name = f"{spec['framework']}-{spec['variant']}-{spec['device']}-{mode}-{batch}"
            print(f"profiling {name}", file=sys.stderr, flush=True)
            result = profile_one(st.model, st.x, st.y, mode, spec["steps"], Path(spec["trace_root"]) / name)
            print(json.dumps(dataclasses.asdict(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
