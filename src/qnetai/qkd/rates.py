r"""Asymptotic key rates of decoy-state BB84 (infinite decoys; vacuum + weak decoy).

Key-rate formula (GLLP, as written in Ma, Qi, Zhao and Lo, Phys. Rev. A 72, 012326 (2005)
[MQZL05], Sec. II; Lo, Ma and Chen, Phys. Rev. Lett. 94, 230504 (2005) [LMC05]):

.. math::
    R \ge q\{-Q_\mu f H_2(E_\mu) + Q_1[1 - H_2(e_1)]\}

per pulse sent, with ``q`` the sifting factor: ``1/2`` for standard BB84; for the efficient
(biased-basis) BB84 of Lo, Chau and Ardehali (J. Cryptology 18, 133 (2005)) where both
parties choose the Z basis with probability ``p_Z``, key comes from Z-Z events and the
phase error is estimated from X-X events, so ``q = p_Z**2`` (-> 1 asymptotically as
``p_Z -> 1``).

* **Infinite decoys** (LMC05): ``Y1`` and ``e1`` are known exactly, here from the channel
  model (:class:`qnetai.qkd.channel.ChannelModel`): ``Y1 = Y0 + eta`` and
  ``e1 = (e0 Y0 + e_d eta) / Y1`` (MQZL05's additive model; see ``channel``).
* **Vacuum + weak decoy** (MQZL05 Sec. III B): ``Y1 >= Y1^L`` (Eq. (34)) and
  ``e1 <= e1^U`` (Eq. (37)) from the expected gains of the signal ``mu``, the weak decoy
  ``nu`` and the vacuum (:mod:`qnetai.qkd.decoy`).

The repeaterless bounds (PLOB, TGW) are evaluated at the *channel* transmittance
``eta_channel = 10**(-alpha L / 10)``, which excludes Bob's detector: detector
inefficiency sits inside Bob's trusted lab, so the capacity of the fibre is the relevant
bound. (The key rate also stays below the bounds evaluated at the overall ``eta``.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics.bounds import binary_entropy, plob_bound, tgw_bound
from qnetai.qkd.channel import GYS, GYS_F_EC, ChannelModel
from qnetai.qkd.decoy import E0, check_intensity, e1_upper, q1_lower, y1_lower_vacuum_weak

__all__ = [
    "RateResult",
    "bb84_decoy_rate",
    "check_f_ec",
    "gllp_key_rate",
    "infinite_decoy_key_rate",
    "sifting_factor",
    "vacuum_weak_key_rate",
]

Decoys = Literal["infinite", "vacuum-weak"]


def sifting_factor(*, efficient: bool = False, p_z: float | None = None) -> float:
    """Fraction ``q`` of pulses whose bases match and that enter the key.

    Standard BB84: ``1/2``. Efficient BB84 with basis probability ``p_Z`` on both sides:
    ``p_Z**2`` (asymptotic; the X-X events, a fraction ``(1-p_Z)**2``, only test).

    Example:
        >>> sifting_factor(), sifting_factor(efficient=True, p_z=0.9)
        (0.5, 0.81)

    """
    if not efficient:
        if p_z is not None:
            raise InputError("p_z is only used with efficient=True (biased-basis BB84)")
        return 0.5
    p = 0.9 if p_z is None else float(p_z)
    if not (0.5 <= p < 1.0):
        raise InputError(f"p_z must be in [0.5, 1) (got {p})")
    return round(p * p, 15)


def check_f_ec(f_ec: float) -> None:
    """Raise :class:`InputError` unless ``f_ec`` is a finite number >= 1."""
    if not (np.isfinite(f_ec) and f_ec >= 1.0):
        raise InputError(
            f"f_ec (error-correction inefficiency) must be a finite number >= 1 (got {f_ec})"
        )


def _check_q(q: float) -> None:
    if not (0.0 < q <= 1.0):
        raise InputError(f"sifting factor q must be in (0, 1] (got {q})")


def _check_mu(mu: NDArray[np.float64], name: str = "mu") -> None:
    check_intensity(name, mu)


def gllp_key_rate(
    *,
    q_mu: ArrayLike,
    e_mu: ArrayLike,
    q1: ArrayLike,
    e1: ArrayLike,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
) -> NDArray[np.float64]:
    """GLLP rate ``q{-Q_mu f H2(E_mu) + Q1[1 - H2(e1)]}`` (MQZL05 Sec. II), *not* clipped.

    ``e1`` is clipped to ``[0, 1/2]`` before the entropy; ``q1 <= 0`` contributes nothing
    positive. Negative values mean "no key" (callers clip with ``max(R, 0)``).
    """
    e1c = np.clip(np.asarray(e1, dtype=float), 0.0, 0.5)
    q1a = np.asarray(q1, dtype=float)
    single = np.where(q1a > 0, q1a * (1.0 - binary_entropy(e1c)), q1a)
    return q * (-np.asarray(q_mu, dtype=float) * f_ec * binary_entropy(e_mu) + single)


def infinite_decoy_key_rate(
    distance_km: ArrayLike,
    *,
    mu: ArrayLike,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
) -> NDArray[np.float64]:
    """Unclipped asymptotic rate with infinitely many decoys (exact ``Y1``, ``e1``; LMC05)."""
    mu_a = np.asarray(mu, dtype=float)
    _check_mu(mu_a)
    eta = channel.transmittance(distance_km)
    q_mu = channel.gain_at(mu_a, eta)
    e_mu = channel.error_gain_at(mu_a, eta) / q_mu
    y1 = channel.yield_at(1, eta)
    e1 = channel.error_rate_at(1, eta)
    return gllp_key_rate(q_mu=q_mu, e_mu=e_mu, q1=q1_lower(mu_a, y1), e1=e1, f_ec=f_ec, q=q)


def _vacuum_weak_bounds(
    eta: NDArray[np.float64], mu: NDArray[np.float64], nu: NDArray[np.float64], ch: ChannelModel
) -> tuple[NDArray[np.float64], ...]:
    q_mu = ch.gain_at(mu, eta)
    q_nu = ch.gain_at(nu, eta)
    y0 = ch.gain_at(0.0, eta)  # the vacuum decoy's gain (= Y0 (1 + p_ap))
    y1 = y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=q_mu, q_nu=q_nu, y0=y0)
    e1 = e1_upper(e_q=ch.error_gain_at(nu, eta), y0=y0, y1_lower=y1, intensity=nu, e0=E0)
    return q_mu, ch.error_gain_at(mu, eta) / q_mu, y1, e1


def vacuum_weak_key_rate(
    distance_km: ArrayLike,
    *,
    mu: ArrayLike,
    nu: ArrayLike,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
) -> NDArray[np.float64]:
    """Unclipped asymptotic rate of the vacuum + weak decoy method (MQZL05 Eqs. (34), (37))."""
    mu_a = np.asarray(mu, dtype=float)
    nu_a = np.asarray(nu, dtype=float)
    eta = channel.transmittance(distance_km)
    q_mu, e_mu, y1, e1 = _vacuum_weak_bounds(eta, mu_a, nu_a, channel)
    return gllp_key_rate(q_mu=q_mu, e_mu=e_mu, q1=q1_lower(mu_a, y1), e1=e1, f_ec=f_ec, q=q)


@dataclass(frozen=True)
class RateResult:
    """Figures of one asymptotic BB84 rate evaluation (arrays broadcast over distance).

    ``key_rate_per_pulse`` is clipped at 0; ``eta`` is the overall transmittance
    (channel x Bob's detector) and ``eta_channel`` the fibre's alone, at which
    ``plob_bound`` and ``tgw_bound`` are evaluated (bits per channel use).
    """

    distance_km: NDArray[np.float64]
    key_rate_per_pulse: NDArray[np.float64]
    mu: float
    nu: float | None
    decoys: str
    q: float
    eta: NDArray[np.float64]
    eta_channel: NDArray[np.float64]
    q_mu: NDArray[np.float64]
    e_mu: NDArray[np.float64]
    y1_lower: NDArray[np.float64]
    e1_upper: NDArray[np.float64]
    q1_lower: NDArray[np.float64]
    plob_bound: NDArray[np.float64]
    tgw_bound: NDArray[np.float64]

    def to_dict(self) -> dict[str, object]:
        """Plain dict (numpy values) for JSON output."""
        return asdict(self)


def bb84_decoy_rate(
    distance_km: ArrayLike,
    *,
    mu: float,
    nu: float | None = None,
    decoys: Decoys = "vacuum-weak",
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
) -> RateResult:
    """Asymptotic decoy-state BB84 figures at given intensities.

    Args:
        distance_km: fibre length(s) (km).
        mu: signal intensity.
        nu: weak-decoy intensity (``0 < nu < mu``); required for ``decoys="vacuum-weak"``.
        decoys: ``"infinite"`` (exact Y1, e1) or ``"vacuum-weak"`` (MQZL05 bounds).
        channel: channel and detector model (default: GYS).
        f_ec: error-correction inefficiency (>= 1).
        q: sifting factor (see :func:`sifting_factor`).

    Example:
        >>> r = bb84_decoy_rate(50.0, mu=0.48, decoys="infinite")
        >>> bool(0 < r.key_rate_per_pulse < r.plob_bound)
        True

    """
    check_f_ec(f_ec)
    _check_q(q)
    mu_a = np.asarray(mu, dtype=float)
    _check_mu(mu_a)
    d = np.asarray(distance_km, dtype=float)
    eta = channel.transmittance(d)
    eta_ch = channel.channel_transmittance(d)
    if decoys == "infinite":
        q_mu = channel.gain_at(mu_a, eta)
        e_mu = channel.error_gain_at(mu_a, eta) / q_mu
        y1 = channel.yield_at(1, eta)
        e1 = channel.error_rate_at(1, eta)
    elif decoys == "vacuum-weak":
        if nu is None:
            raise InputError("nu (weak-decoy intensity) is required for decoys='vacuum-weak'")
        q_mu, e_mu, y1, e1 = _vacuum_weak_bounds(eta, mu_a, np.asarray(nu, dtype=float), channel)
    else:
        raise InputError(f"decoys must be 'infinite' or 'vacuum-weak' (got {decoys!r})")
    q1 = q1_lower(mu_a, y1)
    rate = gllp_key_rate(q_mu=q_mu, e_mu=e_mu, q1=q1, e1=e1, f_ec=f_ec, q=q)
    return RateResult(
        distance_km=d,
        key_rate_per_pulse=np.maximum(rate, 0.0),
        mu=float(mu),
        nu=None if decoys == "infinite" or nu is None else float(nu),
        decoys=decoys,
        q=q,
        eta=eta,
        eta_channel=eta_ch,
        q_mu=q_mu,
        e_mu=e_mu,
        y1_lower=y1,
        e1_upper=np.minimum(e1, 0.5),
        q1_lower=q1,
        plob_bound=np.asarray(plob_bound(eta_ch), dtype=float),
        tgw_bound=np.asarray(tgw_bound(eta_ch), dtype=float),
    )
