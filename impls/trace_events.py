"""Self times from a Chrome / Perfetto trace (the JSON the JAX and TensorFlow profilers export): the
frameworks' profiler hooks read their own trace files with it. Imports no framework."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

from .base import OpTime


def read(path: str | Path) -> list[dict]:
    """The trace's events (a .json or .json.gz file holding {"traceEvents": [...]} or a bare list)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return data.get("traceEvents", []) if isinstance(data, dict) else data


def self_times(events: list[dict], keep: Callable[[dict, list[str]], bool], kind=lambda e: e["name"]) -> list[OpTime]:
    """Every complete event ("ph": "X") that `keep(event, enclosing names)` accepts, with its self time
    (its duration less that of the events nested directly in it on the same thread), summed by
    (name, kind, scope). Timestamps and durations are microseconds, as the format has them."""
    threads: dict[tuple, list[dict]] = {}
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            threads.setdefault((e.get("pid"), e.get("tid")), []).append(e)
    totals: dict[tuple[str, str, str], list] = {}
    for thread_events in threads.values():
        thread_events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack: list[tuple[dict, float]] = []  # (event, end)
        child_time: dict[int, float] = {}
        for e in thread_events:
            start, end = float(e["ts"]), float(e["ts"]) + float(e["dur"])
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack:
                parent = stack[-1][0]
                child_time[id(parent)] = child_time.get(id(parent), 0.0) + float(e["dur"])
            e["_scope"] = [s[0]["name"] for s in stack]
            stack.append((e, end))
        for e in thread_events:
            if not keep(e, e["_scope"]):
                continue
            self_us = max(0.0, float(e["dur"]) - child_time.get(id(e), 0.0))
            key = (e["name"], kind(e), "/".join(e["_scope"]))
            total = totals.setdefault(key, [0.0, 0])
            total[0] += self_us / 1e6
            total[1] += 1
    return [OpTime(name, k, scope, seconds, calls) for (name, k, scope), (seconds, calls) in totals.items()]
