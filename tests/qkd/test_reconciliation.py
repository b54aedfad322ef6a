import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.reconciliation import METHODS, reconcile


def _keys(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    return a, a ^ (rng.random(n) < q).astype(np.uint8)


@pytest.mark.parametrize("method", METHODS)
def test_methods_reconcile_and_account(method):
    if method == "ldpc":
        pytest.importorskip("ldpc")
    a, b = _keys(40_960, 0.03, 1)
    fb = 4096 if method == "ldpc" else None
    res = reconcile(
        a, b, qber_estimate=0.03, method=method, rng=np.random.default_rng(2), frame_bits=fb
    )
    assert res.method == method and res.n_bits == a.size
    bad = np.zeros(a.size, dtype=bool)
    for i in res.failed_frames:  # LDPC may flag a frame (short 4096-bit test code)
        bad[i * res.frame_bits : (i + 1) * res.frame_bits] = True
    assert len(res.failed_frames) <= 1
    assert res.frame_errors == len(res.failed_frames)
    assert np.array_equal(res.corrected_bits[~bad], a[~bad])
    q = res.qber_actual
    assert q == pytest.approx(np.mean(a ^ b))
    assert res.leaked_bits >= a.size * binary_entropy(q)  # Slepian-Wolf
    assert res.efficiency == pytest.approx(res.leaked_bits / (a.size * binary_entropy(q)))
    assert res.efficiency_estimated == pytest.approx(
        res.leaked_bits / (a.size * binary_entropy(0.03))
    )
    assert res.round_trips >= 1
    if method == "ldpc":
        assert res.frame_bits == 4096 - 410
    d = res.to_dict()
    assert "corrected_bits" not in d and d["leaked_bits"] == res.leaked_bits
    assert len(res.to_dict(include_bits=True)["corrected_bits"]) == a.size


def test_zero_errors_efficiency_nan():
    a, _ = _keys(20_000, 0.0, 3)
    res = reconcile(a, a.copy(), qber_estimate=0.01, rng=np.random.default_rng(0))
    assert math.isnan(res.efficiency) and res.residual_bit_errors == 0


def test_bad_method_and_lengths():
    a, b = _keys(100, 0.01, 4)
    with pytest.raises(InputError, match="method"):
        reconcile(a, b, qber_estimate=0.01, method="magic", rng=np.random.default_rng())
    with pytest.raises(InputError, match="qber_estimate"):
        reconcile(a, b, qber_estimate=0.5, rng=np.random.default_rng())
    with pytest.raises(InputError, match="equal length"):
        reconcile(a, b[:-1], qber_estimate=0.01, rng=np.random.default_rng())
