import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.channel import GYS, ChannelModel
from qnetai.qkd.optimise import cutoff_distance_km, optimise_mu, optimise_mu_nu
from qnetai.qkd.rates import bb84_decoy_rate, infinite_decoy_key_rate, sifting_factor

D = np.arange(0.0, 160.0, 5.0)


def _h2(p):
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_infinite_decoy_rate_equals_direct_gllp_evaluation():
    # Independent scalar evaluation of MQZL05 / LMC05 with the GYS parameters.
    mu, L = 0.48, 73.0
    eta = 0.045 * 10 ** (-0.21 * L / 10)
    y0, ed, f = 1.7e-6, 0.033, 1.22
    q_mu = y0 + 1 - math.exp(-eta * mu)
    e_mu = (0.5 * y0 + ed * (1 - math.exp(-eta * mu))) / q_mu
    y1 = y0 + eta
    e1 = (0.5 * y0 + ed * eta) / y1
    q1 = y1 * mu * math.exp(-mu)
    direct = 0.5 * (-q_mu * f * _h2(e_mu) + q1 * (1 - _h2(e1)))
    r = bb84_decoy_rate(L, mu=mu, decoys="infinite")
    assert float(r.key_rate_per_pulse) == pytest.approx(direct, rel=1e-12)
    assert float(r.q_mu) == pytest.approx(q_mu, rel=1e-12)
    assert float(r.e1_upper) == pytest.approx(e1, rel=1e-12)


def test_gys_published_optimal_mu_and_cutoff_distance():
    # MQZL05 (GYS data): optimal mu ~ 0.48 and maximal distance ~ 142 km for infinite decoys.
    assert optimise_mu(0.0).mu == pytest.approx(0.48, abs=0.02)
    cut_inf = cutoff_distance_km(lambda L: optimise_mu(L).key_rate_per_pulse, xtol_km=0.05)
    assert cut_inf == pytest.approx(142.0, abs=1.0)
    # vacuum + weak approaches it as nu -> 0 and loses distance as nu grows
    cuts = [
        cutoff_distance_km(
            lambda L, nu=nu: optimise_mu(L, decoys="vacuum-weak", nu=nu).key_rate_per_pulse,
            xtol_km=0.05,
        )
        for nu in (0.001, 0.05, 0.2)
    ]
    assert cut_inf - 0.2 < cuts[0] <= cut_inf
    assert cuts[0] > cuts[1] > cuts[2] > 135.0


def test_rates_monotone_in_distance_and_below_plob():
    for decoys, nu in (("infinite", None), ("vacuum-weak", 0.05)):
        r = bb84_decoy_rate(D, mu=0.48, nu=nu, decoys=decoys)
        k = r.key_rate_per_pulse
        assert np.all(np.diff(k) <= 0)
        assert k[0] > 0 and k[-1] == 0
        # PLOB at the fibre transmittance (Bob's detector excluded), and even at the overall eta
        assert np.all(k <= r.plob_bound)
        assert np.all(k <= -np.log2(1 - r.eta))
        assert np.all(r.plob_bound <= r.tgw_bound)


def test_vacuum_weak_never_beats_infinite_decoys():
    inf = bb84_decoy_rate(D, mu=0.48, decoys="infinite").key_rate_per_pulse
    for nu in (0.001, 0.05, 0.2):
        vw = bb84_decoy_rate(D, mu=0.48, nu=nu, decoys="vacuum-weak").key_rate_per_pulse
        assert np.all(vw <= inf * (1 + 1e-12))


def test_optimisers_beat_a_grid():
    for L in (20.0, 120.0):
        grid = np.linspace(0.05, 1.0, 96)
        best_grid = infinite_decoy_key_rate(L, mu=grid).max()
        assert optimise_mu(L).key_rate_per_pulse >= best_grid
        vw_grid = max(
            float(bb84_decoy_rate(L, mu=m, nu=n).key_rate_per_pulse)
            for m in np.linspace(0.1, 0.9, 17)
            for n in (0.001, 0.01, 0.05, 0.1)
            if n < m
        )
        assert optimise_mu_nu(L).key_rate_per_pulse >= vw_grid * (1 - 1e-9)


def test_efficient_bb84_scales_by_p_z_squared():
    assert sifting_factor() == 0.5
    assert sifting_factor(efficient=True, p_z=0.9) == pytest.approx(0.81)
    base = bb84_decoy_rate(50.0, mu=0.5, nu=0.1).key_rate_per_pulse
    eff = bb84_decoy_rate(50.0, mu=0.5, nu=0.1, q=0.81).key_rate_per_pulse
    assert eff == pytest.approx(base * 0.81 / 0.5)
    with pytest.raises(InputError, match="p_z"):
        sifting_factor(efficient=True, p_z=1.2)


def test_bad_parameters_raise_input_error():
    with pytest.raises(InputError, match=r"mu must be in \(0, 10\]"):
        bb84_decoy_rate(10.0, mu=-1.0, decoys="infinite")
    with pytest.raises(InputError, match="nu"):
        bb84_decoy_rate(10.0, mu=0.5, decoys="vacuum-weak")
    with pytest.raises(InputError, match="distance_km"):
        bb84_decoy_rate(-5.0, mu=0.5, decoys="infinite")
    with pytest.raises(InputError, match="eta_bob"):
        ChannelModel(eta_bob=0.0)
    with pytest.raises(InputError, match="f_ec"):
        bb84_decoy_rate(10.0, mu=0.5, decoys="infinite", f_ec=0.5)


def test_channel_yields_sum_to_gain():
    eta = float(GYS.transmittance(30.0))
    n = np.arange(0, 60)
    pois = np.exp(-0.6) * 0.6**n / np.array([math.factorial(int(k)) for k in n])
    assert np.sum(pois * GYS.yield_at(n, eta)) == pytest.approx(float(GYS.gain_at(0.6, eta)))
    assert np.sum(pois * GYS.yield_at(n, eta) * GYS.error_rate_at(n, eta)) == pytest.approx(
        float(GYS.error_gain_at(0.6, eta))
    )
