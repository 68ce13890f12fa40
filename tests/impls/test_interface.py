"""The public interface: registry, lazy imports, and ValueErrors for bad input before any framework call."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, cli_env, framework_params

import impls


def test_registry_names_and_config_defaults():
    assert impls.FRAMEWORKS[:5] == ("torch", "tensorflow", "jax", "keras-jax", "keras-torch")  # built-ins first
    cfg = impls.LSTMConfig()
    assert (cfg.n_input, cfg.n_steps, cfg.n_hidden, cfg.n_classes) == (28, 28, 128, 10)
    assert (cfg.learning_rate, cfg.beta1, cfg.beta2, cfg.eps, cfg.forget_bias) == (1e-3, 0.9, 0.999, 1e-8, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_hidden = 3


def test_importing_impls_and_bench_imports_no_framework():
    code = (
        "import sys, impls, impls.base, bench.workload.data, bench.workload.train, bench.cli;"
        "print(sorted(m for m in ('torch','tensorflow','jax','keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_framework_is_a_value_error():
    with pytest.raises(ValueError, match="unknown framework"):
        impls.load("mxnet")


def test_absent_framework_raises_framework_unavailable(monkeypatch):
    # A None entry in sys.modules makes `import jax` fail exactly as if it were not installed.
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.delitem(sys.modules, "impls.jax_lstm", raising=False)
    with pytest.raises(impls.FrameworkUnavailable, match="pip install jax"):
        impls.load("jax")
    assert "pip install jax" in impls.available()["jax"]


@pytest.fixture(scope="module", params=framework_params())
def model(request):
    return impls.load(request.param)()


BAD_X = {
    "rank 2": np.zeros((4, 784), np.float32),
    "wrong steps": np.zeros((4, 27, 28), np.float32),
    "empty batch": np.zeros((0, 28, 28), np.float32),
    "nan": np.full((2, 28, 28), np.nan, np.float32),
    "inf": np.full((2, 28, 28), np.inf, np.float32),
    "strings": np.full((2, 28, 28), "a"),
}


@pytest.mark.parametrize("case", list(BAD_X))
def test_bad_x_is_rejected_with_expected_shape(model, case):
    before = model.get_weights()
    for call in (lambda: model.predict(BAD_X[case]), lambda: model.train_step(BAD_X[case], np.zeros(4, int))):
        with pytest.raises(ValueError, match=r"\(batch, 28, 28\)"):
            call()
    after = model.get_weights()
    assert all(np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([0, 1, 10, 2]), "0..9"),
        (np.array([0, -1, 2, 3]), "0..9"),
        (np.array([0, 1, 2]), r"shape \(4,\)"),
        (np.array([0.0, 1.0, 2.0, 3.0]), "integer"),
    ],
)
def test_bad_labels_are_rejected(model, labels, match):
    x = np.zeros((4, 28, 28), np.float32)
    with pytest.raises(ValueError, match=match):
        model.train_step(x, labels)
    with pytest.raises(ValueError, match=match):
        model.evaluate(x, labels)


def test_set_weights_names_the_bad_key(model):
    good = impls.init_weights(model.config, 0)
    missing = {k: v for k, v in good.items() if k != "head/bias"}
    with pytest.raises(ValueError, match="missing.*head/bias"):
        model.set_weights(missing)
    with pytest.raises(ValueError, match="unexpected.*extra/w"):
        model.set_weights({**good, "extra/w": np.zeros(1)})
    with pytest.raises(ValueError, match=r"lstm/kernel.*\(128, 512\).*expected \(28, 512\)"):
        model.set_weights({**good, "lstm/kernel": np.zeros((128, 512))})


def test_predict_evaluate_and_train_step_outputs(model, batch):
    x, y = batch
    logits = model.predict(x)
    assert logits.shape == (16, 10) and logits.dtype == np.float32
    acc = model.evaluate(x, y, batch_size=5)  # uneven last batch
    assert acc == pytest.approx(np.mean(np.argmax(logits, 1) == y))
    loss = model.train_step(x, y)
    assert isinstance(loss, float) and 0 < loss < 10


def test_unknown_device_is_rejected():
    with pytest.raises(ValueError, match="device"):
        impls.load(impls.FRAMEWORKS[0])(device="tpu")


@pytest.mark.parametrize("framework", framework_params())
def test_gpu_request_without_gpu_is_a_clear_error(framework):
    cls = impls.load(framework)
    if _framework_sees_a_gpu(framework):
        assert cls(device="gpu").device == "gpu"  # where a GPU is visible, building on it simply works
        return
    with pytest.raises(impls.DeviceUnavailable, match="GPU"):
        cls(device="gpu")  # never a model silently placed on the CPU


def _framework_sees_a_gpu(framework: str) -> bool:
    """Asked of the framework itself, not of the implementation's own check."""
    if framework == "torch":
        import torch

        return torch.cuda.is_available()
    if framework == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


BASELINE_THREADS = {
    "torch": "import torch; print(torch.get_num_threads(), torch.backends.cuda.matmul.fp32_precision)",
    "tensorflow": "import tensorflow as tf; print(tf.config.threading.get_intra_op_parallelism_threads(), "
    "'tf32' if tf.config.experimental.tensor_float_32_execution_enabled() else 'ieee')",
    "jax": "import os, jax; print(len(os.sched_getaffinity(0)), jax.config.jax_default_matmul_precision)",
}


@pytest.mark.parametrize("framework", ["torch", "tensorflow", "jax"])
def test_minimal_loop_gets_the_models_thread_budget_and_full_float32(framework):
    """Under a 1-core affinity mask (taskset -c 0) the minimal loop gets 1 thread, as the models do,
    and TF32 off, as the models have it."""
    pytest.importorskip(framework)
    if (os.cpu_count() or 1) < 2:  # the child sets its own mask: this process may be pinned (a parallel pass)
        pytest.skip("needs 2 cores to tell a 1-core mask from the machine's count")
    code = (
        f"import os; os.sched_setaffinity(0, [0]); import impls; impls.load({framework!r}).minimal_loop(8, 'cpu'); "
        f"{BASELINE_THREADS[framework]}"
    )
    env = cli_env(TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("SEQMNIST_THREADS", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-1500:]
    threads, precision = proc.stdout.split()[-2:]
    assert threads == "1" and precision in ("ieee", "highest")


def test_jax_single_thread_flags_are_ones_xla_reads():
    """Every XLA_FLAGS token the single-thread budget sets is a `--flag` XLA knows (an unknown one aborts)."""
    pytest.importorskip("jax")
    env = cli_env(SEQMNIST_THREADS="1")
    env.pop("XLA_FLAGS", None)
    code = (
        "import os, impls.jax_lstm as m, jax.numpy as j; print(float(j.ones(3).sum())); print(os.environ['XLA_FLAGS'])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("3.0"), proc.stderr[-1500:]
    flags = proc.stdout.splitlines()[1].split()
    assert flags and all(f.startswith("--xla_") for f in flags)


def test_a_broken_minimal_loop_fails_instead_of_skipping(monkeypatch):
    """Only 'cannot run here' is a skip; a bug in the minimal loop is a failed benchmark."""
    pytest.importorskip("torch")
    import impls
    from bench.suites import baseline

    def broken(cls, batch_size, device):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(impls.load("torch"), "minimal_loop", classmethod(broken))
    monkeypatch.setattr(baseline, "_STEPS", {})
    with pytest.raises(RuntimeError, match="planted bug") as raised:
        baseline.MinimalLoop().setup("torch", "cpu", 128)
    assert type(raised.value) is RuntimeError  # not asv's skip (NotImplementedError is a RuntimeError)
    with pytest.raises(NotImplementedError):  # asv's skip: no GPU here
        baseline.MinimalLoop().setup("torch", "gpu", 128)


def test_tensorflow_synchronize_without_a_result_waits_for_all_queued_work(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    import impls

    calls = []
    monkeypatch.setattr(tf.test.experimental, "sync_devices", lambda: calls.append(1))
    model = impls.load("tensorflow")(impls.LSTMConfig(), device="cpu", seed=0)
    model.synchronize()
    assert calls == [1]
