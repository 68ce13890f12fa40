"""`seqmnist-bench settings` over fake workers whose speed depends on the setting their process was
started with: a setting whose library is missing is a skipped row naming the library and the run goes
on; a setting that is faster is proved so with its interval; nothing is set on the closed row."""

from __future__ import annotations

import ctypes.util
import re
import subprocess
from pathlib import Path

import pytest
from measure.fakes import Machine  # tests/measure/, a namespace package

from bench.cli import main
from bench.measure import rounds
from bench.report import settings as report_settings

SPEED = {"": 1.0, "MALLOC_MMAP_THRESHOLD_": 1.0, "libtcmalloc_minimal.so.4": 0.8}  # per-call time factors


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    (tmp_path / "asv.conf.json").write_text("{}")
    for cmd in (["init", "-q"], ["add", "."], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "c"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bench.tasks.settings.identify_host", lambda root, name, threads, log: ("box", {}, {}))
    real = ctypes.util.find_library
    monkeypatch.setattr(
        ctypes.util, "find_library", lambda name: None if name == "jemalloc" else real(name) or f"lib{name}.so.4"
    )
    machine = Machine({("torch", "128"): 0.01, ("jax", "128"): 0.02}, drift=0.2, noise=0.01, seed=3)
    started: list[dict] = []

    def worker(tree, framework, device, bench, env):
        started.append(env)
        fake = machine.start(rounds.Arm(f"{framework}:{device}", Path(tree), framework, device), bench, env)
        factor = SPEED[next((k for k in SPEED if k and (k in env or env.get("LD_PRELOAD") == k)), "")]
        fake.jobs = [(key, t * factor) for key, t in fake.jobs]
        return fake

    monkeypatch.setattr(rounds, "Worker", worker)
    return tmp_path, started


def test_a_missing_library_is_a_skipped_row_and_the_run_goes_on(checkout, capsys):
    root, started = checkout
    assert main(["settings", "--frameworks", "torch", "jax", "--rounds", "6"]) == 0
    out = capsys.readouterr().out
    assert "skipped: libjemalloc.so.2 is not installed here (Debian: apt-get install libjemalloc2)" in out
    (path,) = (root / "results" / "settings" / "box").glob("*.csv")
    found = report_settings.read(path)
    assert set(found.rounds.arm) == {
        "torch:cpu", "torch:cpu@glibc-fixed", "torch:cpu@tcmalloc", "jax:cpu", "jax:cpu@glibc-fixed", "jax:cpu@tcmalloc",
    }  # fmt: skip
    gains = report_settings.gains(found).set_index(["framework", "setting"])
    for fw in ("torch", "jax"):
        assert gains.loc[(fw, "tcmalloc"), "proved"] and gains.loc[(fw, "tcmalloc"), "low"] > 0.15
        assert gains.loc[(fw, "tcmalloc"), "low"] < 0.25 < gains.loc[(fw, "tcmalloc"), "high"]
        assert not gains.loc[(fw, "glibc-fixed"), "proved"]
    assert found.meta["skipped"] == {
        "jemalloc": "libjemalloc.so.2 is not installed here (Debian: apt-get install libjemalloc2)"
    }
    closed = [env for env in started if "LD_PRELOAD" not in env and "MALLOC_MMAP_THRESHOLD_" not in env]
    assert len(closed) == 12  # six rounds of each framework's plain process, nothing set
    said = report_settings.sentences(found)
    first = re.match(r"(torch|jax) training \+(\d+)% \[\+(\d+)%, \+(\d+)%\] with tcmalloc", said[0])
    assert first, said[0]  # the largest proved gain first, with its interval (the truth: +25%, 1/0.8)
    gain, low, high = (int(x) for x in first.groups()[1:])
    assert low <= 25 <= high + 1 and abs(gain - 25) <= 2, said[0]  # the fakes' drift and noise move it a point
    assert any(line.startswith("jemalloc skipped: libjemalloc.so.2") for line in said)
