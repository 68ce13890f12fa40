"""One measurement process: stages a revision's asv benchmarks with asv_runner, then times them on
request, so that two of these (base and head) can be alternated sample by sample.

Run as a script from the measuring checkout (`python bench/measure/worker.py --tree REV_TREE ...`): it
imports the measured revision's own `bench/` and `impls/`, never this checkout's, so it imports
nothing from the project itself (the revision may predate this file). It speaks one JSON object per
line: requests on stdin, replies on the stdout it had at start (the framework's own prints go to
stderr). The process is the unit of replication: each compare round starts fresh ones.

A process does what a user's process for the question does, as far as one process can: its
benchmarks are staged and timed in parts, in the order their classes declare (`process_order`, default
1): predict (0: a user's predicting process has not trained), then the train step (1), the minimal
loop (2: a second model trained in the process) and the host matmul (3: 16 MiB arrays that move glibc's
malloc thresholds). `setup` stages the first part; each next part only when the engine asks
(`setup_next`, while "later" is true), after the samples of the parts before it.

    {"op": "setup", "keys": REGEX?}      -> {"jobs": [Described.message(), ...],
                                             "pid": P, "staged": {"import": s, "setup": s}, "later": B}
    {"op": "setup_next"}                   -> {"jobs": [...], "pid": P, "staged": {"setup": s}, "later": B}
    {"op": "time", "job": J, "number": N} -> {"seconds": per-call time of one sample of N calls}
    {"op": "quit"}

With `--zygote FD` it is a fork server instead (bench/measure/forks.py): it imports `--preload` (the
framework and nothing else) once, refuses if that started a thread, and then, for each request on the
socket FD (a JSON object with the worker's --bench, and its stdin, stdout and stderr as passed file
descriptors), forks a worker that runs as above from there: a new process, without the import.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import itertools
import json
import os
import re
import signal
import socket
import sys
import time
import traceback
from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Described:
    """One job as the setup reply describes it: the message the engine's rounds read (a fake worker in the
    tests builds it from this same record, so the two cannot drift)."""

    job: int
    name: str  # the asv benchmark
    param: int  # its index into the benchmark's parameter grid
    params: list[str]  # the job's parameters, asv's repr of each
    param_names: list[str]
    all_params: list[list[str]]  # the grid
    version: str | None  # the benchmark's asv version
    unit: str
    status: str  # ok, skipped, failed
    reason: str
    once: float | None  # seconds of one call while staging (the engine sizes its calibration from it)

    def message(self) -> dict:
        return asdict(self)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Stage and time one revision's asv benchmarks (see module doc).")
    p.add_argument("--tree", required=True, help="checkout whose bench/suites and impls are measured")
    p.add_argument("--bench", default="", help="regex on the asv benchmark name (a worker's; required)")
    p.add_argument("--framework", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--parent", type=int, default=0, help="the engine's pid: this worker dies with it (Linux)")
    p.add_argument("--zygote", type=int, default=-1, help="serve forks over this socket (a fork server)")
    p.add_argument("--preload", default="", help="a fork server's modules to import, comma-separated")
    args = p.parse_args(argv)
    if args.zygote < 0 and not args.bench:
        p.error("--bench is required")
    return args


def die_with(parent: int) -> None:
    """SIGKILL to this process when `parent` ends, however it ends (Linux PR_SET_PDEATHSIG, set here rather
    than in a preexec_fn: a fork through Python's at-fork callbacks can swallow the parent's Ctrl-C or
    SIGTERM); exit at once if `parent` is gone already. Nothing where the platform has no such call."""
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def discover(tree: str, pattern: str) -> list:
    """The revision's asv time benchmarks whose name matches `pattern` (asv_runner's discovery)."""
    from asv_runner.discovery import disc_benchmarks

    suites = os.path.join(tree, "bench", "suites")
    sys.path[:0] = [tree, os.path.dirname(suites)]
    regex = re.compile(pattern)
    return sorted(
        (b for b in disc_benchmarks(suites) if regex.search(b.name) and b.type == "time"), key=lambda b: b.name
    )


def combos(bench, framework: str, device: str):
    """(param index, params) of `bench` for this framework and device."""
    names = list(getattr(bench, "param_names", []) or [])
    grid = list(itertools.product(*bench.params)) if bench.params else [()]
    for idx, params in enumerate(grid):
        values = dict(zip(names, params))
        if values.get("framework", repr(framework)) == repr(framework) and values.get("device", repr(device)) == repr(
            device
        ):
            yield idx, params


def key_of(bench, params: tuple) -> str:
    """The parameters other than framework and device, as the engine pairs arms on: record.key_of's
    rule, repeated because the worker imports nothing of the project (module doc); a test pins the two."""
    names = list(getattr(bench, "param_names", []) or [])
    kept = [p for n, p in zip(names, params) if n not in ("framework", "device")] if names else list(params)
    return ", ".join(str(p).strip("'") for p in kept)


class Job:
    """One benchmark x parameter combination, staged in this process."""

    def __init__(self, bench, idx: int, params: tuple):
        self.bench, self.idx, self.params = bench, idx, params
        self.status, self.reason = "ok", ""
        self.once: float | None = None

    def setup(self) -> None:
        """asv's setup (a NotImplementedError there is a skip), then one warm call timed."""
        bench = self.bench
        bench.set_param_idx(self.idx)
        try:
            with contextlib.redirect_stdout(io.StringIO()) as said:
                skipped = bench.do_setup()
            if skipped:
                self.status = "skipped"
                self.reason = said.getvalue().strip().removeprefix("asv: skipped: ") or "skipped"
                return
            func = bench._param_bound_func(*self.params)
            func()
            start = time.perf_counter()
            func()
            self.once = max(time.perf_counter() - start, 1e-7)
        except Exception:  # a broken benchmark is a result of the revision, not a crash of the worker
            self.status, self.reason = "failed", traceback.format_exc(limit=8)

    def time(self, number: int) -> float:
        """One asv_runner sample of `number` calls (setup re-run between calls, as asv does)."""
        bench = self.bench
        bench.set_param_idx(self.idx)
        with contextlib.redirect_stdout(io.StringIO()):
            bench.do_setup()  # one benchmark object serves every parameter: point it at ours again
        bench.number, bench.repeat, bench.warmup_time, bench.min_run_count = number, 1, 0.0, 1
        with contextlib.redirect_stderr(io.StringIO()):
            return bench.run(*self.params)["samples"][0]

    def describe(self, job: int) -> dict:
        b = self.bench
        return Described(
            job=job,
            name=b.name,
            param=self.idx,
            params=[str(p) for p in self.params],
            param_names=list(b.param_names),
            all_params=[list(map(str, p)) for p in b.params],
            version=b.version,
            unit=b.unit,
            status=self.status,
            reason=self.reason,
            once=self.once,
        ).message()


def declared(bench, name: str):
    """An attribute the benchmark's function or class declares (asv_runner keeps only those it knows)."""
    return next((getattr(src, name) for src in getattr(bench, "_attr_sources", ()) if hasattr(src, name)), None)


def parts(jobs: list[Job]) -> list[list[Job]]:
    """The jobs in the parts they are staged and timed in: by their benchmark's `process_order` (default 1)."""
    order = [declared(j.bench, "process_order") for j in jobs]
    ranks = sorted({1 if o is None else int(o) for o in order})
    return [[j for j, o in zip(jobs, order) if (1 if o is None else int(o)) == rank] for rank in ranks] or [[]]


def stage(jobs: list[Job], part: list[Job], staged: dict, later: bool) -> dict:
    """Set up `part` (build, compile, warm-up) and describe it: the setup reply."""
    began = time.perf_counter()
    for job in part:
        job.setup()
    staged = {**staged, "setup": time.perf_counter() - began}
    described = [job.describe(jobs.index(job)) for job in part]
    return {"jobs": described, "pid": os.getpid(), "staged": staged, "later": later}


def serve(args: argparse.Namespace, reply) -> None:
    jobs: list[Job] = []
    pending: list[list[Job]] = []  # the parts not staged yet
    for line in sys.stdin:
        request = json.loads(line)
        op = request.get("op")
        if op == "setup":  # "keys": a regex the parameters other than framework and device must match
            keys = re.compile(request.get("keys") or ".*")
            began = time.perf_counter()
            jobs = [
                Job(b, idx, params)
                for b in discover(args.tree, args.bench)
                for idx, params in combos(b, args.framework, args.device)
                if keys.fullmatch(key_of(b, params))
            ]
            with contextlib.suppress(Exception):  # the framework's import, timed apart (a failure: the jobs say)
                __import__("impls").load(args.framework)
            found = time.perf_counter()
            pending = parts(jobs)
            reply(stage(jobs, pending.pop(0), {"import": found - began}, later=bool(pending)))
        elif op == "setup_next":
            part = pending.pop(0) if pending else []
            reply(stage(jobs, part, {}, later=bool(pending)))
        elif op == "time":
            job = jobs[request["job"]]
            try:
                reply({"seconds": job.time(int(request["number"]))})
            except Exception:
                reply({"error": traceback.format_exc(limit=8)})
        elif op == "quit":
            return
        else:
            reply({"error": f"unknown op {op!r}"})


def threads() -> int:
    """Threads of this process now (Linux /proc; 1 where it cannot be read)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def zygote(args: argparse.Namespace) -> int:
    """A fork server (module doc): the thread budget, then NumPy (its BLAS pool, which forks safely: the
    base count), then `--preload`; a thread more than the base refuses (a pool that does not survive a
    fork), else each request forks a worker. Ends when the engine closes its end of the socket."""
    sock = socket.socket(fileno=args.zygote)
    began = time.perf_counter()
    sys.path[:0] = [args.tree]
    with contextlib.suppress(ImportError):  # the revision's thread budget, before any framework loads
        __import__("impls.threads", fromlist=["apply_thread_budget"]).apply_thread_budget()
    __import__("numpy")

    base = threads()
    try:
        for name in filter(None, args.preload.split(",")):
            __import__(name)
    except Exception as exc:  # the workers, fresh, will say what is wrong with the framework
        sock.send(json.dumps({"refused": f"importing it failed ({type(exc).__name__}: {exc})"}).encode())
        return 0
    after = threads()
    if after > base:
        said = f"importing {args.preload} started {after - base} thread(s): a pool that does not survive a fork"
        sock.send(json.dumps({"refused": said}).encode())
        return 0
    sock.send(json.dumps({"pid": os.getpid(), "import": time.perf_counter() - began}).encode())
    signal.signal(signal.SIGCHLD, _reap)  # reaped here, so that their CPU time reaches this process's
    # children's total, which the engine counts as the run's own (sampler.outside_cpu)
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        if not message:
            return 0
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            _forked(sock, fds, request, args)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())


def _reap(signum=None, frame=None) -> None:
    """Wait for every forked worker that has ended (the engine watches them through a pidfd)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _forked(sock: socket.socket, fds: list[int], request: dict, args: argparse.Namespace) -> None:
    """The forked worker: the request's pipes as its stdin, stdout and stderr, then a worker's main."""
    code = 1
    try:
        sock.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        argv = ["--tree", args.tree, "--bench", request["bench"], "--framework", args.framework]
        code = main([*argv, "--device", args.device, "--parent", str(os.getppid())])
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    die_with(args.parent)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if args.zygote >= 0:
        return zygote(args)
    os.chdir(args.tree)
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the frameworks print goes to stderr, never into the protocol

    def reply(obj: dict) -> None:
        protocol.write(json.dumps(obj) + "\n")
        protocol.flush()

    try:
        serve(args, reply)
    except Exception:
        reply({"error": traceback.format_exc(limit=8)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
