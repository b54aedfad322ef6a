"""The one channel model of QKD over fibre: fibre loss plus Bob's detection apparatus.

:class:`ChannelModel` is used everywhere a QKD link is described: the analytic rates
(``qnetai qkd rate``, :mod:`qnetai.qkd.optimise`, finite key, BBM92), the pulse-level
simulator (``qnetai qkd simulate``, :func:`qnetai.qkd.pipeline.run_bb84`, through
:class:`qnetai.qkd.pulses.BB84Setup`) and the key network. Its defaults,
:data:`DEFAULT_CHANNEL`, are the GYS parameters (Gobby, Yuan and Shields 2004) that Ma,
Qi, Zhao and Lo use as their reference link and most of the decoy-state literature
compares against: 0.21 dB/km, ``eta_Bob = 4.5 %``, ``Y0 = 1.7e-6``, ``e_d = 3.3 %``, no
after-pulsing.

Expected statistics. The model is the one of Ma, Qi, Zhao and Lo, Phys. Rev. A 72,
012326 (2005) [MQZL05], Sec. II (their Eqs. (2)-(8) in spirit), optionally with the
after-pulse term of Lim, Curty, Walenta, Xu and Zbinden, Phys. Rev. A 89, 022307 (2014)
[Lim14], Sec. IV:

* transmittance ``eta = eta_bob * 10**(-alpha * L / 10)`` (channel times Bob's detection
  efficiency; ``eta_channel = 10**(-alpha * L / 10)`` excludes Bob's detector);
* the ``n``-photon yield ``Y_n = (Y0 + eta_n) (1 + p_ap)`` with ``eta_n = 1 - (1 - eta)**n``
  (background and signal counts treated as additive, as in MQZL05; ``Y0`` is the
  background probability of the whole detection apparatus, e.g. ``2 p_dc``);
* the gain ``Q_mu = sum_n Y_n e^{-mu} mu^n/n! = (Y0 + 1 - e^{-eta mu}) (1 + p_ap)``;
* the errors ``e_n Y_n = e0 Y0 + e_d eta_n + p_ap (Y0 + eta_n)/2`` so that
  ``E_mu Q_mu = e0 Y0 + e_d (1 - e^{-eta mu}) + p_ap (Y0 + 1 - e^{-eta mu})/2``,
  with ``e0 = 1/2`` and ``e_d`` the misalignment (detector) error probability.

With ``p_ap = 0`` these are exactly the MQZL05 expressions
``Q_mu = Y0 + 1 - exp(-eta mu)`` and ``E_mu Q_mu = e0 Y0 + e_d (1 - exp(-eta mu))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics.links import fibre_transmittance
from qnetai.qkd.decoy import E0

__all__ = [
    "DEFAULT_CHANNEL",
    "GYS",
    "GYS_F_EC",
    "LIM2014",
    "LIM2014_F_EC",
    "SIMULATOR_DETECTORS",
    "ChannelModel",
]

#: Threshold detectors of the simulator's passive BB84 receiver (two per basis).
SIMULATOR_DETECTORS = 4


def _check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> None:
    bad = not np.isfinite(value) or value > hi or (value <= lo if lo_open else value < lo)
    if bad:
        left = "(" if lo_open else "["
        raise InputError(f"{name} must be in {left}{lo}, {hi}] (got {value})")


@dataclass(frozen=True)
class ChannelModel:
    """Fibre channel plus Bob's detection apparatus (threshold detectors); frozen, validated.

    Attributes:
        attenuation_db_per_km: fibre attenuation (dB/km).
        eta_bob: Bob's detection efficiency including his optics (0, 1].
        y0: background (dark-count) probability per pulse of Bob's whole apparatus; the
            simulator's four detectors each get :attr:`dark_count_probability`.
        e_detector: misalignment error probability ``e_d`` of a detected photon.
        afterpulse_probability: after-pulse probability ``p_ap``; 0 in MQZL05 and GYS.
            The analytic formulas use the ``(1 + p_ap)`` factor of Lim14; the simulator
            makes a clicked detector click again in the next gate with probability
            ``p_ap`` (see :func:`qnetai.qkd.estimation.expected_statistics`).

    Example:
        >>> m = ChannelModel(attenuation_db_per_km=0.2, eta_bob=0.1, y0=1e-6, e_detector=0.01)
        >>> round(float(m.transmittance(50.0)), 4)
        0.01
        >>> ChannelModel() == DEFAULT_CHANNEL == GYS
        True

    """

    attenuation_db_per_km: float = 0.21
    eta_bob: float = 0.045
    y0: float = 1.7e-6
    e_detector: float = 0.033
    afterpulse_probability: float = 0.0

    def __post_init__(self) -> None:
        _check_range("attenuation_db_per_km", self.attenuation_db_per_km, 0.0, 10.0)
        _check_range("eta_bob", self.eta_bob, 0.0, 1.0, lo_open=True)
        _check_range("y0", self.y0, 0.0, 0.5)
        _check_range("e_detector", self.e_detector, 0.0, 0.5)
        _check_range("afterpulse_probability", self.afterpulse_probability, 0.0, 1.0)

    @property
    def dark_count_probability(self) -> float:
        """Dark-count probability per gate of each of the simulator's four detectors.

        ``1 - (1 - p_dc)**4 = y0``: the four detectors together have background ``y0``.
        """
        return float(-np.expm1(np.log1p(-self.y0) / SIMULATOR_DETECTORS))

    def to_dict(self) -> dict[str, float]:
        """The five parameters as a plain dict (JSON output)."""
        return {f: float(getattr(self, f)) for f in _FIELDS}

    # -- transmittances ------------------------------------------------------------
    def channel_transmittance(self, distance_km: ArrayLike) -> NDArray[np.float64]:
        """Fibre transmittance ``10**(-alpha L / 10)`` (Bob's detector excluded)."""
        d = np.asarray(distance_km, dtype=float)
        if np.any(~np.isfinite(d)) or np.any(d < 0):
            raise InputError(f"distance_km must be >= 0 (got {distance_km!s})")
        return np.asarray(fibre_transmittance(d, self.attenuation_db_per_km), dtype=float)

    def transmittance(self, distance_km: ArrayLike) -> NDArray[np.float64]:
        """Overall transmittance ``eta = eta_bob * eta_channel`` used in the rate formulas."""
        return self.eta_bob * self.channel_transmittance(distance_km)

    # -- statistics at a given overall transmittance -----------------------------------
    def gain_at(self, intensity: ArrayLike, eta: ArrayLike) -> NDArray[np.float64]:
        """Expected gain ``Q_k = (Y0 + 1 - exp(-eta k)) (1 + p_ap)`` of intensity ``k``."""
        k = np.asarray(intensity, dtype=float)
        d = -np.expm1(-np.asarray(eta, dtype=float) * k)
        return (self.y0 + d) * (1.0 + self.afterpulse_probability)

    def error_gain_at(self, intensity: ArrayLike, eta: ArrayLike) -> NDArray[np.float64]:
        """Expected errors per pulse ``E_k Q_k`` of intensity ``k``."""
        k = np.asarray(intensity, dtype=float)
        d = -np.expm1(-np.asarray(eta, dtype=float) * k)
        return E0 * self.y0 + self.e_detector * d + self.afterpulse_probability * (self.y0 + d) / 2

    def yield_at(self, n_photons: ArrayLike, eta: ArrayLike) -> NDArray[np.float64]:
        """``n``-photon yield ``Y_n = (Y0 + 1 - (1 - eta)**n) (1 + p_ap)``."""
        n = np.asarray(n_photons, dtype=float)
        eta_n = -np.expm1(n * np.log1p(-np.asarray(eta, dtype=float)))
        return (self.y0 + eta_n) * (1.0 + self.afterpulse_probability)

    def error_rate_at(self, n_photons: ArrayLike, eta: ArrayLike) -> NDArray[np.float64]:
        """``n``-photon error rate ``e_n = (e0 Y0 + e_d eta_n + p_ap (Y0 + eta_n)/2) / Y_n``."""
        n = np.asarray(n_photons, dtype=float)
        eta_n = -np.expm1(n * np.log1p(-np.asarray(eta, dtype=float)))
        num = (
            E0 * self.y0
            + self.e_detector * eta_n
            + self.afterpulse_probability * (self.y0 + eta_n) / 2
        )
        return num / self.yield_at(n, eta)

    # -- statistics at a distance ----------------------------------------------------
    def gain(self, intensity: ArrayLike, distance_km: ArrayLike) -> NDArray[np.float64]:
        """Expected gain ``Q_k`` at ``distance_km``."""
        return self.gain_at(intensity, self.transmittance(distance_km))

    def error_gain(self, intensity: ArrayLike, distance_km: ArrayLike) -> NDArray[np.float64]:
        """Expected ``E_k Q_k`` at ``distance_km``."""
        return self.error_gain_at(intensity, self.transmittance(distance_km))

    def qber(self, intensity: ArrayLike, distance_km: ArrayLike) -> NDArray[np.float64]:
        """Expected QBER ``E_k`` at ``distance_km``."""
        eta = self.transmittance(distance_km)
        return self.error_gain_at(intensity, eta) / self.gain_at(intensity, eta)


_FIELDS = (
    "attenuation_db_per_km",
    "eta_bob",
    "y0",
    "e_detector",
    "afterpulse_probability",
)

#: Gobby, Yuan and Shields, Appl. Phys. Lett. 84, 3762 (2004), as used in MQZL05 (Table I).
GYS = ChannelModel(attenuation_db_per_km=0.21, eta_bob=0.045, y0=1.7e-6, e_detector=0.033)
#: The defaults of every QKD entry point (``qkd rate``, ``qkd simulate``, ``run_bb84``):
#: the GYS link, the literature's standard reference (see the module docstring).
DEFAULT_CHANNEL = ChannelModel()
#: Error-correction inefficiency used with the GYS data in MQZL05.
GYS_F_EC = 1.22
#: The dedicated-fibre system of Lim14 Sec. IV: eta_Bob = 10%, p_dc = 6e-7 per detector
#: (two detectors: Y0 = 1.2e-6), p_ap = 4e-2, alpha = 0.2 dB/km, e_mis = 5e-3.
LIM2014 = ChannelModel(
    attenuation_db_per_km=0.2, eta_bob=0.1, y0=1.2e-6, e_detector=5e-3, afterpulse_probability=0.04
)
#: Error-correction inefficiency used in Lim14 Sec. IV.
LIM2014_F_EC = 1.16
