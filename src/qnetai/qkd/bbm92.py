r"""Entanglement-based QKD (BBM92) with a parametric down-conversion source in the middle.

Ma, Fung and Lo, "Quantum key distribution with entangled photon sources",
Phys. Rev. A 76, 012307 (2007) [MFL07], Sec. III. The source emits polarisation-entangled
pairs (two two-mode squeezed vacua for type-II PDC, ``|psi^->``-type correlations) toward
Alice (transmittance ``eta_A``, fibre times detector) and Bob (``eta_B``); each side has two
threshold detectors with background probability ``Y0`` per side; double clicks give a
random bit; ``e_d`` is the misalignment error of a correlated photon pair.

With ``mu`` the mean number of pairs per pulse:

* ``statistics="thermal"`` (single-mode PDC, ``P(n) = (n+1) lam^n / (1+lam)^(n+2)`` with
  ``lam = mu/2``, MFL07 Eq. (4)): no-click factors per squeezed mode
  ``a = 1/(1 + eta_A lam)``, ``b = 1/(1 + eta_B lam)``,
  ``c = 1/(1 + eta_A lam + eta_B lam - eta_A eta_B lam)``;
* ``statistics="poisson"`` (multimode limit): ``a = exp(-eta_A mu/2)``,
  ``b = exp(-eta_B mu/2)``, ``c = exp(-(eta_A + eta_B - eta_A eta_B) mu/2)``.

Then (MFL07 Eqs. (9)-(10) for the thermal case)

.. math::
    Q = 1 - (1-Y_{0A}) a^2 - (1-Y_{0B}) b^2 + (1-Y_{0A})(1-Y_{0B}) c^2,\qquad
    E Q = e_0 Q - 2(e_0 - e_d)\, s_A s_B (c - a b),

where for the thermal case ``c - ab = lam (1+lam) eta_A eta_B / [(1+eta_A lam)(1+eta_B lam)
(1+eta_A lam+eta_B lam-eta_A eta_B lam)]`` as in MFL07. The background prefactor
``s_A s_B = sqrt((1-Y0A)(1-Y0B))`` is what an independent dark count in each of the two
detectors of a side gives (tests check it against a direct enumeration of click
patterns); forms of the prefactor found in the literature differ from it at O(Y0) only.
The key rate (MFL07 Eq. (2)) is ``R = q Q [1 - f H2(E) - H2(E)]`` with ``q = 1/2``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics.bounds import binary_entropy, plob_bound, tgw_bound
from qnetai.qkd.channel import GYS, GYS_F_EC, ChannelModel
from qnetai.qkd.decoy import E0

__all__ = ["Bbm92Result", "bbm92_gain_qber", "bbm92_rate"]

Statistics = Literal["thermal", "poisson"]


def bbm92_gain_qber(
    *,
    mu: ArrayLike,
    eta_a: ArrayLike,
    eta_b: ArrayLike,
    y0_a: ArrayLike,
    y0_b: ArrayLike,
    e_detector: ArrayLike,
    statistics: Statistics = "thermal",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coincidence gain ``Q`` and QBER ``E`` of a central PDC source (see module doc).

    Example:
        >>> q, e = bbm92_gain_qber(mu=0.1, eta_a=0.1, eta_b=0.1, y0_a=0.0, y0_b=0.0,
        ...                        e_detector=0.0)
        >>> bool(0 < e < 0.05)
        True

    """
    m = np.asarray(mu, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise InputError(f"mu (mean pair number per pulse) must be > 0 (got {mu!s})")
    ea = np.asarray(eta_a, dtype=float)
    eb = np.asarray(eta_b, dtype=float)
    both = ea + eb - ea * eb
    if statistics == "thermal":
        lam = m / 2
        a, b, c = 1 / (1 + ea * lam), 1 / (1 + eb * lam), 1 / (1 + both * lam)
        c_minus_ab = lam * (1 + lam) * ea * eb * a * b * c
    elif statistics == "poisson":
        a, b, c = np.exp(-ea * m / 2), np.exp(-eb * m / 2), np.exp(-both * m / 2)
        c_minus_ab = c - a * b
    else:
        raise InputError(f"statistics must be 'thermal' or 'poisson' (got {statistics!r})")
    sa2 = 1 - np.asarray(y0_a, dtype=float)
    sb2 = 1 - np.asarray(y0_b, dtype=float)
    q = 1 - sa2 * a**2 - sb2 * b**2 + sa2 * sb2 * c**2
    eq = E0 * q - 2 * (E0 - np.asarray(e_detector, dtype=float)) * np.sqrt(sa2 * sb2) * c_minus_ab
    return q, eq / q


@dataclass(frozen=True)
class Bbm92Result:
    """BBM92 figures (arrays broadcast over the two distances).

    ``eta`` is the end-to-end transmittance ``eta_A eta_B`` (detectors included) and
    ``eta_channel`` the fibre's over ``L_A + L_B`` (at which PLOB/TGW are evaluated).
    """

    distance_a_km: NDArray[np.float64]
    distance_b_km: NDArray[np.float64]
    mu: float
    key_rate_per_pulse: NDArray[np.float64]
    gain: NDArray[np.float64]
    qber: NDArray[np.float64]
    eta: NDArray[np.float64]
    eta_channel: NDArray[np.float64]
    plob_bound: NDArray[np.float64]
    tgw_bound: NDArray[np.float64]

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output."""
        return asdict(self)


def bbm92_rate(
    distance_a_km: ArrayLike,
    distance_b_km: ArrayLike,
    *,
    mu: float,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
    statistics: Statistics = "thermal",
) -> Bbm92Result:
    """BBM92 key rate ``q Q [1 - f H2(E) - H2(E)]`` (MFL07 Eq. (2)), clipped at 0.

    Both sides use ``channel``'s fibre and detectors (``eta_bob``, ``y0``, ``e_detector``).
    """
    if not (np.isfinite(f_ec) and f_ec >= 1):
        raise InputError(f"f_ec must be >= 1 (got {f_ec})")
    la = np.asarray(distance_a_km, dtype=float)
    lb = np.asarray(distance_b_km, dtype=float)
    eta_a = channel.transmittance(la)
    eta_b = channel.transmittance(lb)
    gain, qber = bbm92_gain_qber(
        mu=mu,
        eta_a=eta_a,
        eta_b=eta_b,
        y0_a=channel.y0,
        y0_b=channel.y0,
        e_detector=channel.e_detector,
        statistics=statistics,
    )
    e = np.clip(qber, 0.0, 0.5)
    rate = q * gain * (1 - f_ec * binary_entropy(e) - binary_entropy(e))
    eta_ch = channel.channel_transmittance(la + lb)
    return Bbm92Result(
        distance_a_km=la,
        distance_b_km=lb,
        mu=float(mu),
        key_rate_per_pulse=np.maximum(rate, 0.0),
        gain=gain,
        qber=qber,
        eta=eta_a * eta_b,
        eta_channel=eta_ch,
        plob_bound=np.asarray(plob_bound(eta_ch)),
        tgw_bound=np.asarray(tgw_bound(eta_ch)),
    )
