"""bench/workload/harness.py: the work one timed step does."""

from __future__ import annotations

import pytest

import impls
from bench.workload.harness import train_step_flops


def test_flop_count_of_a_train_step():
    # 3 x (28 steps x 2*128*(28+128)*512 + 2*128*128*10)
    assert train_step_flops(impls.LSTMConfig()) == 3 * (28 * 2 * 128 * 156 * 512 + 2 * 128 * 128 * 10)


def run(error: float, reached: float | None) -> dict:
    steps = None if reached is None else int(reached * 100)
    return {"test_accuracy": 1 - error, "time_to_accuracy": reached, "steps_to_accuracy": steps, "history": []}


def test_seeds_combine_to_their_median_and_keep_each_value():
    from bench.workload.harness import combine_seeds

    got = combine_seeds([run(0.030, 20.0), run(0.020, None), run(0.025, 16.0)])
    assert got["test_accuracy"] == pytest.approx(1 - 0.025)  # median error
    assert got["time_to_accuracy"] == pytest.approx(18.0)  # median of the two that reached 0.97
    assert got["steps_to_accuracy"] == 1800  # likewise for steps
    assert got["seeds"] == {
        "test_error": pytest.approx([0.030, 0.020, 0.025]),
        "time_to_accuracy": [20.0, None, 16.0],
        "steps_to_accuracy": [2000, None, 1600],
    }
    assert combine_seeds([run(0.03, None), run(0.02, None), run(0.02, 9.0)])["time_to_accuracy"] is None  # 1 of 3
    assert combine_seeds([run(0.03, 1.0), {"skip": "no data"}]) == {"skip": "no data"}
    assert combine_seeds([run(0.03, 1.0)]) == run(0.03, 1.0)  # one seed: the run as it was


def test_each_seed_is_trained_with_its_own_seed_and_logged_for_the_runner(tmp_path, monkeypatch):
    import json

    from bench.workload import accuracy_job, harness

    calls = []

    def fake_spawn(framework, device, epochs, seed=0, **options):
        calls.append((framework, seed))
        return run(0.02 + seed / 1000, 10.0 + seed)

    monkeypatch.setattr(accuracy_job, "spawn", fake_spawn)
    monkeypatch.setenv("SEQMNIST_ACCURACY_RUNS", "torch:cpu")
    monkeypatch.setenv("SEQMNIST_SEED_LOG", str(tmp_path / "seeds.jsonl"))
    runs = harness.train_runs(5, "precision", ["float32"], seeds=3)
    assert calls == [("torch", 0), ("torch", 1), ("torch", 2)]
    assert runs["torch:cpu:float32"]["test_accuracy"] == pytest.approx(1 - 0.021)
    logged = [json.loads(line) for line in (tmp_path / "seeds.jsonl").read_text().splitlines()]
    assert logged == [
        {
            "key": "torch:cpu:float32",
            "epochs": 5,
            "test_error": pytest.approx([0.02, 0.021, 0.022]),
            "time_to_accuracy": [10.0, 11.0, 12.0],
            "steps_to_accuracy": [1000, 1100, 1200],
        }
    ]
