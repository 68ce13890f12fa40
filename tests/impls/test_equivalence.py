"""Same weights in, same logits and same trained weights out, in every installed framework.

Each framework is checked against an independent float64 NumPy model (tests/reference.py),
so a wrong gate order, a hidden forget bias, another Adam epsilon form or a transposed kernel fails.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import framework_params, tested_frameworks, variant_params
from reference import ReferenceAdam, forward, loss_and_grads

import impls

# Default spec, a large-epsilon Adam where Keras' "epsilon hat" form would differ by ~1e-3, and the
# 784-step pixel sequence (fused variants only: unrolling 784 steps would test the compilers' patience).
CONFIGS = {
    "spec": impls.LSTMConfig(),
    "large-eps": impls.LSTMConfig(eps=1e-2, learning_rate=1e-2, forget_bias=0.5),
    "pixel": impls.sequence_config("pixel"),
}


def _skip_slow_unroll(variant: str, config_name: str) -> None:
    if config_name == "pixel" and variant in ("cell", "unroll", "jit"):
        pytest.skip("784 unrolled steps: the cell, unroll and jit variants are checked on the 28-step configs")


def _weights(config: impls.LSTMConfig) -> dict[str, np.ndarray]:
    """Canonical init with random biases, so a gate-order or bias mistake shows in the logits."""
    w = impls.init_weights(config, seed=3)
    rng = np.random.default_rng(4)
    w["lstm/bias"] = w["lstm/bias"] + rng.normal(0, 0.5, w["lstm/bias"].shape).astype(np.float32)
    w["head/bias"] = rng.normal(0, 0.5, w["head/bias"].shape).astype(np.float32)
    return w


def _batches(n: int = 3, size: int | None = None, config: impls.LSTMConfig = impls.LSTMConfig()):
    """n seeded batches of `size` sequences: 32 of 28 steps, 8 of the 784-step pixel sequence (as many
    steps, a quarter of a 28-step batch's cost; enough rows for every weight's gradient)."""
    size = size or (32 if config.n_steps <= 28 else 8)
    rng = np.random.default_rng(5)
    shape = (size, config.n_steps, config.n_input)
    return [(rng.random(shape, dtype=np.float32), rng.integers(0, 10, size)) for _ in range(n)]


def _max_err(a: dict, b: dict) -> dict[str, float]:
    return {k: float(np.max(np.abs(np.asarray(a[k], np.float64) - b[k]))) for k in b}


ILL_CONDITIONED = 1e-6  # |grad| below 100x Adam's eps: float32 rounding decides the step's size


def assert_trained_weights_match(got: dict, ref: ReferenceAdam, steps: int) -> None:
    """Max abs error <= 1e-5 on every weight whose gradient stayed well above Adam's eps.

    A weight whose gradient came within 100x of eps at some step moves by lr * g / (|g| + eps),
    which float32 rounding of g can change by a sizeable fraction of lr: those (about 1% of
    the weights here) must still agree within lr * steps, and may be no more than 2% of all weights. A wrong
    gate order, kernel layout, bias or Adam form moves thousands of weights and fails either way.
    """
    total = flagged = 0
    for key, want in ref.w.items():
        err = np.abs(np.asarray(got[key], np.float64) - want)
        shaky = ref.min_abs_grad[key] < ILL_CONDITIONED
        total, flagged = total + err.size, flagged + int(shaky.sum())
        assert err[~shaky].max(initial=0.0) <= 1e-5, (key, err[~shaky].max())
        assert err[shaky].max(initial=0.0) <= ref.lr * steps, (key, err[shaky].max())
    assert flagged <= 0.02 * total, f"{flagged} of {total} weights ill-conditioned: pick other test data"


def test_reference_gradients_match_finite_differences():
    """The reference's hand-written backprop is itself checked numerically."""
    config = impls.LSTMConfig(n_hidden=6)
    w = {k: v.astype(np.float64) for k, v in _weights(config).items()}
    x, y = _batches(1, 4)[0]
    _, grads = loss_and_grads(w, x, y)
    rng = np.random.default_rng(0)
    for key in w:
        for _ in range(3):
            idx = tuple(rng.integers(0, s) for s in w[key].shape)
            saved = w[key][idx]
            w[key][idx] = saved + 1e-6
            up = loss_and_grads(w, x, y)[0]
            w[key][idx] = saved - 1e-6
            down = loss_and_grads(w, x, y)[0]
            w[key][idx] = saved
            assert grads[key][idx] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8), key


def test_initializer_is_seeded_and_canonical():
    config = impls.LSTMConfig()
    a, b, c = impls.init_weights(config, 0), impls.init_weights(config, 0), impls.init_weights(config, 1)
    assert {k: v.shape for k, v in a.items()} == config.weight_shapes()
    assert all(v.dtype == np.float32 for v in a.values())
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["lstm/kernel"], c["lstm/kernel"])
    h = config.n_hidden
    expected_bias = np.zeros(4 * h, np.float32)
    expected_bias[h : 2 * h] = 1.0
    np.testing.assert_array_equal(a["lstm/bias"], expected_bias)
    limit = np.sqrt(6 / (config.n_input + 4 * h))
    assert np.abs(a["lstm/kernel"]).max() <= limit
    u = a["lstm/recurrent_kernel"]  # (H, 4H) with orthonormal rows
    np.testing.assert_allclose(u @ u.T, np.eye(h), atol=1e-5)


@pytest.mark.parametrize("impl", variant_params())
@pytest.mark.parametrize("config_name", list(CONFIGS))
def test_logits_match_reference(impl, config_name):
    framework, variant = impl
    _skip_slow_unroll(variant, config_name)
    config = CONFIGS[config_name]
    model = impls.load(framework, variant)(config)
    weights = _weights(config)
    model.set_weights(weights)
    x, _ = _batches(1, config=config)[0]
    expected, _, _ = forward({k: v.astype(np.float64) for k, v in weights.items()}, x)
    got = model.predict(x)
    assert got.dtype == np.float32 and got.shape == (len(x), 10)
    assert np.max(np.abs(got - expected)) <= 1e-4
    # get_weights returns exactly what went in
    assert max(_max_err(model.get_weights(), weights).values()) == 0.0


_trained: dict[tuple[str, str, str], tuple] = {}


def _three_steps(framework: str, variant: str, config_name: str):
    """(weights after 3 Adam steps, the reference after the same steps, per-step (loss, ref loss)),
    computed once per session: any test may ask first, in any order or process."""
    key = (framework, variant, config_name)
    if key not in _trained:
        config = CONFIGS[config_name]
        weights = _weights(config)
        model = impls.load(framework, variant)(config)
        model.set_weights(weights)
        ref = ReferenceAdam(weights, config.learning_rate, config.beta1, config.beta2, config.eps)
        losses = [(ref.step(x, y), model.train_step(x, y))[::-1] for x, y in _batches(config=config)]
        _trained[key] = (model.get_weights(), ref, losses)
    return _trained[key]


def _trained_cases():
    """Every variant on every config. make test trains every variant on the spec's config and each
    framework's default variant on the others too; make test-all trains every variant on every config."""
    return [
        pytest.param(*v.values, config_name, id=f"{config_name}-{v.id}", marks=v.marks)
        for config_name in CONFIGS
        for v in variant_params(long_beyond_default=config_name != "spec")
    ]


@pytest.mark.parametrize("impl, config_name", _trained_cases())
def test_three_adam_steps_match_reference(impl, config_name):
    framework, variant = impl
    _skip_slow_unroll(variant, config_name)
    trained, ref, losses = _three_steps(framework, variant, config_name)
    for loss, ref_loss in losses:
        assert loss == pytest.approx(ref_loss, abs=1e-5)
    assert_trained_weights_match(trained, ref, steps=3)


@pytest.mark.parametrize("config_name", list(CONFIGS))
def test_frameworks_agree_with_each_other(config_name):
    """After the same 3 steps, every pair of installed frameworks (fused) holds the same weights."""
    installed = tested_frameworks()
    if len(installed) < 2:
        pytest.skip(f"fewer than two frameworks tested in this process ({installed})")
    runs = {fw: _three_steps(fw, "fused", config_name)[:2] for fw in installed}
    names = sorted(runs)
    first_weights, ref = runs[names[0]]
    for other in names[1:]:
        # Same conditioning mask as against the reference; first framework stands in for it.
        ref_like = ReferenceAdam(first_weights, ref.lr, ref.b1, ref.b2, ref.eps)
        ref_like.min_abs_grad, ref_like.w = (
            ref.min_abs_grad,
            {k: v.astype(np.float64) for k, v in first_weights.items()},
        )
        assert_trained_weights_match(runs[other][0], ref_like, steps=3)


@pytest.mark.parametrize("framework", framework_params())
def test_set_weights_resets_optimizer(framework):
    """Two runs from the same weights on one model give identical results: Adam state was reset."""
    model = impls.load(framework)()
    weights = _weights(model.config)
    x, y = _batches(1)[0]
    model.set_weights(weights)
    first = [model.train_step(x, y) for _ in range(2)]
    after_first = model.get_weights()
    model.set_weights(weights)
    second = [model.train_step(x, y) for _ in range(2)]
    assert first == pytest.approx(second, abs=1e-6)
    assert max(_max_err(model.get_weights(), after_first).values()) <= 1e-6
