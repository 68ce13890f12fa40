"""Run-to-run spread (bench.measure.estimate.between_runs and widen) on simulated runs whose ratios
move from run to run by a known amount that no run's own rounds can see."""

from __future__ import annotations

import math
import random

import pytest
from fakes import BENCH, Machine, arms

from bench.measure import estimate
from bench.measure.rounds import Plan, run_rounds

TRUTH = {("torch", "128"): 0.010, ("jax", "128"): 0.015, ("tensorflow", "128"): 0.030}


def _runs(tau: float, n: int, seed: int) -> list:
    """n separate runs of 8 rounds: in each, every framework but torch is off its true speed by a factor
    exp(N(0, tau)) that holds for the whole run (the VM's state that day)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        truth = {
            (fw, key): t * (math.exp(rng.gauss(0, tau)) if fw != "torch" else 1.0) for (fw, key), t in TRUTH.items()
        }
        machine = Machine(truth, drift=0.3, noise=0.02, seed=seed * 100 + k)
        plan = Plan(bench=BENCH, min_rounds=8, max_rounds=8, seed=k)
        out.append(run_rounds(arms("torch", "jax", "tensorflow"), plan, {}, start=machine.start).frame)
    return out


def _coverage(runs: list, tau: float) -> float:
    hits = total = 0
    for frame in runs:
        for r in estimate.ratios(frame, "torch:cpu").itertuples():
            low, high = estimate.widen(r.ratio, r.low, r.high, tau)
            true = TRUTH[(r.arm.split(":")[0], "128")] / TRUTH[("torch", "128")]
            hits += low <= true <= high
            total += 1
    return hits / total


def test_the_run_to_run_spread_is_recovered_and_widening_restores_coverage():
    runs = _runs(tau=0.04, n=10, seed=1)
    found = estimate.between_runs(runs, "torch:cpu")
    assert found["pairs"] == 45 * 2 and found["ratios"] == 2
    assert 0.03 < found["tau"] < 0.05, found  # 4% recovered from 10 runs
    assert found["agreed"] < 0.5  # the runs' own intervals do not hold each other
    fresh = _runs(tau=0.04, n=30, seed=2)
    assert _coverage(fresh, 0.0) < 0.5  # a run's own interval misses the run-to-run move
    assert _coverage(fresh, 0.04) >= 0.90  # widened by the true term: the truth held
    assert _coverage(fresh, found["tau"]) >= 0.85  # by the term estimated from 10 runs


def test_runs_without_a_run_level_move_give_no_term():
    found = estimate.between_runs(_runs(tau=0.0, n=6, seed=3), "torch:cpu")
    assert found["tau"] < 0.01 and found["agreed"] >= 0.85


@pytest.mark.parametrize("tau", [0.0, 0.02])
def test_widen_adds_in_quadrature_on_the_log_scale(tau):
    low, high = estimate.widen(1.5, 1.5 / math.exp(0.03), 1.5 * math.exp(0.04), tau)
    extra = (1.959964 * tau) ** 2  # the 95% normal quantile
    assert math.log(1.5 / low) == pytest.approx(math.sqrt(0.03**2 + extra))
    assert math.log(high / 1.5) == pytest.approx(math.sqrt(0.04**2 + extra))
    assert estimate.widen(1.5, 0.0, math.inf, 0.02) == (0.0, math.inf)  # an unbounded interval stays so


def _stored_runs(tmp_path, n: int):
    """A checkout and the rounds files of n simulated runs (run-to-run term 4%), as `noise --between`
    reads them."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import make_repo

    from bench.store import rounds_file

    repo = tmp_path / "repo"
    make_repo(repo, 1)
    paths = [
        rounds_file.save(frame, tmp_path / f"run{k}" / "asv", "box", "a" * 40, append=False)
        for k, frame in enumerate(_runs(tau=0.04, n=n, seed=5))
    ]
    return repo, paths


def test_noise_between_stores_the_term_and_refuses_what_is_not_two_runs(tmp_path):
    from conftest import cli

    from bench.store import reruns

    repo, paths = _stored_runs(tmp_path, 3)
    proc = cli("noise", "--between", *map(str, paths), "--machine", "box", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "run-to-run log sd" in proc.stdout
    stored = next((repo / "results" / "meta").glob("box*/reruns.json"))
    assert reruns.tau(repo / "results", stored.parent.name) > 0.0
    one = cli("noise", "--between", str(paths[0]), "--machine", "box", cwd=repo)
    assert one.returncode == 2 and "at least two" in one.stderr
    missing = cli("noise", "--between", str(paths[0]), str(tmp_path / "nope.csv"), "--machine", "box", cwd=repo)
    assert missing.returncode == 2 and "no such rounds file" in missing.stderr


@pytest.mark.parametrize("bad", ["twice", "copy", "newline", "reordered", "inf", "1e308", "nan", "-0.01"])
def test_noise_between_refuses_one_run_twice_and_values_that_are_not_times(tmp_path, bad):
    """The same run given twice (by name or as a copy) would store a run-to-run term of 0 over a real
    one; inf, absurd, NaN or negative seconds are no measurement: exit 2 naming the file, nothing stored."""
    import shutil

    from conftest import cli

    from bench.store import rounds_file

    repo, paths = _stored_runs(tmp_path, 2)
    if bad == "twice":
        paths[1] = paths[0]
    elif bad == "copy":
        paths[1] = shutil.copy(paths[0], tmp_path / "copy.csv")
    elif bad == "newline":  # a copy with an extra trailing newline: other bytes, the same run
        paths[1] = tmp_path / "newline.csv"
        paths[1].write_bytes(paths[0].read_bytes() + b"\n")
    elif bad == "reordered":  # the same rows, written in another order
        paths[1] = tmp_path / "reordered.csv"
        rounds_file.write(rounds_file.load(paths[0]).iloc[::-1], paths[1])
    else:
        frame = rounds_file.load(paths[1])
        frame.loc[frame.index[0], "value"] = float(bad)
        rounds_file.write(frame, paths[1])
    proc = cli("noise", "--between", *map(str, paths), "--machine", "box", cwd=repo)
    assert proc.returncode == 2, proc.stdout
    assert ("again" if bad in ("twice", "copy", "newline", "reordered") else "not per-call seconds") in proc.stderr
    assert "internal error" not in proc.stderr
    assert not list((repo / "results").glob("meta/*/reruns.json"))


@pytest.mark.parametrize("tau", [1000, -0.1, "x", None, float("nan"), True])
def test_a_stored_run_to_run_term_that_is_no_measurement_is_refused_naming_the_file(tmp_path, tau):
    """reruns.json with tau 1000 overflowed estimate.widen inside every measuring run's stop rule."""
    import json

    from bench.core.files import CorruptFile
    from bench.store import reruns

    target = reruns.path(tmp_path, "box")
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"tau": tau}))
    with pytest.raises(CorruptFile, match="reruns.json"):
        reruns.tau(tmp_path, "box")
