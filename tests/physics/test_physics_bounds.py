"""PLOB and TGW bounds and the binary entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import binary_entropy, plob_bound, tgw_bound


def test_binary_entropy():
    assert binary_entropy(0.0) == 0.0
    assert binary_entropy(1.0) == 0.0
    assert np.isclose(binary_entropy(0.5), 1.0)
    p = np.array([0.01, 0.11, 0.3])
    expect = [-(x * math.log2(x) + (1 - x) * math.log2(1 - x)) for x in p]
    assert np.allclose(binary_entropy(p), expect)
    assert np.allclose(binary_entropy(p), binary_entropy(1 - p))
    with pytest.raises(InputError, match=r"p must be in \[0, 1\]"):
        binary_entropy(1.5)


def test_plob_and_tgw():
    eta = np.array([1e-6, 0.01, 0.5, 0.9])
    assert np.allclose(plob_bound(eta), [-math.log2(1 - x) for x in eta])
    assert np.allclose(tgw_bound(eta), [math.log2((1 + x) / (1 - x)) for x in eta])
    # high loss: PLOB ~ 1.44 eta, TGW ~ 2.89 eta = 2 PLOB; TGW is always the looser bound
    assert np.isclose(plob_bound(1e-6) / 1e-6, 1 / math.log(2), rtol=1e-5)
    assert np.isclose(tgw_bound(1e-6) / plob_bound(1e-6), 2, rtol=1e-5)
    assert np.all(tgw_bound(eta) >= plob_bound(eta))
    assert plob_bound(1.0) == np.inf
    assert plob_bound(0.0) == 0.0
    with pytest.raises(InputError, match="eta"):
        plob_bound(-0.1)
