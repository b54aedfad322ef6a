"""Learned decoy parameters: inert weights, valid outputs, fallback, shipped model quality."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.ai.qkd_params import (
    DEFAULT_MODEL,
    PARAM_BOUNDS,
    DecoyParameterNet,
    optimal_parameters,
    rate_of,
    sample_conditions,
)


def test_save_load_roundtrip_is_inert_arrays(tmp_path):
    net = DecoyParameterNet.random(np.random.default_rng(0), hidden=(8, 4))
    path = tmp_path / "net.npz"
    net.save(path)
    with np.load(path, allow_pickle=False) as z:  # no object arrays anywhere
        assert all(z[k].dtype != object for k in z.files)
    back = DecoyParameterNet.load(path)
    c = sample_conditions(5, np.random.default_rng(1))
    np.testing.assert_array_equal(back.raw(c), net.raw(c))


def test_predictions_are_valid_protocols():
    net = DecoyParameterNet.random(np.random.default_rng(2))
    x = net.raw(sample_conditions(200, np.random.default_rng(3)))
    assert np.all((x >= PARAM_BOUNDS[:, 0]) & (x <= PARAM_BOUNDS[:, 1]))
    p = net.predict(sample_conditions(50, np.random.default_rng(4)))
    assert np.all(p["intensities"][:, 1] < p["intensities"][:, 0])
    np.testing.assert_allclose(p["probabilities"].sum(axis=1), 1.0)


def test_fallback_never_returns_zero_key_where_the_optimum_is_positive():
    # an untrained network gives poor parameters; tune() must fall back to the optimiser
    net = DecoyParameterNet.random(np.random.default_rng(5))
    cond = np.array([120.0, 0.05, 1e-6, 0.02, 1e10])
    _, r_opt = optimal_parameters(cond)
    assert r_opt > 0
    x, r, _ = net.tune(cond)
    assert r > 0 and r == pytest.approx(rate_of(cond, x))


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="weights not built")
def test_shipped_model_is_close_to_the_optimiser_on_held_out_conditions():
    net = DecoyParameterNet.load(DEFAULT_MODEL)
    cond = sample_conditions(6, np.random.default_rng(12345))  # not a training seed
    for c in cond:
        _, r_opt = optimal_parameters(c)
        _, r, _ = net.tune(c)
        if r_opt > 0:
            assert r >= 0.9 * r_opt, (c, r, r_opt)


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="weights not built")
def test_shipped_parameters_are_inside_the_optimisers_box():
    net = DecoyParameterNet.load(DEFAULT_MODEL)
    x = net.raw(sample_conditions(500, np.random.default_rng(7)))
    assert np.all((x >= PARAM_BOUNDS[:, 0]) & (x <= PARAM_BOUNDS[:, 1]))


def test_rate_trained_net_is_reproducible():
    pytest.importorskip("torch")
    from qnetai.ai.qkd_params import label_conditions, train_decoy_net_on_rate

    cond = sample_conditions(24, np.random.default_rng(8))
    x, r = label_conditions(cond, steps=10, final_steps=0)
    kw = {"hidden": (6,), "mse_epochs": 5, "rate_epochs": 5, "seed": 3}
    a = train_decoy_net_on_rate(cond, x, r, **kw)
    b = train_decoy_net_on_rate(cond, x, r, **kw)
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert a.weights[0].shape[0] == 7  # conditions plus the two derived features


def test_bad_conditions_are_refused():
    from qnetai.errors import InputError

    net = DecoyParameterNet.random(np.random.default_rng(0), hidden=(4,))
    with pytest.raises(InputError, match="columns"):
        net.raw(np.zeros((2, 3)))


def test_tune_batch_falls_back_on_an_untrained_net():
    net = DecoyParameterNet.random(np.random.default_rng(5))
    cond = np.array([[120.0, 0.05, 1e-6, 0.02, 1e10], [10.0, 0.3, 1e-6, 0.01, 1e12]])
    x, r, fell = net.tune_batch(cond)
    assert np.all(r > 0)
    for c, xi, ri in zip(cond, x, r, strict=True):
        assert ri == pytest.approx(rate_of(c, xi), rel=1e-9)
    assert fell.dtype == bool


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="weights not built")
def test_shipped_model_with_gradient_polish_reaches_99_percent():
    pytest.importorskip("torch")
    net = DecoyParameterNet.load(DEFAULT_MODEL)
    cond = np.array(
        [
            [110.0, 0.2, 1e-6, 0.02, 3e9],
            [80.0, 0.05, 5e-6, 0.03, 1e10],
            [20.0, 0.5, 1e-7, 0.01, 1e12],
        ]
    )
    _, r, fell = net.tune_batch(cond, polish_steps=10)
    for c, ri in zip(cond, r, strict=True):
        _, r_opt = optimal_parameters(c)
        assert r_opt > 0 and ri >= 0.99 * r_opt, (c, ri, r_opt)
    assert not fell.any()
