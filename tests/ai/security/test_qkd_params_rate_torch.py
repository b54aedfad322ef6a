"""The torch Lim14 rate used for training against the numpy one; gradient-ascent labels."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from qnetai.ai.qkd_params import (  # noqa: E402
    PARAM_BOUNDS,
    _unclipped_rate,
    label_conditions,
    optimal_parameters,
    rate_of,
    sample_conditions,
)
from qnetai.ai.qkd_params_torch import key_length_per_pulse, local_optimise  # noqa: E402


def test_torch_rate_matches_numpy_finite_key_rate():
    rng = np.random.default_rng(0)
    cond = sample_conditions(80, rng)
    x = PARAM_BOUNDS[:, 0] + rng.random((80, 5)) * (PARAM_BOUNDS[:, 1] - PARAM_BOUNDS[:, 0])
    ref = np.array([_unclipped_rate(c, xi) for c, xi in zip(cond, x, strict=True)])
    got = key_length_per_pulse(torch.tensor(cond), torch.tensor(x)).numpy()
    # key length is a difference of large terms: compare on the scale of its parts
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_local_optimise_never_ends_worse_than_its_start():
    cond = sample_conditions(20, np.random.default_rng(1))
    x0 = np.tile([0.5, 0.3, 0.6, 0.7, 0.8], (20, 1))
    x, r = local_optimise(cond, x0, PARAM_BOUNDS, steps=30)
    r0 = key_length_per_pulse(torch.tensor(cond), torch.tensor(x0)).numpy()
    assert np.all(r >= r0)
    assert np.all((x >= PARAM_BOUNDS[:, 0]) & (x <= PARAM_BOUNDS[:, 1]))


def test_gradient_labels_match_differential_evolution():
    # two conditions, one at the small-block long-distance edge
    cond = np.array([[60.0, 0.1, 1e-6, 0.015, 1e11], [140.0, 0.3, 5e-7, 0.02, 3e9]])
    x, r = label_conditions(cond, steps=200, final_steps=100)
    for c, xi, ri in zip(cond, x, r, strict=True):
        _, r_de = optimal_parameters(c)
        assert r_de > 0
        assert ri >= 0.999 * r_de
        assert rate_of(c, xi) == pytest.approx(ri, rel=1e-9)


def test_labels_are_reproducible():
    cond = sample_conditions(6, np.random.default_rng(3))
    a = label_conditions(cond, steps=20, final_steps=10)
    b = label_conditions(cond, steps=20, final_steps=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
