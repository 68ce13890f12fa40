"""bench/store/run_store.py: every finished round is on disk the moment it ends, a quick run never
replaces or shrinks a full run's rounds, and the asv results and the rounds file always agree."""

from __future__ import annotations

import json

import pytest
from asv_files import BASE, stores_agree

from bench.core.files import CorruptFile
from bench.store import asv_results, layout, rounds_file
from bench.store.record import Measurement, frame_of
from bench.store.run_store import RoundsStore

TRAIN, PREDICT = "throughput.TrainStep.time_train_step", "throughput.Predict.time_predict"
GRID = [["'torch'", "'jax'"], ["'cpu'"], ["32", "128", "1024"]]


def rows(bench: str, rounds, keys=("128",), frameworks=("torch", "jax"), value=0.01) -> list[Measurement]:
    out = []
    for r in rounds:
        for fw in frameworks:
            for key in keys:
                param = GRID[0].index(f"'{fw}'") * 3 + GRID[2].index(key)
                out.append(
                    Measurement(
                        arm=f"{fw}:cpu",
                        framework=fw,
                        device="cpu",
                        benchmark=bench,
                        param=param,
                        params=f"{fw}, cpu, {key}",
                        key=key,
                        round=r,
                        value=value * (1 + r / 100),
                        samples=(value, value),
                        version="2",
                        all_params=json.dumps(GRID),
                    )
                )
    return out


def store(tmp_path, append=False, protected=()):
    return RoundsStore(tmp_path / "asv", "box", BASE, "existing-py", append, frozenset(protected))


def samples(tmp_path, bench: str) -> list:
    res = asv_results.load(tmp_path / "asv", "box", BASE, "existing-py")
    return res.get_result_samples(bench, GRID)


def test_each_round_is_stored_the_moment_it_ends_and_both_stores_agree(tmp_path):
    s = store(tmp_path)
    made: list[Measurement] = []
    for r in (1, 2, 3):
        made += rows(TRAIN, [r])
        s.save(frame_of(made))
        assert len(rounds_file.load_for(tmp_path / "asv", "box", BASE)) == 2 * r
        assert len(samples(tmp_path, TRAIN)[4]) == r  # torch @128: one sample per round
        stores_agree(tmp_path / "asv", "box", BASE)


def test_a_quick_run_leaves_a_full_runs_rounds_whole(tmp_path):
    full = store(tmp_path)
    full.save(frame_of(rows(TRAIN, range(1, 7), keys=("32", "128", "1024"))))
    before = rounds_file.load_for(tmp_path / "asv", "box", BASE)
    quick = store(tmp_path, protected=[TRAIN])
    quick.save(frame_of(rows(TRAIN, [1], value=0.5) + rows(PREDICT, [1])))
    after = rounds_file.load_for(tmp_path / "asv", "box", BASE)
    assert after[after.benchmark == TRAIN].reset_index(drop=True).equals(before.reset_index(drop=True))
    assert len(samples(tmp_path, TRAIN)[4]) == 6 and len(samples(tmp_path, PREDICT)[4]) == 1
    stores_agree(tmp_path / "asv", "box", BASE)


def test_a_run_of_one_benchmark_keeps_the_other_benchmarks_rounds(tmp_path):
    store(tmp_path).save(frame_of(rows(TRAIN, [1, 2]) + rows(PREDICT, [1, 2])))
    store(tmp_path).save(frame_of(rows(TRAIN, [1, 2, 3], frameworks=("torch",))))  # a dirty or quick rerun
    after = rounds_file.load_for(tmp_path / "asv", "box", BASE)
    assert len(after[after.benchmark == PREDICT]) == 4
    assert len(after[(after.benchmark == TRAIN) & (after.framework == "jax")]) == 2
    assert len(after[(after.benchmark == TRAIN) & (after.framework == "torch")]) == 3
    stores_agree(tmp_path / "asv", "box", BASE)


def test_a_full_run_appends_after_the_stored_rounds(tmp_path):
    store(tmp_path).save(frame_of(rows(TRAIN, [1, 2])))
    s = store(tmp_path, append=True)
    s.save(frame_of(rows(TRAIN, [1])))
    s.save(frame_of(rows(TRAIN, [1, 2])))  # every save is the run so far over the same base
    assert sorted(set(rounds_file.load_for(tmp_path / "asv", "box", BASE)["round"])) == [1, 2, 3, 4]
    assert len(samples(tmp_path, TRAIN)[4]) == 4
    stores_agree(tmp_path / "asv", "box", BASE)


@pytest.mark.parametrize("content", ["abc\n", "arm,benchmark\nx"])
def test_an_unreadable_rounds_file_is_found_before_any_round(tmp_path, content):
    path = layout.rounds_file(tmp_path / "asv", "box", BASE)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(CorruptFile, match=str(path.name)):
        store(tmp_path)


def test_a_rounds_file_says_its_format_and_one_of_another_is_refused(tmp_path):
    """47: one reader that refuses what it does not know; files written before the column still read."""
    store(tmp_path).save(frame_of(rows(TRAIN, [1])))
    path = layout.rounds_file(tmp_path / "asv", "box", BASE)
    assert path.read_text().startswith("format,arm,") and f"\n{rounds_file.FORMAT}," in path.read_text()
    path.write_text(path.read_text().replace(f"\n{rounds_file.FORMAT},", "\n3,"))
    with pytest.raises(CorruptFile, match="format"):
        rounds_file.load(path)
    legacy = "\n".join(line.split(",", 1)[1] for line in path.read_text().splitlines())  # no format column
    path.write_text(legacy + "\n")
    assert len(rounds_file.load(path)) == 2


def test_ctrl_c_between_the_two_files_waits_until_both_are_written(tmp_path, monkeypatch):
    import os
    import signal

    saved = signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal (CI's background job
    # ignores SIGINT, and a deferred block leaves an ignored signal ignored)
    real = asv_results.save_results

    def save_then_ctrl_c(res, results_dir):
        path = real(res, results_dir)
        os.kill(os.getpid(), signal.SIGINT)  # after the asv results, before the rounds file
        return path

    monkeypatch.setattr(asv_results, "save_results", save_then_ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            store(tmp_path).save(frame_of(rows(TRAIN, [1])))
    finally:
        signal.signal(signal.SIGINT, saved)
    stores_agree(tmp_path / "asv", "box", BASE)  # the rounds file is there too, and says the same
