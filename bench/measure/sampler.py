"""One round's clock: the Sampler takes every sample (after the previous process has gone idle), Spent
adds up where the round's wall time went (PHASES), and two lines say it (the run's, the rounds')."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Protocol

PHASES = ("staging", "calibrating", "sampling", "settling", "closing")  # where a round's wall time goes
BUSY_SHARE = 0.10  # a round in which processes outside the run used more CPU than this share of one core,
# averaged over the round, ran beside other work: it is named (pyperf's system checks warn the same way)


def outside_cpu() -> float | None:
    """CPU seconds this machine's processes have used since boot (/proc/stat: user, nice, system, irq,
    softirq; steal apart) less this process's and its children's, live or reaped: what work outside the
    run took. None where the kernel does not say. The difference over a round is that round's outside use."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:8]]
        busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
    except (OSError, IndexError, ValueError):
        return None
    return busy / os.sysconf("SC_CLK_TCK") - own_cpu()


def own_cpu() -> float:
    """CPU seconds this process and its descendants have used, live or reaped: the run's own work."""
    own = _ticks(os.getpid(), children=True) + sum(_ticks(pid, children=True) for pid in _children())
    return own / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int, children: bool = False) -> int:
    """Clock ticks process `pid` has run (utime + stime; with `children`, its reaped children's too)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # state is fields[0]: utime is stat's 14th field
    except OSError:
        return 0  # a child that exited between the listing and the read: its parent's cutime has it
    return sum(int(x) for x in fields[11 : 15 if children else 13])


def _children() -> list[int]:
    """This process's live descendants: the round's workers and the last round's, still exiting, and
    the fork servers with the workers they forked (grandchildren, whose CPU is the run's own too)."""
    parent_of: dict[int, int] = {}
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/stat") as f:
                    parent_of[int(stat)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier}
        found += sorted(frontier)
    return found


def busy_rounds(outside: dict[int, float], walls: dict[int, float]) -> list[int]:
    """The rounds whose outside CPU use passed BUSY_SHARE of one core over the round's wall time."""
    return sorted(r for r, cpu in outside.items() if cpu > BUSY_SHARE * walls.get(r, float("inf")))


def host_steal() -> float | None:
    """Seconds the hypervisor has run something else while this machine's CPUs wanted to run, summed over
    CPUs since boot (/proc/stat's steal); None where the kernel does not say. A round whose samples lost
    time this way is slow for a reason outside every process it timed."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class WorkerLike(Protocol):
    def send(self, request: dict) -> None: ...
    def receive(self, timeout: float = 900) -> dict: ...  # WorkerError when no reply comes in `timeout` s
    def ask(self, request: dict) -> dict: ...
    def close(self, interrupted: bool = False) -> None: ...
    def busy(self) -> bool | None: ...  # a thread of the process on a CPU now; None: cannot be read


@dataclass
class Spent:
    """Where the rounds' wall time went (PHASES, summed), each arm's workers' own staging split (summed),
    and the workers told to quit whose exit is waited for once the next round has staged (their
    teardown overlaps its staging, never its samples)."""

    phases: dict[str, float] = field(default_factory=dict)
    staged: dict[str, dict[str, float]] = field(default_factory=dict)
    quitting: list[WorkerLike] = field(default_factory=list)
    slowest_stage: dict[str, float] = field(default_factory=dict)  # arm -> the longest wall seconds one of its
    # workers took to reply to a staging request so far: what its next staging may take (Plan.stage_timeout)

    def add(self, phase: str, seconds: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds

    def add_staged(self, arm: str, parts: dict) -> None:
        """A worker's own import and setup seconds (its setup reply's "staged")."""
        own = self.staged.setdefault(arm, {})
        for part, seconds in parts.items():
            own[part] = own.get(part, 0.0) + float(seconds)

    def totals(self) -> dict[str, float]:
        return {phase: self.phases.get(phase, 0.0) for phase in PHASES}

    def reap(self, interrupted: bool = False) -> None:
        """Wait for the workers told to quit (kill them when interrupted)."""
        began = time.monotonic()
        while self.quitting:
            self.quitting.pop().close(interrupted=interrupted)
        self.add("closing", time.monotonic() - began)


class Sampler:
    """Takes every sample of a round: first waits until the arm that ran last is idle (Plan.settle),
    then times the sample and remembers which arm ran before it and how long before."""

    POLL = 0.001  # seconds between two looks at the previous process's threads

    def __init__(self, workers: dict[str, WorkerLike], settle: float, spent: Spent):
        self.workers, self.settle_limit, self.spent = workers, settle, spent
        self.last: str | None = None
        self.ended = time.monotonic()

    def settle(self, arm: str) -> None:
        """Wait until no thread of the previous arm's process is running, at most `settle` seconds (Plan.settle)
        (the whole of it where its threads cannot be read)."""
        if not self.settle_limit or self.last is None or self.last == arm:
            return
        began = time.monotonic()
        deadline, previous = began + self.settle_limit, self.workers[self.last]
        busy = previous.busy()
        while busy and time.monotonic() < deadline:
            time.sleep(self.POLL)
            busy = previous.busy()
        time.sleep(max(0.0, deadline - time.monotonic()) if busy is None else 0.0)  # unreadable: the whole wait
        self.spent.add("settling", time.monotonic() - began)

    def time(self, arm: str, job: int, number: int, phase: str = "sampling") -> tuple[float, str, float]:
        """(per-call seconds, the arm that ran before, seconds since it ended) of one sample."""
        self.settle(arm)
        before, gap = self.last or "-", time.monotonic() - self.ended
        began = time.monotonic()
        try:
            seconds = self.workers[arm].ask({"op": "time", "job": job, "number": number})["seconds"]
        finally:
            self.ended = time.monotonic()
            self.last = arm
            self.spent.add(phase, self.ended - began)
        return seconds, before, gap


def spent_line(meta: dict) -> str:
    """The run's wall time, its asv part and the share of it inside the rounds' timed samples."""
    wall, rounds = meta["wall_seconds"], meta.get("rounds") or {}
    sampling = (rounds.get("phases") or {}).get("sampling", 0.0)
    return (
        f"[run] {wall['run']:.0f} s in all: asv {wall['asv']:.0f} s ({', '.join(meta.get('asv_suites') or ['nothing'])}), "
        "rounds "
        f"{rounds.get('wall_seconds', 0.0):.0f} s; timed samples {sampling:.0f} s ({sampling / max(wall['run'], 1e-9):.0%} "
        "of the run)"
    )


def where_time_went(result) -> str:
    """One line: the share of the rounds' wall time inside timed samples, and where the rest went (the
    workers' own import and setup seconds per round, which overlap: they stage side by side)."""

    wall, phases = result.wall_seconds, result.phases
    rounds_taken = max(1, int(result.frame["round"].max()) if len(result.frame) else 1)
    parts = ", ".join(f"{name} {phases.get(name, 0.0):.0f} s" for name in PHASES if name != "sampling")
    other = wall - sum(phases.values())
    stolen = ""
    if result.steal:
        worst = max(result.steal, key=result.steal.get)
        stolen = f"; host steal {sum(result.steal.values()):.1f} s (most in round {worst}: {result.steal[worst]:.1f} s)"
    busy = busy_rounds(result.outside, result.walls)
    if busy:
        stolen += (
            f"; other processes on this machine used {sum(result.outside[r] for r in busy):.1f} CPU-s in round(s) "
            f"{', '.join(map(str, busy))} (over {BUSY_SHARE:.0%} of a core): run again on a quiet machine, or add rounds"
        )
    staged = "; ".join(
        f"{arm.split(':')[0]} " + " + ".join(f"{k} {v / rounds_taken:.1f} s" for k, v in own.items())
        for arm, own in sorted(result.staged.items())
    )
    return (
        f"timed samples {phases.get('sampling', 0.0):.0f} s of {wall:.0f} s ({result.efficiency:.0%}); {parts}, "
        f"harness {other:.0f} s{stolen}"
        + (f"; per round each worker's own import + setup (side by side): {staged}" if staged else "")
    )
