"""Precision modes: bf16 mixed precision really computes in bfloat16, yet tracks the float64
reference closely and keeps float32 master weights; tf32 is refused where it cannot exist.

bf16 cannot match the reference to 1e-4 (8 mantissa bits), so these tests bound the error from
both sides: close enough to be the same model, far enough to prove bfloat16 was used.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import framework_params, variant_params
from reference import ReferenceAdam, forward
from test_equivalence import _batches, _weights

import impls

CONFIG = impls.LSTMConfig()


def _update_agreement(got: dict, ref: ReferenceAdam, start: dict) -> float:
    """Cosine similarity of the whole weight update (after - before) against the reference's."""
    a = np.concatenate([(np.asarray(got[k], np.float64) - start[k]).ravel() for k in start])
    b = np.concatenate([(ref.w[k] - start[k]).ravel() for k in start])
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _skip_if_refused(framework: str, variant: str) -> None:
    reason = impls.load(framework, variant).unavailable("cpu", "bf16")
    if reason:
        pytest.skip(f"{framework}/{variant} refuses bf16 on this CPU: {reason}")


@pytest.mark.parametrize("impl", variant_params())
def test_bf16_logits_are_reduced_precision_but_close(impl):
    framework, variant = impl
    _skip_if_refused(framework, variant)
    weights = _weights(CONFIG)
    model = impls.load(framework, variant)(CONFIG, precision="bf16")
    model.set_weights(weights)
    x, _ = _batches(1)[0]
    expected, _, _ = forward({k: v.astype(np.float64) for k, v in weights.items()}, x)
    got = model.predict(x)
    assert got.dtype == np.float32 and got.shape == (32, 10)
    err = np.max(np.abs(got - expected))
    assert 1e-4 < err <= 0.05, f"bf16 logits differ from float64 by {err:.2e}"
    assert (np.argmax(got, axis=1) == np.argmax(expected, axis=1)).mean() >= 0.9


@pytest.mark.parametrize("impl", variant_params(long_beyond_default=True))  # every variant: make test-all
def test_bf16_training_keeps_float32_master_weights_and_tracks_reference(impl):
    framework, variant = impl
    _skip_if_refused(framework, variant)
    weights = _weights(CONFIG)
    model = impls.load(framework, variant)(CONFIG, precision="bf16")
    model.set_weights(weights)
    ref = ReferenceAdam(weights, CONFIG.learning_rate, CONFIG.beta1, CONFIG.beta2, CONFIG.eps)
    for x, y in _batches():
        ref_loss = ref.step(x, y)
        assert model.train_step(x, y) == pytest.approx(ref_loss, abs=0.02)
    got = model.get_weights()
    assert all(v.dtype == np.float32 for v in got.values())
    start = {k: v.astype(np.float64) for k, v in weights.items()}
    # Adam's first steps are nearly lr * sign(g): bf16 flips the sign only where |g| is tiny.
    assert _update_agreement(got, ref, start) >= 0.98  # measured 0.9987-0.9996


@pytest.mark.parametrize("framework", framework_params())
def test_tf32_is_refused_on_cpu_with_a_reason(framework):
    cls = impls.load(framework)
    assert "GPU" in cls.precision_unavailable("cpu", "tf32")
    if framework != "torch":  # torch's depends on the CPU: see the test below
        assert cls.precision_unavailable("cpu", "bf16") is None
    with pytest.raises(impls.PrecisionUnavailable, match="tf32"):
        cls(CONFIG, precision="tf32")


@pytest.mark.parametrize("framework", framework_params())
def test_unknown_precision_is_a_value_error(framework):
    with pytest.raises(ValueError, match="precision must be one of"):
        impls.load(framework)(CONFIG, precision="fp8")


@pytest.mark.parametrize("framework", framework_params())
def test_float32_default_is_unchanged_by_a_bf16_model_in_the_same_process(framework):
    """Precision is per model, not a process-wide switch left behind by the last model built."""
    weights = _weights(CONFIG)
    x, _ = _batches(1)[0]
    plain = impls.load(framework)(CONFIG)
    plain.set_weights(weights)
    before = plain.predict(x)
    usable = [v for v in impls.VARIANTS[framework] if not impls.load(framework, v).unavailable("cpu", "bf16")]
    if not usable:
        pytest.skip(f"no {framework} variant runs bf16 on this CPU")
    half = impls.load(framework, usable[0])(CONFIG, precision="bf16")  # fused where this CPU allows
    half.set_weights(weights)
    half.predict(x)
    np.testing.assert_array_equal(plain.predict(x), before)
    assert plain.precision == "float32"


def _tf32_model_on_cpu(monkeypatch, framework: str):
    """A tf32 model built on CPU by lifting the refusal: CPU ignores TF32, but the plumbing
    (flags set for the step and restored after, matmul precision in the compiled program) shows."""
    cls = impls.load(framework)
    monkeypatch.setattr(cls, "precision_unavailable", classmethod(lambda c, d, p: None))
    return cls(CONFIG, precision="tf32")


def test_torch_tf32_flags_hold_for_the_step_only(monkeypatch):
    pytest.importorskip("torch")
    import torch

    model = _tf32_model_on_cpu(monkeypatch, "torch")
    seen = []
    model.net.register_forward_hook(
        lambda *_: seen.append((torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.rnn.fp32_precision))
    )
    x, y = _batches(1)[0]
    model.train_step(x, y)
    assert seen == [("tf32", "tf32")]
    assert (torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.rnn.fp32_precision) == ("ieee", "ieee")


def test_tensorflow_tf32_flag_holds_for_the_call_only(monkeypatch):
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    model = _tf32_model_on_cpu(monkeypatch, "tensorflow")
    seen = []
    for name in ("_step", "_forward"):  # the compiled functions, called inside the step's and forward's context
        inner = getattr(model, name)
        setattr(
            model,
            name,
            lambda *a, _f=inner, _n=name: (
                seen.append((_n, tf.config.experimental.tensor_float_32_execution_enabled())),
                _f(*a),
            )[1],
        )
    x, y = _batches(1)[0]
    model.train_step(x, y)
    model.predict(x)
    assert seen == [("_step", True), ("_forward", True)]
    assert not tf.config.experimental.tensor_float_32_execution_enabled()


def test_jax_tf32_lowers_matmuls_at_reduced_precision(monkeypatch):
    pytest.importorskip("jax")
    x, _ = _batches(1)[0]
    hlo = {}
    for precision in ("float32", "tf32"):
        model = _tf32_model_on_cpu(monkeypatch, "jax") if precision == "tf32" else impls.load("jax")(CONFIG)
        hlo[precision] = model._forward.lower(model.params, model.to_device(x)).as_text()
    assert "precision = [HIGHEST, HIGHEST]" in hlo["float32"] and "HIGH, HIGH]" not in hlo["float32"]
    assert "precision = [HIGH, HIGH]" in hlo["tf32"]


def test_torch_refuses_fused_bf16_where_onednn_has_no_bfloat16_lstm(monkeypatch):
    """Without AVX512-BF16/AMX, oneDNN cannot build a bfloat16 LSTM: a named refusal, never a crash."""
    torch = pytest.importorskip("torch")
    fused, cell = impls.load("torch", "fused"), impls.load("torch", "cell")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert "AVX512-BF16" in fused.precision_unavailable("cpu", "bf16")
    assert impls.load("torch", "compile").precision_unavailable("cpu", "bf16")
    assert cell.precision_unavailable("cpu", "bf16") is None  # plain matmuls have a bf16 path
    with pytest.raises(impls.PrecisionUnavailable, match="bf16"):
        fused(CONFIG, precision="bf16")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert fused.precision_unavailable("cpu", "bf16") is None
