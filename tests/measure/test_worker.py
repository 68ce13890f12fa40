"""bench/measure/worker.py through its client: stages a tree's asv time benchmarks for one framework
and device, times them on request, reports a broken benchmark as failed and a skip with its reason."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from bench.core.repo import worker_env
from bench.measure.client import Worker, WorkerError
from bench.store.record import key_of

SUITE = textwrap.dedent("""
    class Spin:
        params = (["torch", "jax"], ["cpu"], [1, 4])
        param_names = ["framework", "device", "n"]

        def setup(self, framework, device, n):
            if n == 4 and framework == "jax":
                raise NotImplementedError("jax cannot do 4 here")
            self.n = n  # staged in setup, as the real suites stage their models

        def time_spin(self, framework, device, n):
            sum(range(20000 * self.n))


    class Broken:
        params = (["torch"], ["cpu"])
        param_names = ["framework", "device"]

        def time_broken(self, framework, device):
            raise ValueError("planted")
""")


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "bench" / "suites").mkdir(parents=True)
    (tmp_path / "bench" / "__init__.py").write_text("")
    (tmp_path / "bench" / "suites" / "__init__.py").write_text("")
    (tmp_path / "bench" / "suites" / "spin.py").write_text(SUITE)
    return tmp_path


def test_stages_only_this_frameworks_jobs_and_times_them(tree):
    w = Worker(tree, "jax", "cpu", r"^spin\.", worker_env(tree, None))
    try:
        jobs = w.ask({"op": "setup"})["jobs"]
        assert [(j["name"], j["params"], j["status"]) for j in jobs] == [
            ("spin.Spin.time_spin", ["'jax'", "'cpu'", "1"], "ok"),
            ("spin.Spin.time_spin", ["'jax'", "'cpu'", "4"], "skipped"),
        ]
        assert "jax cannot do 4 here" in jobs[1]["reason"]
        seconds = w.ask({"op": "time", "job": 0, "number": 5})["seconds"]
        assert 0 < seconds < 1
    finally:
        w.close()


def test_a_broken_benchmark_is_failed_with_its_error_and_a_bad_request_is_an_error(tree):
    w = Worker(tree, "torch", "cpu", r"^spin\.", worker_env(tree, None))
    try:
        jobs = {j["name"]: j for j in w.ask({"op": "setup"})["jobs"]}
        assert jobs["spin.Broken.time_broken"]["status"] == "failed"
        assert "planted" in jobs["spin.Broken.time_broken"]["reason"]
        with pytest.raises(WorkerError, match="unknown op"):
            w.ask({"op": "nonsense"})
    finally:
        w.close()


def test_setup_stages_only_the_keys_asked_for(tree):
    """A quick run's rounds time batch 128 only: the worker does not even stage the other sizes."""
    w = Worker(tree, "torch", "cpu", r"^spin\.", worker_env(tree, None))
    try:
        jobs = w.ask({"op": "setup", "keys": r"(4)?"})["jobs"]
        assert [(j["name"], j["params"]) for j in jobs] == [
            ("spin.Broken.time_broken", ["'torch'", "'cpu'"]),  # no parameter but where it runs: key ''
            ("spin.Spin.time_spin", ["'torch'", "'cpu'", "4"]),
        ]
    finally:
        w.close()


def test_the_workers_key_rule_is_the_records():
    """The worker repeats record.key_of (it imports nothing of the project): both give one key."""
    script = Path(__file__).resolve().parents[2] / "bench" / "measure" / "worker.py"
    spec = importlib.util.spec_from_file_location("worker_script", script)
    worker = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = worker  # as a script is: its dataclasses look their module up there
    spec.loader.exec_module(worker)
    cases = [
        (["framework", "device", "batch"], ("'torch'", "'cpu'", "128")),
        (["framework", "variant", "device", "precision", "steps"], ("'jax'", "'fused'", "'cpu'", "'bf16'", "3")),
        ([], ("'torch'", "'cpu'")),
        (["framework", "device"], ("'torch'", "'cpu'")),
    ]
    for names, values in cases:
        bench = type("B", (), {"param_names": names})
        assert worker.key_of(bench, values) == key_of(names, values)
    assert key_of(["framework", "device", "batch"], ("'torch'", "'cpu'", "128")) == "128"


USER_PROCESS = textwrap.dedent("""
    EVENTS = []  # what this process has done, each the first time, in order (asv_runner runs setup before
    # every call, and calibration makes ~10^5 calls: a list of every call made the checks quadratic)


    def event(what):
        if what not in EVENTS:
            EVENTS.append(what)


    class TrainStep:
        params = (["torch"], ["cpu"], [128])
        param_names = ["framework", "device", "batch_size"]

        def setup(self, framework, device, batch_size):
            event("train setup")

        def time_train_step(self, framework, device, batch_size):
            if "matmul setup" in EVENTS:
                raise RuntimeError("train step sampled after the host matmul's arrays: " + ", ".join(EVENTS))
            event("train step")


    class Matmul:
        params = (["torch"], ["cpu"])
        param_names = ["framework", "device"]
        process_order = 3

        def setup(self, framework, device):
            event("matmul setup")

        def time_matmul(self, framework, device):
            pass


    class Predict:
        params = (["torch"], ["cpu"], [128])
        param_names = ["framework", "device", "batch_size"]
        process_order = 0

        def setup(self, framework, device, batch_size):
            event("predict setup")

        def time_predict(self, framework, device, batch_size):
            if any(e.startswith("train") for e in EVENTS):
                raise RuntimeError("predict sampled in a process that trained: " + ", ".join(EVENTS))
            event("predict")
""")


def test_predict_is_sampled_in_a_process_that_never_trained(tmp_path):
    """The engine's round over a real worker: each benchmark is staged and timed in the part its class
    declares (`process_order`): predict before anything that trains is set up in the process, the train
    step before the host matmul's arrays (their time calls fail otherwise), and every part is timed."""
    import random

    from bench.measure import rounds

    (tmp_path / "bench" / "suites").mkdir(parents=True)
    (tmp_path / "bench" / "__init__.py").write_text("")
    (tmp_path / "bench" / "suites" / "__init__.py").write_text("")
    (tmp_path / "bench" / "suites" / "user.py").write_text(USER_PROCESS)
    arm = rounds.Arm("torch:cpu", tmp_path, "torch", "cpu")
    plan = rounds.Plan(bench=r"^user\.", sample_time=0.001, alternations=2, settle=0)
    spent = rounds.Spent()
    rows = rounds.one_round([arm], plan, worker_env(tmp_path, None), 1, random.Random(0), spent=spent)
    spent.reap()
    by_name = {r.benchmark: r for r in rows}
    assert by_name["user.Predict.time_predict"].status == "ok", by_name["user.Predict.time_predict"].reason
    assert by_name["user.TrainStep.time_train_step"].status == "ok"
    assert len(by_name["user.TrainStep.time_train_step"].samples) == 2
    assert by_name["user.Matmul.time_matmul"].status == "ok"
