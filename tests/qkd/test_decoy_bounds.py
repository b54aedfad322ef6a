import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.channel import GYS
from qnetai.qkd.decoy import e1_upper, q1_lower, y1_lower_vacuum_weak


def _expected(mu, eta):
    return GYS.gain_at(mu, eta), GYS.error_gain_at(mu, eta)


@pytest.mark.parametrize("distance_km", [0.0, 40.0, 100.0, 140.0])
def test_vacuum_weak_bounds_are_valid_and_tight_as_nu_to_zero(distance_km):
    eta = float(GYS.transmittance(distance_km))
    mu = 0.48
    y1_true = float(GYS.yield_at(1, eta))
    e1_true = float(GYS.error_rate_at(1, eta))
    q_mu, _ = _expected(mu, eta)
    prev_gap = np.inf
    for nu in (0.2, 0.1, 0.03, 0.01, 0.001):
        q_nu, eq_nu = _expected(nu, eta)
        y1 = float(y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=q_mu, q_nu=q_nu, y0=GYS.y0))
        e1 = float(e1_upper(e_q=eq_nu, y0=GYS.y0, y1_lower=y1, intensity=nu))
        assert y1 <= y1_true * (1 + 1e-12)
        assert e1 >= e1_true * (1 - 1e-12)
        gap = y1_true - y1
        assert gap <= prev_gap
        prev_gap = gap
    # first order in nu: relative gaps shrink linearly
    assert (y1_true - y1) / y1_true < 0.01
    assert (e1 - e1_true) / e1_true < 0.01


def test_y1_lower_matches_eq34_by_hand():
    mu, nu, q_mu, q_nu, y0 = 0.5, 0.1, 2e-3, 4.1e-4, 1e-6
    by_hand = (
        mu
        / (mu * nu - nu**2)
        * (q_nu * np.exp(nu) - q_mu * np.exp(mu) * nu**2 / mu**2 - (mu**2 - nu**2) / mu**2 * y0)
    )
    assert y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=q_mu, q_nu=q_nu, y0=y0) == pytest.approx(by_hand)
    y1 = float(by_hand)
    assert e1_upper(e_q=1e-5, y0=y0, y1_lower=y1, intensity=nu) == pytest.approx(
        (1e-5 * np.exp(nu) - 0.5 * y0) / (y1 * nu)
    )
    assert q1_lower(mu, y1) == pytest.approx(y1 * mu * np.exp(-mu))


def test_bounds_broadcast_and_reject_bad_intensities():
    out = y1_lower_vacuum_weak(mu=np.array([0.4, 0.5]), nu=0.1, q_mu=1e-3, q_nu=2e-4, y0=1e-6)
    assert out.shape == (2,)
    assert np.isinf(e1_upper(e_q=1e-5, y0=1e-6, y1_lower=-1.0, intensity=0.1))
    with pytest.raises(InputError, match="nu must be < mu"):
        y1_lower_vacuum_weak(mu=0.1, nu=0.2, q_mu=1e-3, q_nu=1e-3, y0=0)
    with pytest.raises(InputError, match=r"mu must be in \(0, 10\]"):
        y1_lower_vacuum_weak(mu=-1, nu=0.2, q_mu=1e-3, q_nu=1e-3, y0=0)
