"""bench/report/changes.py: change points over stored history, on synthetic series where the truth is
known, and as report shows and gates them."""

from __future__ import annotations

import numpy as np
import pytest
from asv_files import FW, write_results
from conftest import cli

from bench import report
from bench.report.changes import detect


def test_a_5pct_step_is_found_at_its_commit_within_one():
    """30 commits, a 5% step at a random commit, each point with 1.5% noise (log sd) and that sd stored."""
    rng = np.random.default_rng(7)
    found = 0
    for _ in range(100):
        at = int(rng.integers(8, 23))
        y = np.exp(rng.normal(0, 0.015, 30))
        y[at:] *= 1.05
        steps = detect(y, np.full(30, 0.015))
        found += any(abs(s.at - at) <= 1 and 1.03 < s.ratio < 1.07 and s.low > 1 for s in steps)
    assert found >= 90


def test_a_flat_series_is_quiet_and_an_outlier_inside_it_is_not_a_step():
    rng = np.random.default_rng(8)
    alarms = 0
    for _ in range(100):
        y = np.exp(rng.normal(0, 0.02, 30))
        y[int(rng.integers(0, 28))] *= 1.3  # one slow run with newer commits after it: not a new level
        alarms += bool(detect(y, np.full(30, 0.02)))
    assert alarms <= 5


def test_the_newest_commit_alone_can_start_a_step():
    """What main's CI must hear of at once: the newest run 10% slower than a level of 12 commits."""
    rng = np.random.default_rng(9)
    y = np.exp(rng.normal(0, 0.02, 13))
    y[-1] = np.exp(np.median(np.log(y[:-1]))) * 1.10
    (step,) = detect(y, np.full(13, 0.02))
    assert step.at == 12 and step.low > 1


def test_a_step_down_is_an_improvement_with_its_interval():
    y = np.array([1.0] * 10 + [0.9] * 10) * np.exp(np.random.default_rng(1).normal(0, 0.01, 20))
    (step,) = detect(y, np.full(20, 0.01))
    assert step.at == 10 and step.high < 1 and step.low < 0.9 < step.high


def history(tmp_path, levels: dict[str, list[float]], n: int = 8):
    """n commits of one machine; levels: framework -> its train-step seconds per commit."""
    res = tmp_path / "results" / "asv"
    commits = [f"{i:x}" * 40 for i in range(1, n + 1)]
    for i, commit in enumerate(commits):
        values = [levels[fw][i] for fw in ("torch", "tensorflow", "jax")]
        cis = [(v * 0.99, v * 1.01) for v in values]
        write_results(
            res, "box", commit[:40], 1_700_000_000_000 + i * 3_600_000,
            {"throughput.TrainStep.time_train_step": (FW, values, cis)},
        )  # fmt: skip
    return res, commits


def test_change_points_name_the_commits_and_what_stepped_together(tmp_path):
    rng = np.random.default_rng(2)
    noise = lambda: list(np.exp(rng.normal(0, 0.005, 8)))  # noqa: E731
    torch = [0.010 * f * (1.10 if i >= 5 else 1.0) for i, f in enumerate(noise())]
    tf = [0.020 * f * (1.10 if i >= 5 else 1.0) for i, f in enumerate(noise())]
    jax = [0.015 * f for f in noise()]
    res, commits = history(tmp_path, {"torch": torch, "tensorflow": tf, "jax": jax})
    changes = report.change_points(report.load_results(res))
    assert sorted(changes.framework) == ["tensorflow", "torch"]
    row = changes.set_index("framework").loc["torch"]
    assert (row.before, row.after) == (commits[4], commits[5]) and 1.07 < row.ratio < 1.13 and row.low > 1
    assert "tensorflow" in row.together and not row.newest


def test_report_marks_change_points_and_fails_on_a_new_one_at_the_newest_commit(tmp_path):
    flat = [0.015] * 8
    slower_at_last = [0.010] * 7 + [0.0125]
    res, commits = history(tmp_path, {"torch": slower_at_last, "tensorflow": [0.02] * 8, "jax": flat})
    root = tmp_path
    proc = cli("report", "--readme", "", cwd=root)
    assert proc.returncode == 0, proc.stderr  # shown, not a failure unless asked
    assert "change point on box" in proc.stderr
    page = (res.parent / "report" / "index.html").read_text()
    section = page.split('id="changes"')[1].split("</section>")[0]
    assert commits[7][:8] in section and "+25.0%" in section and "yes" in section
    proc = cli(
        "report", "--no-plots", "--readme", "", "--fail-on-change-point", cwd=root, env=_env(GITHUB_ACTIONS="true")
    )
    assert proc.returncode == 1, proc.stderr
    assert "::error title=change point::throughput.TrainStep.time_train_step(torch, cpu, batch 128)" in proc.stdout


def test_a_result_dated_in_the_future_cannot_hide_the_newest_commits_step(tmp_path):
    """One stored file at the old level dated 2099 would sort after the newest commit and hide its +25%
    step (the gate passed): it is refused, naming the file, and skipped with --skip-corrupt."""
    slower_at_last = [0.010] * 7 + [0.0125]
    res, commits = history(tmp_path, {"torch": slower_at_last, "tensorflow": [0.02] * 8, "jax": [0.015] * 8})
    write_results(res, "box", "f" * 40, 4_080_000_000_000, {"throughput.TrainStep.time_train_step": (FW, [0.010, 0.02, 0.015], [(0.0099, 0.0101)] * 3)})  # fmt: skip
    proc = cli("report", "--no-plots", "--readme", "", "--fail-on-change-point", cwd=tmp_path)
    assert proc.returncode == 2 and "ffffffff" in proc.stderr and "future" in proc.stderr, proc.stderr
    proc = cli("report", "--no-plots", "--readme", "", "--fail-on-change-point", "--skip-corrupt", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the newest commit's step is heard


@pytest.mark.parametrize("levels", [[0.010] * 8, [0.010] * 7 + [0.008]], ids=["flat", "faster"])
def test_no_failure_without_a_worse_step_at_the_newest_commit(tmp_path, levels):
    history(tmp_path, {"torch": levels, "tensorflow": [0.02] * 8, "jax": [0.015] * 8})
    proc = cli("report", "--no-plots", "--readme", "", "--fail-on-change-point", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_the_history_plot_marks_a_change_point():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from bench.report.plots import _mark_changes

    fig, ax = plt.subplots()
    changes = pd.DataFrame(
        [
            dict(
                machine="box",
                device="cpu",
                metric="train_step",
                batch_size=128,
                framework="torch",
                after="c3",
                ratio=1.1,
            )
        ]
    )
    _mark_changes(ax, changes, "box", "cpu", "train_step", 128, ["c1", "c2", "c3", "c4"], {"torch": "C0"})
    assert [line.get_xdata()[0] for line in ax.lines] == [1.5] and ax.texts[0].get_text() == "+10%"
    plt.close(fig)


def _env(**extra):
    import os

    return dict(os.environ, **extra)


def test_two_change_points_on_one_machine_are_both_on_the_page(tmp_path):
    """torch and tensorflow step at the same commit on one machine: report renders both (it ended in an
    internal error when the page's change-point table was indexed by machine)."""
    res, commits = history(tmp_path, {"torch": [0.010] * 5 + [0.011] * 3, "tensorflow": [0.02] * 5 + [0.022] * 3,
                                      "jax": [0.015] * 8})  # fmt: skip
    proc = cli("report", "--no-plots", "--readme", "", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    section = (res.parent / "report" / "index.html").read_text().split('id="changes"')[1].split("</section>")[0]
    assert section.count(f"{commits[4][:8]} → {commits[5][:8]}") == 2
    assert "torch" in section and "tensorflow" in section


@pytest.mark.parametrize("n", [5, 20, 400, 1000])
def test_a_long_history_labels_at_most_twenty_commits_the_newest_among_them(n):
    """At 400 commits every label side by side merged into a black band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bench.report.plots import MAX_TICKS, commit_ticks

    fig, ax = plt.subplots()
    order = [f"{i:040x}" for i in range(n)]
    commit_ticks(ax, order)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == min(n, MAX_TICKS) or len(labels) <= MAX_TICKS
    assert labels[-1] == order[-1][:7] and ax.get_xticks()[-1] == n - 1
    assert len(labels) == n if n <= MAX_TICKS else len(labels) >= MAX_TICKS // 2
    plt.close(fig)


def test_one_stored_commit_gets_a_sentence_not_an_empty_history_plot(tmp_path):
    """A machine with a single commit drew five empty panels (axes 0 to 1, no points)."""
    res, _ = history(tmp_path, {"torch": [0.01], "tensorflow": [0.02], "jax": [0.015]}, n=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "history_box_cpu.png").write_bytes(b"an earlier report's plot")
    frame = report.load_results(res)
    assert report.plot_history(frame, out) == []
    assert not (out / "history_box_cpu.png").exists()
    page = report.write_page(frame, out).read_text()
    assert "one commit stored so far, so no history plot yet" in page
    res2, _ = history(tmp_path / "two", {"torch": [0.01, 0.011], "tensorflow": [0.02] * 2, "jax": [0.015] * 2}, n=2)
    assert [p.name for p in report.plot_history(report.load_results(res2), out)] == ["history_box_cpu.png"]


def _stepped_history(tmp_path, bump: bool):
    """Eight commits, every framework 20% slower from the fifth; with `bump`, the benchmark's version goes
    1 -> 2 there too. (The loaded frame, the commits.)"""
    res = tmp_path / "results" / "asv"
    commits = [f"{i:x}" * 40 for i in range(1, 9)]
    for i, commit in enumerate(commits):
        values = [s * (1.2 if i >= 4 else 1.0) for s in (0.010, 0.020, 0.015)]
        write_results(
            res, "box", commit, 1_700_000_000_000 + i * 3_600_000,
            {"throughput.TrainStep.time_train_step": (FW, values, [(v * 0.99, v * 1.01) for v in values])},
            version="2" if bump and i >= 4 else "1",
        )  # fmt: skip
    return report.load_results(res), commits


def test_a_step_at_a_change_of_method_is_no_change_point_and_no_verdict(tmp_path, monkeypatch):
    """Eight commits, the benchmark's version bumped at the fifth, every framework 20% slower from there:
    no change point, the verdict across the bump is "method changed" (no gate fails), and the history
    plot draws the break."""
    from bench.report import plots
    from bench.report.changes import change_points, method_breaks
    from bench.report.verdicts import gate_status, verdicts_between

    frame, commits = _stepped_history(tmp_path, bump=True)
    assert change_points(frame).empty
    breaks = method_breaks(frame)
    assert set(breaks.after) == {commits[4]} and set(breaks.old_version) == {"1"} and len(breaks) == 3
    result = verdicts_between(frame, "box", commits[3], commits[4])
    assert set(result.verdict) == {"method changed"} and gate_status(result, True) == 0
    assert set(verdicts_between(frame, "box", commits[4], commits[7]).verdict) == {"unchanged"}
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, dpi: figures.append(fig) or path)
    plots.plot_history(frame, tmp_path)
    (fig,) = figures
    drawn = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "method-break"]
    assert len(drawn) == 1  # the train-step panel: one band, before the fifth commit
    assert drawn[0].get_x() == pytest.approx(3.4)


def test_without_the_version_the_same_step_is_a_change_point(tmp_path):
    """The control: the same series, one version throughout, is a step at the fifth commit."""
    from bench.report.changes import change_points

    frame, commits = _stepped_history(tmp_path, bump=False)
    assert set(change_points(frame).after) == {commits[4]}


def test_the_noise_read_back_from_asvs_99pct_intervals_is_the_truth():
    """Points whose stored interval is asv's 99% one around a known log sd: each point's noise read back
    is that sd within 5% (read as a 95% interval it came back 1.31x too large)."""
    import pandas as pd

    from bench.measure.stats import z
    from bench.report.changes import _point_sds

    truth = np.array([0.01, 0.02, 0.05])
    values = np.array([1.0, 2.0, 3.0])
    half = z(0.99) * truth
    series = pd.DataFrame({"ci_low": values * np.exp(-half), "ci_high": values * np.exp(half)})
    assert _point_sds(series) == pytest.approx(truth, rel=0.05)


def _gflops_history(tmp_path, factor: float):
    """Eight commits of the matmul peak (GFLOP/s, higher is better), the newest `factor` times the rest."""
    res = tmp_path / "results" / "asv"
    rng = np.random.default_rng(4)
    grid = [["'torch'"], ["'cpu'"]]
    for i in range(8):
        v = 100.0 * float(np.exp(rng.normal(0, 0.005))) * (factor if i == 7 else 1.0)
        write_results(
            res, "box", f"{i + 1:x}" * 40, 1_700_000_000_000 + i * 3_600_000,
            {"variants.MatmulPeak.track_matmul_gflops": (grid, [v], [(v * 0.99, v * 1.01)])},
        )  # fmt: skip
    return report.load_results(res)


def test_a_rise_of_a_higher_is_better_value_is_an_improvement_and_a_drop_is_worse(tmp_path):
    from bench.report.changes import change_points, change_text, newest_worse

    rise = change_points(_gflops_history(tmp_path / "rise", 1.10))
    assert len(rise) == 1 and rise.newest.iloc[0] and newest_worse(rise).empty
    assert "better" in change_text(rise.iloc[0])
    drop = change_points(_gflops_history(tmp_path / "drop", 0.90))
    assert len(newest_worse(drop)) == 1 and "worse" in change_text(drop.iloc[0])


def test_one_wide_point_in_the_history_does_not_switch_the_gate_off(tmp_path):
    """A +10% step at the newest of 7 commits fails the gate; one earlier point stored with a ±30% interval
    (a noisy quick run) made it pass: that point is left out of the fit and named, the step still found."""
    from bench.report.changes import change_points, newest_worse

    res = tmp_path / "results" / "asv"
    rng = np.random.default_rng(11)
    for i in range(7):
        values = [s * float(np.exp(rng.normal(0, 0.005))) * (1.10 if i == 6 else 1.0) for s in (0.010, 0.020, 0.015)]
        width = 0.30 if i == 2 else 0.01
        write_results(
            res, "box", f"{i + 1:x}" * 40, 1_700_000_000_000 + i * 3_600_000,
            {"throughput.TrainStep.time_train_step": (FW, values, [(v / (1 + width), v * (1 + width)) for v in values])},
        )  # fmt: skip
    changes = change_points(report.load_results(res))
    assert len(newest_worse(changes)) == 3  # every framework's newest step
    assert len(changes.attrs["left_out"]) == 3 and all("at 33333333" in s for s in changes.attrs["left_out"])
