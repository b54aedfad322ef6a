"""Simulated vs analytic asymptotic key rate of decoy-state BB84 (issue performance target).

The pulse simulator's observed counts go through the pipeline's estimation
(:func:`estimate_parameters` + :func:`asymptotic_key_length`, model leak ``f n h(E)``, no tag);
the analytic figure is the same formula at the expected statistics of the analytic channel
model (:func:`expected_statistics`), both from the SAME :class:`ChannelModel` object (the
GYS defaults, :data:`DEFAULT_CHANNEL`, the link of ``qkd rate`` and ``qkd simulate``).
After-pulsing is off (as in GYS), or on (0.5 %) with the analytic side counting
after-pulses as background (see ``benchmarks/bench_qkd_agreement.py`` for 0-100 km with
many seeds).

Standard error: first-order (delta-method) propagation of the binomial noise of the twelve
sifted gains and twelve error rates through :func:`asymptotic_rate_from_statistics`, using
the observed statistics of the run. The benchmark checks this SE against the spread over 8
seeds (they agree to within the sampling error of a std from 8 seeds); one run per distance
keeps the test to a few seconds.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qnetai.physics import binary_entropy
from qnetai.qkd.channel import DEFAULT_CHANNEL
from qnetai.qkd.estimation import (
    asymptotic_key_length,
    asymptotic_rate_from_statistics,
    estimate_parameters,
    expected_statistics,
)
from qnetai.qkd.pulses import BB84Setup, iter_blocks
from qnetai.qkd.sifting import SiftCounts, block_counts

F_EC = 1.16


def _counts(setup: BB84Setup, pulses: int, seed: int) -> SiftCounts:
    counts = SiftCounts()
    for block in iter_blocks(
        setup, pulses=pulses, rng=np.random.default_rng(seed), block_pulses=1 << 22
    ):
        counts.add(block_counts(block))
    return counts


def _observed_rate(counts: SiftCounts, setup: BB84Setup) -> float:
    est = estimate_parameters(counts, setup, f_ec=F_EC, verification_bits=0)
    leak = F_EC * est.key_bits * float(binary_entropy(est.key_qber))
    return asymptotic_key_length(est, leaked_bits=leak, verification_bits=0) / counts.pulses


def _delta_se(counts: SiftCounts, setup: BB84Setup) -> float:
    g, e = np.nan_to_num(counts.gains), np.nan_to_num(counts.qber)
    var_g = g * (1 - g) / np.maximum(counts.sent, 1)
    var_e = e * (1 - e) / np.maximum(counts.sifted, 1)
    var = 0.0
    for which, (arr, v) in enumerate(((g, var_g), (e, var_e))):
        for idx in np.ndindex(arr.shape):
            h = 1e-4 * max(float(np.sqrt(v[idx])), 1e-12)
            vals = []
            for sign in (1, -1):
                a = arr.copy()
                a[idx] += sign * h
                pair = (a, e) if which == 0 else (g, a)
                vals.append(asymptotic_rate_from_statistics(*pair, setup, f_ec=F_EC))
            var += ((vals[0] - vals[1]) / (2 * h)) ** 2 * v[idx]
    return float(np.sqrt(var))


@pytest.mark.parametrize(
    ("distance_km", "afterpulse", "pulses", "seed"),
    # pulses sized for an SE of ~3.5 % of the rate on the GYS link (the power check below)
    [(0.0, 0.0, 60_000_000, 11), (25.0, 0.0, 200_000_000, 12), (0.0, 0.005, 80_000_000, 13)],
)
def test_simulated_rate_agrees_with_analytic(distance_km, afterpulse, pulses, seed):
    channel = replace(DEFAULT_CHANNEL, afterpulse_probability=afterpulse)
    setup = BB84Setup.from_distance(distance_km, channel=channel)
    assert setup.channel is channel  # the simulator and the analytic side share it
    counts = _counts(setup, pulses, seed)
    sim = _observed_rate(counts, setup)
    se = _delta_se(counts, setup)
    analytic = asymptotic_rate_from_statistics(*expected_statistics(setup), setup, f_ec=F_EC)
    assert analytic > 0
    assert 0 < se < 0.05 * analytic  # the test has power: SE is a few per cent at most
    assert abs(sim - analytic) < 4 * se, (sim, analytic, se)


def test_rate_from_statistics_matches_estimation_on_expected_counts():
    """The per-pulse formula equals estimate_parameters + asymptotic_key_length on counts."""
    setup = BB84Setup.from_distance(25.0)
    gains, qber = expected_statistics(setup)
    pulses = 10**13  # large: the integer conversions in the estimation are negligible
    c = SiftCounts()
    c.sent[:] = np.rint(
        pulses * setup.probabilities[:, None] * np.array([setup.p_z, 1 - setup.p_z])[None, :]
    )
    c.sifted[:] = np.rint(c.sent * gains)
    c.errors[:] = np.rint(c.sifted * qber)
    c.pulses = pulses
    direct = _observed_rate(c, setup)
    formula = asymptotic_rate_from_statistics(gains, qber, setup, f_ec=F_EC)
    assert direct == pytest.approx(formula, rel=1e-6)


def test_expected_statistics_without_background_is_mqzl():
    """No dark counts: Q_k = 1 - exp(-eta k) split by Bob's basis, E_k = e_d."""
    setup = BB84Setup.from_distance(10.0, channel=replace(DEFAULT_CHANNEL, y0=0.0), p_z=0.6)
    gains, qber = expected_statistics(setup)
    q = -np.expm1(-setup.transmittance * setup.intensities)
    np.testing.assert_allclose(gains, q[:, None] * np.array([[0.6, 0.4]]), rtol=1e-12)
    np.testing.assert_allclose(qber[:2], setup.e_detector, rtol=1e-12)


def test_afterpulse_models_differ_and_background_adds_to_y0():
    setup = BB84Setup.from_distance(
        25.0, channel=replace(DEFAULT_CHANNEL, afterpulse_probability=0.01)
    )
    g_bg, e_bg = expected_statistics(setup)
    g_lim, _ = expected_statistics(setup, afterpulse="lim14")
    g0, _ = expected_statistics(BB84Setup.from_distance(25.0))
    extra = g_bg - g0  # the same additive background in every class and basis
    np.testing.assert_allclose(extra, extra[0, 0], rtol=1e-9)
    assert 0 < extra[0, 0] < 0.01 * g0[0, 0]
    np.testing.assert_allclose(g_lim, g0 * 1.01, rtol=1e-12)
    assert e_bg[2, 0] == pytest.approx(0.5)


def test_expected_statistics_rejects_unknown_afterpulse_model():
    from qnetai.errors import InputError

    with pytest.raises(InputError, match="afterpulse"):
        expected_statistics(BB84Setup.from_distance(5.0), afterpulse="none")
