"""The paired-rounds engine with fake workers: pairing cancels drift, the adaptive stop, bimodal
processes named, coverage of the stated intervals. Seconds, no framework."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from asv_files import BASE, stores_agree
from fakes import BENCH, Machine, arms

from bench.measure import estimate
from bench.measure.rounds import Plan, run_rounds
from bench.store import rounds_file
from bench.store.run_store import RoundsStore

TRUTH = {("torch", "128"): 0.010, ("jax", "128"): 0.015, ("tensorflow", "128"): 0.030}


def _run(machine, rounds=10, check=None, **plan):
    """The engine's rounds on a simulated machine, which no other process on this host disturbs (the
    host's steal and outside CPU are not read)."""
    p = Plan(bench=BENCH, min_rounds=rounds if check is None else 6, max_rounds=rounds, seed=1, **plan)
    return run_rounds(
        arms("torch", "jax", "tensorflow"),
        p,
        {},
        check=check,
        start=machine.start,
        steal=lambda: None,
        outside=lambda: None,
    )


def test_round_drift_shared_by_every_arm_cancels_in_the_ratio():
    """+-30% from round to round (process to process) and 2% per sample: the ratio's interval stays
    within +-2% of the true 1.5 after 10 rounds, while each cell's own interval is far wider."""
    r = _run(Machine(TRUTH, drift=0.3, noise=0.02, seed=3))
    ratio = estimate.ratios(r.frame, "torch:cpu").set_index("arm").loc["jax:cpu"]
    assert ratio.low <= 1.5 <= ratio.high
    assert 1.5 * 0.98 <= ratio.low and ratio.high <= 1.5 * 1.02
    cell = estimate.cells(r.frame).set_index("arm").loc["jax:cpu"]
    assert estimate.half_width(cell.value, cell.low, cell.high) > 0.05  # the drift is in the cell


def test_ratio_from_each_sides_mean_without_pairing_is_not_as_tight():
    """Break the pairing (shuffle one arm's rounds): the same data gives a far wider ratio interval."""
    r = _run(Machine(TRUTH, drift=0.3, noise=0.02, seed=3))
    f = r.frame.copy()
    jax = f.arm == "jax:cpu"
    f.loc[jax, "round"] = np.roll(f.loc[jax, "round"].to_numpy(), 3)
    ratio = estimate.ratios(f, "torch:cpu").set_index("arm").loc["jax:cpu"]
    assert estimate.half_width(ratio.ratio, ratio.low, ratio.high) > 0.05


def test_bracketing_by_the_reference_cancels_drift_within_a_round():
    """Seconds-long swings within a process (this box: 5-12% sd, autocorrelated): with five arms, each
    sample taken between two of the reference's pairs it with the machine's state of that moment; the
    same rounds without a reference (ABCDE EDCBA) pair samples up to four samples apart."""
    truth = {**TRUTH, ("keras-jax", "128"): 0.02, ("keras-torch", "128"): 0.04}
    five = arms("torch", "jax", "tensorflow", "keras-jax", "keras-torch")
    widths = {}
    for reference in ("torch:cpu", None):
        plan = Plan(bench=BENCH, min_rounds=10, max_rounds=10, seed=1, reference=reference)
        r = run_rounds(five, plan, {}, start=Machine(truth, drift=0.3, wander=0.06, noise=0.01, seed=4).start)
        ratios = estimate.ratios(r.frame, "torch:cpu").set_index("arm")
        for arm, row in ratios.iterrows():
            true = truth[(arm.split(":")[0], "128")] / 0.010
            assert row.low <= true <= row.high, (reference, arm)
        widths[reference] = max(estimate.half_width(x.ratio, x.low, x.high) for x in ratios.itertuples())
    assert widths["torch:cpu"] < 0.03 < widths[None]


def test_adaptive_stop_ends_once_every_ratio_is_within_its_width():
    m = Machine(TRUTH, drift=0.3, noise=0.03, seed=5)
    seen = []

    def check(frame, round_no):
        seen.append(round_no)
        left = estimate.open_items(frame, "torch:cpu", 0.03, math.inf)
        return None if left else "decided"

    r = _run(m, rounds=60, check=check)
    assert r.stopped == "decided"
    last = r.frame["round"].max()
    assert 6 <= last < 60
    assert not estimate.open_items(r.frame, "torch:cpu", 0.03, math.inf)
    assert estimate.open_items(r.frame[r.frame["round"] < last], "torch:cpu", 0.03, math.inf) or last == 6


def test_stop_rule_judges_each_ratio_as_the_page_publishes_it():
    """With a machine's run-to-run term the stop rule widens each ratio as the report does: rounds
    decided to +-3% within the run are not decided once a 2% log sd between runs (+-3.9%) is added, and
    the width judged is the published throughput interval's."""
    m = Machine(TRUTH, drift=0.3, noise=0.01, seed=5)
    r = _run(m, rounds=12)
    assert not estimate.open_items(r.frame, "torch:cpu", 0.03, math.inf)
    assert len(estimate.open_items(r.frame, "torch:cpu", 0.03, math.inf, tau=0.02)) == 2  # jax, tensorflow
    for x in estimate.ratios(r.frame, "torch:cpu").itertuples():
        speedup, low, high = estimate.published(x.ratio, x.low, x.high, 0.02)
        assert speedup == pytest.approx(1 / x.ratio)
        assert 0.039 < estimate.half_width(speedup, low, high) < 0.03 + 0.04
        assert low < 1 / x.high and 1 / x.low < high


def test_budget_ends_the_rounds_when_a_width_cannot_be_reached():
    m = Machine(TRUTH, drift=0.3, noise=0.3, seed=5)
    r = _run(m, rounds=60, check=lambda f, n: None, budget=0.0)
    assert r.frame["round"].max() == 6 and "budget" in r.stopped


def test_a_framework_whose_processes_are_bimodal_is_reported_as_such():
    m = Machine(TRUTH, drift=0.3, noise=0.02, bimodal={"jax": (0.4, 1.5)}, seed=11)
    r = _run(m, rounds=16)
    flags = estimate.cells(r.frame).set_index("arm").bimodal
    assert flags["jax:cpu"] and not flags["torch:cpu"] and not flags["tensorflow:cpu"]


def test_drift_alone_is_not_called_bimodal():
    for seed in range(10):
        r = _run(Machine(TRUTH, drift=0.4, noise=0.03, seed=seed), rounds=16)
        assert not estimate.cells(r.frame).bimodal.any(), seed


@pytest.mark.parametrize("noise,outliers", [(0.03, 0.0), (0.05, 0.1)])
def test_stated_95_percent_ratio_intervals_cover_the_truth_at_least_90_percent(noise, outliers):
    """Simulated runs with drift, sample noise and whole-process outliers (a slow process in a round):
    the ratio intervals hold the true ratio in >= 90% of runs."""
    hits = total = 0
    for seed in range(120):
        bimodal = {"jax": (outliers, 1.4)} if outliers else {}
        r = _run(Machine(TRUTH, drift=0.3, noise=noise, bimodal=bimodal, seed=seed), rounds=8)
        for row in estimate.ratios(r.frame, "torch:cpu").itertuples():
            true = TRUTH[(row.arm.split(":")[0], "128")] / TRUTH[("torch", "128")]
            hits += row.low <= true <= row.high
            total += 1
    assert hits / total >= 0.90, f"{hits}/{total}"


def test_a_cell_from_two_rounds_has_a_wide_finite_interval_and_its_ratio_none():
    r = _run(Machine(TRUTH, drift=0.05, noise=0.02, seed=3), rounds=2)
    cell = estimate.cells(r.frame).set_index("arm").loc["jax:cpu"]
    assert math.isfinite(cell.high) and cell.low > 0 and cell.low < cell.value < cell.high
    ratio = estimate.ratios(r.frame, "torch:cpu").set_index("arm").loc["jax:cpu"]
    assert not math.isfinite(ratio.high)  # the table says "too few rounds" rather than inventing one


def test_an_interrupt_keeps_the_rounds_that_finished_and_drops_the_one_under_way():
    machine = Machine(TRUTH, drift=0.1, seed=5)
    started = []

    def start(arm, bench, env):
        started.append(arm.name)
        if len(started) == 3 * 3 + 2:  # round 4, its second process
            raise KeyboardInterrupt
        return machine.start(arm, bench, env)

    p = Plan(bench=BENCH, min_rounds=6, max_rounds=10, seed=1)
    r = run_rounds(arms("torch", "jax", "tensorflow"), p, {}, start=start)
    assert r.interrupted and "after 3 round(s)" in r.stopped
    assert sorted(set(r.frame["round"])) == [1, 2, 3]
    assert set(r.frame.arm) == {"torch:cpu", "jax:cpu", "tensorflow:cpu"}


def test_a_closed_row_never_sees_a_setting_and_its_open_row_does():
    """A fake worker twice as fast under MALLOC_ARENA_MAX (set in the caller's shell): the closed arm runs
    as a plain process without it, the open-division arm that declares it gets it, and only its time moves."""
    from pathlib import Path

    from bench.measure import rounds

    seen: dict[str, dict] = {}
    machine = Machine({("torch", "128"): 0.01}, drift=0.0, wander=0.0, noise=0.0)

    def start(arm, bench, env):
        seen[arm.name] = env
        worker = machine.start(arm, bench, env)
        worker.jobs = [(k, t / 2 if env.get("MALLOC_ARENA_MAX") else t) for k, t in worker.jobs]
        return worker

    closed = rounds.Arm("torch:cpu", Path("."), "torch", "cpu")
    open_ = rounds.Arm("torch:cpu@arena", Path("."), "torch", "cpu", env=(("MALLOC_ARENA_MAX", "1"),))
    shell = {"SEQMNIST_THREADS": "2", "MALLOC_ARENA_MAX": "1", "LD_PRELOAD": "libjemalloc.so.2"}
    plan = rounds.Plan(bench="x", min_rounds=2, max_rounds=2, sample_time=0.001, alternations=2, settle=0)
    frame = rounds.run_rounds([closed, open_], plan, shell, start=start).frame
    assert "MALLOC_ARENA_MAX" not in seen["torch:cpu"] and "LD_PRELOAD" not in seen["torch:cpu"]
    assert seen["torch:cpu"]["SEQMNIST_THREADS"] == "2"
    assert seen["torch:cpu@arena"]["MALLOC_ARENA_MAX"] == "1" and "LD_PRELOAD" not in seen["torch:cpu@arena"]
    means = frame.groupby("arm").value.mean()
    assert means["torch:cpu"] == pytest.approx(0.01) and means["torch:cpu@arena"] == pytest.approx(0.005)


def test_fewer_rounds_than_an_interval_needs_run_and_stop_as_not_yet_within_width():
    """--rounds 3 takes exactly three rounds: the stop rule, asked from round 1, reads each unbounded
    interval as not yet within its width (it divided by the interval's lower end of 0 before)."""
    m = Machine({("torch", "128"): 0.01, ("jax", "128"): 0.02})
    said: list[list[str]] = []

    def check(frame, round_no):
        left = estimate.open_items(frame, "torch:cpu", 0.05, 0.10, tau=0.014)
        said.append(left)
        return None if left else "within"

    plan = Plan(bench="x", min_rounds=1, max_rounds=3, sample_time=0.001, alternations=2, settle=0)
    r = run_rounds(arms("torch", "jax"), plan, {}, check=check, start=m.start)
    assert r.frame["round"].max() == 3 and len(said) == 3
    assert all("jax:cpu TrainStep 128 ratio" in left for left in said)
    assert estimate.published(1.0, 0.0, math.inf, 0.014) == (1.0, 0.0, math.inf)


def test_a_bimodal_frameworks_ratio_keeps_its_slow_mode_in_proportion():
    """jax slow (1.6x) for its whole life in about a third of its processes: the ratio to torch is the
    mixture's (the mean log over processes), inside its interval, not the fast mode's alone."""
    m = Machine(
        {("torch", "128"): 0.01, ("jax", "128"): 0.02, ("tensorflow", "128"): 0.03},
        drift=0.1, noise=0.01, bimodal={"jax": (0.35, 1.6)}, seed=5,
    )  # fmt: skip
    plan = Plan(
        bench="x", min_rounds=16, max_rounds=16, sample_time=0.001, alternations=2, settle=0, reference="torch:cpu"
    )
    frame = run_rounds(arms("torch", "jax", "tensorflow"), plan, {}, start=m.start).frame
    assert estimate.bimodal(frame)[("jax:cpu", BENCH, "128")]
    r = estimate.ratios(frame, "torch:cpu").set_index("arm").loc["jax:cpu"]
    logs = estimate.round_log_ratios(
        estimate.by_round(frame[frame.arm == "jax:cpu"]), estimate.by_round(frame[frame.arm == "torch:cpu"])
    )
    slow = float(np.mean(logs > np.log(2.0 * 1.3)))  # the share of slow processes these rounds drew
    assert 0.15 < slow < 0.6
    mixture = 2.0 * np.exp(slow * np.log(1.6))
    assert r.ratio == pytest.approx(mixture, rel=0.03) and r.low < mixture < r.high


def test_an_interrupt_just_after_the_last_round_keeps_every_round():
    """SIGTERM right after round 2 of 2 (while the host's steal is read): both rounds are kept and the
    result says interrupted (they were all lost: the reading ran outside the interrupt guard); `keep`
    saw each round the moment it finished."""
    m = Machine({("torch", "128"): 0.01, ("jax", "128"): 0.02})
    calls = []

    def steal():
        calls.append(1)
        if len(calls) == 4:  # before and after each round: the 4th is after the last
            raise KeyboardInterrupt
        return 0.0

    kept = []
    plan = Plan(bench="x", min_rounds=2, max_rounds=2, sample_time=0.001, alternations=2, settle=0)
    r = run_rounds(arms("torch", "jax"), plan, {}, start=m.start, steal=steal, keep=lambda f: kept.append(len(f)))
    assert r.interrupted and sorted(set(r.frame["round"])) == [1, 2]
    assert kept == [2, 4]


def test_each_key_group_gets_fresh_processes_of_its_own_every_round():
    """A full run's batch sizes: each group of keys is staged and timed in processes that time nothing
    else (a batch-1024 step run first changed the batch-128 one's malloc state), and every key is timed
    once per round."""
    m = Machine({("torch", "32"): 0.004, ("torch", "128"): 0.01, ("jax", "32"): 0.008, ("jax", "128"): 0.02})
    started = []

    def start(arm, bench, env):
        worker = m.start(arm, bench, env)
        started.append(worker)
        return worker

    plan = Plan(bench="x", min_rounds=2, max_rounds=2, sample_time=0.001, alternations=2, settle=0)
    plan.key_groups = ("32", "(128)?")
    frame = run_rounds(arms("torch", "jax"), plan, {}, start=start).frame
    assert len(started) == 8  # 2 rounds x 2 groups x 2 arms
    assert sorted({k for w in started for k, _ in w.jobs}) == ["128", "32"]
    assert all(len(w.jobs) == 1 for w in started)  # one key per process
    assert frame.groupby(["round", "arm", "key"]).size().eq(1).all() and len(frame) == 8


STORE_GRID = [["'torch'", "'jax'"], ["'cpu'"], ["32", "128", "1024"]]


def test_a_round_interrupted_by_the_engine_keeps_every_round_before_it(tmp_path):
    """The engine's keep callback: an interrupt after round 2 of 3 leaves rounds 1 and 2 stored."""
    m = Machine({("torch", "128"): 0.01, ("jax", "128"): 0.02})
    s = RoundsStore(tmp_path / "asv", "box", BASE, "existing-py", False)
    calls = []

    def steal():
        calls.append(1)
        if len(calls) == 5:  # before round 3
            raise KeyboardInterrupt
        return 0.0

    def keep(frame):  # the fake jobs carry no grid: give them this test's
        frame = frame.assign(all_params=json.dumps(STORE_GRID), version="2")
        frame["param"] = [STORE_GRID[0].index(f"'{fw}'") * 3 + 1 for fw in frame.framework]
        frame["params"] = [f"{fw}, cpu, 128" for fw in frame.framework]
        s.save(frame)

    plan = Plan(bench="x", min_rounds=3, max_rounds=3, sample_time=0.001, alternations=2, settle=0)
    r = run_rounds(arms("torch", "jax"), plan, {}, start=m.start, steal=steal, keep=keep)
    assert r.interrupted
    assert sorted(set(rounds_file.load_for(tmp_path / "asv", "box", BASE)["round"])) == [1, 2]
    stores_agree(tmp_path / "asv", "box", BASE)


def test_a_round_beside_other_work_is_named_in_its_line_the_summary_and_the_result():
    """49.5: each round records the CPU time processes outside the run used; one past BUSY_SHARE of a core
    is named in the progress line and in where the time went (fake clocks: round 2 gets 5 CPU-s)."""
    from bench.measure.sampler import where_time_went

    m = Machine({("torch", "128"): 0.01, ("jax", "128"): 0.02})
    used = iter([0.0, 0.0, 0.0, 5.0, 5.0, 5.0])  # before and after each of 3 rounds
    lines: list[str] = []
    plan = Plan(bench="x", min_rounds=3, max_rounds=3, sample_time=0.001, alternations=2, settle=0)
    r = run_rounds(arms("torch", "jax"), plan, {}, start=m.start, log=lines.append, outside=lambda: next(used))
    assert r.outside == {1: 0.0, 2: 5.0, 3: 0.0}
    said = [line for line in lines if "beside other work" in line]
    assert len(said) == 1 and said[0].startswith("round 2/"), lines
    assert "round(s) 2 " in where_time_went(r) and "quiet machine" in where_time_went(r)


@pytest.mark.timed  # alone: a test beside it would be someone else's work
def test_outside_cpu_counts_other_processes_and_not_the_runs_own():
    """The real clock (Linux /proc): a busy process that is not this one's child shows; a busy child does not."""
    import subprocess
    import sys
    import time

    from bench.measure.sampler import outside_cpu

    if outside_cpu() is None:
        pytest.skip("no /proc/stat here")
    spin = "import time; end = time.time() + 1.5\nwhile time.time() < end: pass"
    before = outside_cpu()
    child = subprocess.Popen([sys.executable, "-c", spin])
    child.wait()
    own = outside_cpu() - before
    before = outside_cpu()
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{spin}" &'], check=True)  # reparented: not ours
    time.sleep(2.0)
    other = outside_cpu() - before
    assert other > 1.0, other  # about 1.5 CPU-s of someone else's work
    assert own < 0.5 * other, (own, other)


def test_a_live_grandchild_is_the_runs_own_work_too():
    """A fork server's workers are the engine's grandchildren: their CPU, while they run, is the run's own,
    not outside. Read as the run's own CPU rising, so a test beside this one on the other core changes nothing."""
    import subprocess
    import sys
    import time

    from bench.measure.sampler import outside_cpu, own_cpu

    if outside_cpu() is None:
        pytest.skip("no /proc/stat here")
    spin = "import time\nend = time.time() + 3\nwhile time.time() < end: pass"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])"
    before = own_cpu()
    child = subprocess.Popen([sys.executable, "-c", parent])
    time.sleep(2.0)  # the grandchild spins, alive: nobody has reaped its CPU time into ours yet
    own = own_cpu() - before
    child.wait()
    assert own > 1.0, own  # about 1.5-2 CPU-s of the grandchild's; none were only direct children counted


def test_one_at_a_time_times_each_process_with_no_other_worker_alive():
    """Plan.one_at_a_time (the closed division of `run`): every arm is timed in every round, each in a
    process started once the one before it has exited, so none of its samples has another worker alive,
    and the arms come in a different order from round to round."""
    m = Machine(TRUTH, drift=0.1, noise=0.01, seed=2)
    alive: list = []
    seen: list[tuple[int, str]] = []

    def start(arm, bench, env):
        worker = m.start(arm, bench, env)
        ask = worker.ask

        def asked(request, w=worker):
            if request["op"] == "time":
                assert [x for x in alive if not x.closed] == [w]
                seen.append((len(started), w.arm.framework))
            return ask(request)

        worker.ask = asked
        alive.append(worker)
        started.append(worker)
        return worker

    started: list = []
    plan = Plan(bench="x", min_rounds=6, max_rounds=6, sample_time=0.001, settle=0, reference="torch:cpu")
    plan.one_at_a_time = True
    frame = run_rounds(arms("torch", "jax", "tensorflow"), plan, {}, start=start).frame
    assert frame.groupby(["round", "arm"]).size().eq(1).all() and len(frame) == 18
    orders = {tuple(frame[frame["round"] == r].arm) for r in range(1, 7)}
    assert len(orders) > 1  # random order per round
    assert all(set(after) <= {arm} for arm, after in zip(frame.arm, frame.after))  # only its own samples before
    assert not any(frame.bracket.map(len))


def test_one_at_a_time_leaves_no_bias_that_interleaving_plants():
    """A planted interleaving effect: PyTorch's pool spins long after each of its samples and slows any
    other process's sample that starts within it by 1.3x (no settle). Samples taken in turn carry it into
    every ratio to PyTorch; one process at a time, none: each ratio's interval holds the truth."""
    truth = {("torch", "128"): 0.010, ("jax", "128"): 0.015, ("tensorflow", "128"): 0.030}
    got = {}
    for alone in (False, True):
        m = Machine(truth, drift=0.05, noise=0.01, seed=7, spin={"torch": (60.0, 1.3)})
        plan = Plan(bench="x", min_rounds=10, max_rounds=10, sample_time=0.001, settle=0, reference="torch:cpu")
        plan.one_at_a_time = alone
        frame = run_rounds(arms("torch", "jax", "tensorflow"), plan, {}, start=m.start).frame
        got[alone] = estimate.ratios(frame, "torch:cpu").set_index("arm")
    for arm, true in (("jax:cpu", 1.5), ("tensorflow:cpu", 3.0)):
        assert not got[False].loc[arm].low <= true <= got[False].loc[arm].high  # in turn: biased 1.3x
        assert got[False].loc[arm].ratio == pytest.approx(1.3 * true, rel=0.05)
        assert got[True].loc[arm].low <= true <= got[True].loc[arm].high  # alone: the truth


@pytest.mark.parametrize("slow", [0.0, 0.35])
def test_one_at_a_time_95_percent_ratio_intervals_cover_the_truth_at_least_90_percent(slow):
    """Each process alone, with its own level (log sd 0.05) and sample noise, and jax slow (1.6x) for its
    whole life in a share `slow` of its processes: the ratio intervals hold the truth in >= 90% of runs,
    the truth being the mixture's, exp(E log): a slow mode counts in proportion, never dropped."""
    hits = total = 0
    for seed in range(120):
        m = Machine(TRUTH, drift=0.05, noise=0.03, bimodal={"jax": (slow, 1.6)} if slow else {}, seed=seed)
        r = _run(m, rounds=12, one_at_a_time=True)
        for row in estimate.ratios(r.frame, "torch:cpu").itertuples():
            fw = row.arm.split(":")[0]
            true = TRUTH[(fw, "128")] / TRUTH[("torch", "128")] * (1.6**slow if fw == "jax" else 1.0)
            hits += row.low <= true <= row.high
            total += 1
    assert hits / total >= 0.90, f"{hits}/{total}"
