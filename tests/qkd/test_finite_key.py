import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics.bounds import plob_bound
from qnetai.qkd.channel import GYS, LIM2014, LIM2014_F_EC
from qnetai.qkd.decoy import e1_upper, y1_lower_vacuum_weak
from qnetai.qkd.finite_key import finite_key_length, finite_key_rate, gamma_term
from qnetai.qkd.optimise import cutoff_distance_km, optimise_finite_key

PROTO = {"intensities": (0.5, 0.1, 0.0), "probabilities": (0.7, 0.2, 0.1), "q_x": 0.8}


def test_asymptotic_limit_reduces_to_vacuum_weak_bounds():
    L = 60.0
    r = finite_key_rate(L, block_size=None, **PROTO)
    eta = GYS.transmittance(L)
    q_mu, q_nu, y0 = GYS.gain_at(0.5, eta), GYS.gain_at(0.1, eta), GYS.gain_at(0.0, eta)
    y1 = y1_lower_vacuum_weak(mu=0.5, nu=0.1, q_mu=q_mu, q_nu=q_nu, y0=y0)
    e1 = e1_upper(e_q=GYS.error_gain_at(0.1, eta), y0=y0, y1_lower=y1, intensity=0.1)
    p = np.array(PROTO["probabilities"])
    mu = np.array(PROTO["intensities"])
    tau0, tau1 = np.sum(p * np.exp(-mu)), np.sum(p * np.exp(-mu) * mu)
    assert float(r.s_x1) == pytest.approx(0.8**2 * tau1 * float(y1), rel=1e-10)
    assert float(r.s_x0) == pytest.approx(0.8**2 * tau0 * GYS.y0, rel=1e-10)
    assert float(r.phi_x) == pytest.approx(float(e1), rel=1e-10)


def test_finite_rate_grows_with_block_size_towards_asymptotic():
    L = 40.0
    asym = float(finite_key_rate(L, block_size=None, **PROTO).key_rate_per_pulse)
    rates = [
        float(finite_key_rate(L, block_size=n, **PROTO).key_rate_per_pulse)
        for n in (1e9, 1e10, 1e11, 1e12, 1e14, 1e17)
    ]
    assert np.all(np.diff(rates) > 0)
    assert rates[-1] <= asym
    assert rates[-1] == pytest.approx(asym, rel=2e-3)


def test_finite_key_never_exceeds_asymptotic_or_plob():
    d = np.arange(0.0, 150.0, 10.0)
    fin = finite_key_rate(d, block_size=1e11, **PROTO).key_rate_per_pulse
    asym = finite_key_rate(d, block_size=None, **PROTO).key_rate_per_pulse
    assert np.all(fin <= asym)
    assert np.all(np.diff(fin) <= 0)
    assert np.all(fin <= plob_bound(GYS.channel_transmittance(d)))


def test_gamma_term_matches_formula_and_vanishes_without_errors():
    a, b, c, d = 1e-10, 0.03, 1e5, 2e5
    by_hand = math.sqrt(
        (c + d)
        * (1 - b)
        * b
        / (c * d * math.log(2))
        * math.log2((c + d) / (c * d * (1 - b) * b) * 21**2 / a**2)
    )
    assert float(gamma_term(a, b, c, d)) == pytest.approx(by_hand, rel=1e-12)
    assert float(gamma_term(a, 0.0, c, d)) < 1e-100


def test_key_length_from_counts_and_validation():
    counts = {
        "n_x": [4e5, 8e4, 300.0],
        "m_x": [8e3, 2e3, 150.0],
        "n_z": [1e5, 2e4, 80.0],
        "m_z": [2e3, 5e2, 40.0],
    }
    out = finite_key_length(intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), **counts)
    assert out["s_x1"] > 0 and 0 < out["phi_x"] < 0.5
    with pytest.raises(InputError, match="mu1 > mu2 \\+ mu3"):
        finite_key_length(intensities=(0.2, 0.15, 0.1), probabilities=(0.7, 0.2, 0.1), **counts)
    with pytest.raises(InputError, match="eps_sec"):
        finite_key_length(
            intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), eps_sec=0.0, **counts
        )
    with pytest.raises(InputError, match="block_size"):
        finite_key_rate(10.0, block_size=0.5)


def test_lim2014_fig1_small_block_reaches_about_135_km():
    # Lim14 Sec. IV: with n_X = 1e4 "keys can still be distributed over ... 135 km".
    # (We fix eps_sec = 1e-10 where the paper sets eps_sec = kappa * l.)
    def rate(L):
        return optimise_finite_key(
            L, n_x_block=1e4, mu3=2e-4, channel=LIM2014, f_ec=LIM2014_F_EC, maxiter=40
        ).key_rate_per_pulse

    cut = cutoff_distance_km(rate, lo_km=100.0, hi_km=160.0, xtol_km=0.5)
    assert 128.0 < cut < 140.0
    big = optimise_finite_key(
        150.0, block_size=1e12, mu3=2e-4, channel=LIM2014, f_ec=LIM2014_F_EC
    ).key_rate_per_pulse
    assert big > 0


def test_finite_key_optimiser_beats_default_parameters():
    opt = optimise_finite_key(50.0, block_size=1e10)
    fixed = finite_key_rate(50.0, block_size=1e10, **PROTO).key_rate_per_pulse
    assert opt.key_rate_per_pulse >= float(fixed)
    mu1, mu2, mu3 = opt.intensities
    assert mu1 > mu2 + mu3 and mu3 == 0.0
    assert sum(opt.probabilities) == pytest.approx(1.0)
