"""Issue 46: a run killed at any of its phases (staging, timing, settling between samples, storing a
round, between rounds, after the last round, during asv's part) with SIGINT, SIGTERM or SIGKILL keeps every round that finished, on disk and
readable, in both stores alike; leaves no child process behind, the lock free and the tracked files as
they were. A clone of this repository, the float64 NumPy plugin as the framework (seconds, no deep
learning framework), marking its phases in a folder so the test knows when to strike."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from asv_files import stores_agree
from conftest import PLUGIN, ROOT, numpy_plugin, plugin_env
from test_processes import _head, _marked  # the same /proc walk and revision, one copy

from bench.store import layout, rounds_file

pytestmark = pytest.mark.slow
MACHINE = "kill"
ROUNDS = 3

MARKED = (
    PLUGIN
    + """

import os as _os
import time as _time


def _mark(what):
    folder = _os.environ.get("SEQMNIST_TEST_PHASES")
    if folder:
        open(_os.path.join(folder, f"{what}-{_os.getpid()}"), "a").close()


_build = NumpyLSTM._build
_step = NumpyLSTM.step_on_device


def _marked_build(self):
    _mark("staging")
    _time.sleep(float(_os.environ.get("SEQMNIST_TEST_STAGE_SLEEP", "0")))
    _build(self)


def _marked_step(self, x, y):
    _mark("timing")
    out = _step(self, x, y)
    _mark("settled")
    return out


NumpyLSTM._build = _marked_build
NumpyLSTM.step_on_device = _marked_step
"""
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("kills")
    (base / "plugin").mkdir()
    return base, numpy_plugin(base / "plugin", MARKED)


def _clone(base: Path, tag: str) -> Path:
    repo = base / f"repo-{tag}"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(repo)], check=True)
    return repo


def _count(folder: Path, what: str) -> int:
    return len(list(folder.glob(f"{what}-*")))


def _asv_running(marker: str) -> bool:
    for pid in _marked(marker):
        try:
            if b"asv\x00run" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _rounds_stored(err: str, phases: Path, marker: str) -> bool:
    """The rounds file exists: the first round's store has begun (it is written by a rename)."""
    repo = phases.parent / phases.name.replace("phases-", "repo-")
    return any((repo / "results" / "rounds" / MACHINE).glob("*.csv"))


PHASES = {  # when to strike: (stderr so far, the phase folder, the run's marker)
    "staging": lambda err, ph, mk: _count(ph, "staging") >= 2,  # round 2's worker, staging
    "timing": lambda err, ph, mk: _count(ph, "timing") >= 2,  # round 2's worker, taking its samples
    "settling": lambda err, ph, mk: _count(ph, "settled") >= 2,  # round 2: a sample just ended, the next waits
    "storing": _rounds_stored,  # round 1's rounds going to disk, or just gone
    "between-rounds": lambda err, ph, mk: "[rounds] round 1/" in err,
    "after-last-round": lambda err, ph, mk: f"[rounds] round {ROUNDS}/" in err,
    "asv": lambda err, ph, mk: ": asv run" in err and _asv_running(mk),
}
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


# make test's strikes (4 of the 21): each signal, and the phases where a round is made, stored and
# published; make test-all strikes every phase with every signal
IN_MAKE_TEST = {("staging", "SIGINT"), ("timing", "SIGTERM"), ("storing", "SIGKILL"), ("asv", "SIGINT")}


def _cases():
    for phase in PHASES:
        for sig in SIGNALS:
            marks = () if (phase, sig) in IN_MAKE_TEST else (pytest.mark.long,)
            yield pytest.param(phase, sig, marks=marks, id=f"{phase}-{sig}")


@pytest.mark.parametrize("phase, sig", list(_cases()))
def test_a_run_killed_at_any_phase_keeps_every_finished_round(setup, phase, sig):
    base, plugin = setup
    tag = uuid.uuid4().hex[:6]
    repo = _clone(base, tag)
    phases = base / f"phases-{tag}"
    phases.mkdir()
    marker = f"SEQMNIST_TEST_MARK={uuid.uuid4().hex}"
    key, value = marker.split("=")
    env = plugin_env(plugin)
    env.update(
        PYTHONPATH=os.pathsep.join([str(repo), env["PYTHONPATH"]]),
        SEQMNIST_TEST_PHASES=str(phases),
        SEQMNIST_TEST_STAGE_SLEEP="1.0",
        **{key: value},
    )
    run = subprocess.Popen(
        [
            sys.executable, "-m", "bench.cli", "run", "--quick", "--frameworks", "numpy-ref",
            "--bench", "TrainStep|cold_start", "--processes", str(ROUNDS), "--machine", MACHINE,
        ],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal, even when this
    )  # fmt: skip  # test runs in a background job (which ignores SIGINT, and its children inherit that)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(run.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        end = time.monotonic() + 240
        while not PHASES[phase]("".join(err), phases, marker):
            assert run.poll() is None, f"the run ended before {phase}: {''.join(err)[-3000:]}"
            assert time.monotonic() < end, f"{phase} never came: {''.join(err)[-3000:]}"
            time.sleep(0.05)
        seen = len(set(re.findall(r"\[rounds\] round (\d+)/", "".join(err))))  # finished and stored
        run.send_signal(SIGNALS[sig])
        code = run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    reader.join(timeout=10)
    said = "".join(err)[-3000:]
    finished = code == 0 and phase == "after-last-round" and "interrupted" not in said  # on a loaded machine
    # the strike can come after the run's last write, its status then the finished run's (bench.cli.entry)
    assert code == (-9 if sig == "SIGKILL" else 130) or finished, said

    frame = rounds_file.load_for(layout.asv_dir(repo), MACHINE, _head(repo))
    stored_rounds = 0 if frame is None else frame["round"].nunique()
    assert stored_rounds >= seen, f"{seen} round(s) finished, {stored_rounds} stored: {said}"
    if frame is not None:
        stored = sorted(p.name for p in (layout.asv_dir(repo) / MACHINE).glob(f"{_head(repo)[:8]}-*.json"))
        assert len(stored) == 1, (stored, said)  # one results file of the commit, never two names
        stores_agree(layout.asv_dir(repo), MACHINE, _head(repo))

    deadline = time.monotonic() + 20
    while _marked(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _marked(marker), f"left running: {_marked(marker)}"

    tracked = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout
    assert tracked == "", tracked
    again = subprocess.run(
        [sys.executable, "-m", "bench.cli", "run", "--bench", "NoSuchBench", "--machine", MACHINE],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 2 and "no benchmark matches" in again.stderr, again.stderr[-2000:]  # the lock is free
