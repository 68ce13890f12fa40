"""Op times from a Chrome / Perfetto trace (the JSON the JAX and TensorFlow profilers export): the
frameworks' profiler hooks read their own trace files with it. Imports no framework."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from .base import OpTime


def read(path: str | Path) -> list[dict]:
    """The trace's events (a .json or .json.gz file holding {"traceEvents": [...]} or a bare list)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return events(json.load(fh))


def events(data: dict | list) -> list[dict]:
    """The events of a loaded trace ({"traceEvents": [...]} or a bare list)."""
    return data.get("traceEvents", []) if isinstance(data, dict) else data


def xla_profiling() -> str | None:
    """In the profile worker's process (SEQMNIST_PROFILE names its dump folder), set XLA_FLAGS so that
    XLA:CPU traces each HLO op and dumps the optimized HLO that names what each op is; the folder, or
    None elsewhere. Call before the framework is imported (XLA reads its flags once)."""
    dump = os.environ.get("SEQMNIST_PROFILE")
    if dump:
        os.environ["XLA_FLAGS"] = (
            f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_enable_xprof_traceme=true "
            f"--xla_dump_to={dump} --xla_dump_hlo_as_text"
        ).strip()
    return dump


def hlo_wall_times(events: list[dict], dump_dir: str | None) -> list[OpTime]:
    """The wall time of every HLO op XLA:CPU traced (events with an `hlo_op` argument), with its opcode
    and framework op name from the HLO dump in dump_dir when there is one."""
    hlo = hlo_ops(dump_dir) if dump_dir else {}

    def describe(e: dict) -> tuple[str, str]:
        args = e["args"]
        return hlo.get((args.get("hlo_module", ""), args["hlo_op"]), (args["hlo_op"].split(".")[0], ""))

    return wall_times(events, keep=lambda e: "hlo_op" in e.get("args", {}), describe=describe)


def wall_times(events: list[dict], keep: Callable[[dict], bool], describe=lambda e: (e["name"], "")) -> list[OpTime]:
    """Wall-clock time of every kept op, for runtimes that run ops on several threads at once (XLA:CPU's
    thunk executor, TensorFlow's executor): each instant an op is running goes to it, split evenly among
    the ops running on other threads at that instant, so the ops' times add up to the time at least one
    op ran, never more than the wall time. An unkept event (the runtime's loop bookkeeping, a pool's
    wait) counts for the nearest kept op around it on its thread, or for none (then it is outside every
    op). describe(event) -> (kind, scope) of a kept op."""
    threads: dict[tuple, list[dict]] = {}
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            threads.setdefault((e.get("pid"), e.get("tid")), []).append(e)
    segments: list[tuple[float, float, tuple]] = []
    calls: dict[tuple, int] = {}
    for thread_events in threads.values():
        thread_events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack: list[dict] = []
        children: dict[int, list[dict]] = {}
        owner: dict[int, tuple | None] = {}
        for e in thread_events:
            start = float(e["ts"])
            while stack and float(stack[-1]["ts"]) + float(stack[-1]["dur"]) <= start:
                stack.pop()
            parent = stack[-1] if stack else None
            if parent is not None:
                children.setdefault(id(parent), []).append(e)
            if keep(e):
                mine = (e["name"], *describe(e))
                owner[id(e)] = mine
                calls[mine] = calls.get(mine, 0) + 1
            else:
                owner[id(e)] = owner.get(id(parent)) if parent is not None else None
            stack.append(e)
        for e in thread_events:
            key = owner[id(e)]
            if key is None:
                continue
            cursor, end = float(e["ts"]), float(e["ts"]) + float(e["dur"])
            for child in children.get(id(e), []):
                if float(child["ts"]) > cursor:
                    segments.append((cursor, float(child["ts"]), key))
                cursor = max(cursor, float(child["ts"]) + float(child["dur"]))
            if end > cursor:
                segments.append((cursor, end, key))
    points = sorted(
        [(s, 1, i) for i, (s, _, _) in enumerate(segments)] + [(t, 0, i) for i, (_, t, _) in enumerate(segments)]
    )
    totals: dict[tuple, float] = {}
    active: set[int] = set()
    last = 0.0
    for time, starts, i in points:  # ends (0) sort before starts (1) at the same instant
        if active and time > last:
            share = (time - last) / len(active) / 1e6
            for j in active:
                totals[segments[j][2]] = totals.get(segments[j][2], 0.0) + share
        last = time
        if starts:
            active.add(i)
        else:
            active.discard(i)
    return [
        OpTime(name, kind, scope, totals.get((name, kind, scope), 0.0), n) for (name, kind, scope), n in calls.items()
    ]


_INSTRUCTION = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(.*)$")
_OPCODE = re.compile(r"(?<![\w.\-%])([a-z][a-z0-9_\-]*)\(")
_DUMP_NAME = re.compile(r"^module_\d+\.(.+)\.\w+_after_optimizations\.txt$")  # names may hold dots (TF's)
_COMPUTATION = re.compile(r"^\s*(?:ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$")


def hlo_ops(dump_dir: str | Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(module, instruction) -> (kind, op_name) from XLA's text dumps (--xla_dump_to, after
    optimizations): kind is the opcode, "fusion(dot)" for a fusion around a matrix multiply; op_name
    is the JAX name stack the instruction came from (named scopes included). The newest dump of each
    module name wins (the trace names modules, not their versions)."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    dumps = sorted(Path(dump_dir).glob("module_*.*after_optimizations.txt"))
    for path in dumps:  # module_NNNN.<name>.<backend>_after_optimizations.txt, oldest first
        module = _DUMP_NAME.match(path.name).group(1)  # type: ignore[union-attr]  # the glob matched it
        has_dot: dict[str, bool] = {}
        current = ""
        rows: list[tuple[str, str, str | None, str]] = []
        for line in path.read_text().splitlines():
            head = _COMPUTATION.match(line)
            if head and "=" not in line.split("{", 1)[0]:
                current = head.group(1)
                continue
            found = _INSTRUCTION.match(line)
            if not found:
                continue
            name, rest = found.groups()
            code = _OPCODE.search(rest)
            opcode = code.group(1) if code else "?"
            has_dot[current] = has_dot.get(current, False) or opcode in ("dot", "convolution")
            calls = re.search(r"calls=%?([\w.\-]+)", rest)
            stack = re.search(r'op_name="([^"]*)"', rest)
            rows.append((name, opcode, calls.group(1) if calls else None, stack.group(1) if stack else ""))
        for name, opcode, called, op_name in rows:
            kind = "fusion(dot)" if opcode == "fusion" and called and has_dot.get(called) else opcode
            out[(module, name)] = (kind, op_name)
    return out
