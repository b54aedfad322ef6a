from __future__ import annotations

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.estimation import asymptotic_key_length, estimate_parameters
from qnetai.qkd.pulses import BB84Setup
from qnetai.qkd.sifting import SiftCounts

SETUP = BB84Setup.from_distance(25.0)


def _expected_counts(setup, n, e_d=0.01, y0=4e-6):
    """Counts that follow the MQZL05 model exactly (sifted yields Y_n = p_z (Y0 + eta_n))."""
    c = SiftCounts()
    eta = setup.transmittance
    for k, mu in enumerate(setup.intensities):
        for b, pb in enumerate((setup.p_z, 1 - setup.p_z)):
            sent = n * setup.probabilities[k] * pb
            d = -np.expm1(-eta * mu)
            q = 0.5 * (y0 + d)
            eq = 0.5 * (0.5 * y0 + e_d * d)
            c.sent[k, b] = round(sent)
            c.sifted[k, b] = round(sent * q)
            c.errors[k, b] = round(sent * eq)
    c.detections[:] = c.sifted.sum(axis=1) * 2
    c.pulses = n
    return c


def test_decoy_bounds_from_model_data_are_valid_and_tight():
    est = estimate_parameters(_expected_counts(SETUP, 10**12), SETUP)
    y1_true = 0.5 * (4e-6 + SETUP.transmittance)
    e1_true = 0.5 * (0.5 * 4e-6 + 0.01 * SETUP.transmittance) / y1_true
    for b in range(2):
        assert 0.9 * y1_true < est.y1_lower[b] <= y1_true * (1 + 1e-6)
        assert e1_true * (1 - 1e-6) <= est.e1_upper[b] < e1_true + 0.01
    assert est.abort_reason is None
    assert est.phase_error_upper == pytest.approx(est.e1_upper[1])
    length = asymptotic_key_length(est, leaked_bits=0, verification_bits=64)
    assert length > 0


def test_aborts_reported_not_raised():
    high = _expected_counts(SETUP, 10**10, e_d=0.15)
    est = estimate_parameters(high, SETUP)
    assert est.abort_reason is not None and "QBER" in est.abort_reason
    # a lower threshold turns a normal run into an abort too
    est = estimate_parameters(_expected_counts(SETUP, 10**10), SETUP, qber_threshold=0.005)
    assert "QBER" in est.abort_reason
    # no events at all
    assert estimate_parameters(SiftCounts(), SETUP).abort_reason == "no sifted key bits"
    # e_d high enough to kill the key but below the threshold
    est = estimate_parameters(_expected_counts(SETUP, 10**10, e_d=0.1), SETUP)
    assert est.abort_reason is not None and "key length" in est.abort_reason
    with pytest.raises(InputError, match="qber_threshold"):
        estimate_parameters(SiftCounts(), SETUP, qber_threshold=0.9)
