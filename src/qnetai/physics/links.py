"""Channel transmittance and heralded entanglement generation at a midpoint station.

Heralding model (both schemes)
------------------------------
Each node emits one photonic mode entangled with a memory qubit; the photons
meet on a 50:50 beam splitter at the midpoint station, followed by two
*threshold* (non photon-number-resolving) detectors. ``eta_a``/``eta_b`` are
the probabilities that the photon of node a/b reaches the station (source,
coupling and channel); ``detector_efficiency`` multiplies both, so a photon
clicks with ``t_x = eta_x * detector_efficiency``. ``dark_count_probability``
``d`` is the probability that a detector clicks with no photon, per detector
and per detection window (the double-click scheme has two windows per attempt,
single-click one). Photons are perfectly indistinguishable for the click
statistics (two photons in one window always bunch into one detector);
``raw_fidelity`` ``F0`` models every other imperfection of the genuinely
heralded pair (visibility, phase noise, emitter fidelity): that part of the
state is replaced by ``F0``-depolarised (Werner-like) noise.

A herald is accepted on the click patterns listed per scheme below; the pair is
corrected to ``Phi+`` by a Pauli chosen from the pattern, and the returned state
is Bell-diagonal (twirled). Events are summed exactly: genuine photon pairs,
photon + dark count, dark counts only (states derived from which-path
information: a lost photon leaves its time bin in the environment, so such
branches are incoherent).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.physics._checks import in_range, non_negative, positive

# Bell-diagonal forms (after the Pauli correction) of the false-herald states.
_ODD_MIX = np.array([0.5, 0.0, 0.0, 0.5])  # |01>,|10> mixture (one photon + a dark count)
_EVEN_MIX = np.array([0.0, 0.5, 0.5, 0.0])  # |00>,|11> mixture (wrong parity)
_MIXED = np.full(4, 0.25)
_PHI_PLUS = np.array([1.0, 0.0, 0.0, 0.0])
_PHI_MINUS = np.array([0.0, 0.0, 0.0, 1.0])


class HeraldOutcome(NamedTuple):
    """Result of one heralded-generation attempt model.

    ``p_success``: probability per attempt that the station heralds success.
    ``state``: Bell-diagonal state ``(..., 4)`` of the pair given a herald.
    """

    p_success: NDArray[np.float64]
    state: NDArray[np.float64]


def fibre_transmittance(
    length_km: ArrayLike, attenuation_db_per_km: ArrayLike = 0.2
) -> NDArray[np.float64]:
    """Transmittance ``10^(-attenuation_db_per_km * length_km / 10)`` of optical fibre.

    Example:
        >>> float(fibre_transmittance(50.0))
        0.1
    """
    length = non_negative("length_km", length_km)
    att = non_negative("attenuation_db_per_km", attenuation_db_per_km)
    return 10.0 ** (-att * length / 10.0)


def free_space_transmittance(
    distance_km: ArrayLike,
    *,
    tx_aperture_m: ArrayLike,
    rx_aperture_m: ArrayLike,
    wavelength_nm: ArrayLike,
    atmospheric_attenuation_db_per_km: ArrayLike = 0.0,
    atmosphere_thickness_km: ArrayLike | None = None,
    pointing_loss_db: ArrayLike = 0.0,
    extra_loss_db: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Transmittance of a free-space optical link (ground-ground or ground-satellite).

    Geometric part: a diffraction-limited Gaussian beam with waist radius
    ``w0 = tx_aperture_m / 2`` at the transmitter spreads to
    ``w(L) = w0 sqrt(1 + (L / z_R)^2)``, ``z_R = pi w0^2 / lambda``; a receiver of
    radius ``r = rx_aperture_m / 2`` captures ``1 - exp(-2 r^2 / w(L)^2)`` (<= 1 by
    construction). Atmospheric attenuation applies over
    ``min(distance_km, atmosphere_thickness_km)`` (the whole path if ``None``), then
    ``pointing_loss_db`` and ``extra_loss_db`` are subtracted.

    Example:
        >>> eta = free_space_transmittance(500.0, tx_aperture_m=0.3, rx_aperture_m=1.0,
        ...                                wavelength_nm=800.0)
        >>> round(float(eta), 4)
        0.4898
    """
    length_m = non_negative("distance_km", distance_km) * 1e3
    w0 = positive("tx_aperture_m", tx_aperture_m, finite=True) / 2.0
    r = positive("rx_aperture_m", rx_aperture_m, finite=True) / 2.0
    lam = positive("wavelength_nm", wavelength_nm, finite=True) * 1e-9
    att = non_negative("atmospheric_attenuation_db_per_km", atmospheric_attenuation_db_per_km)
    pointing = non_negative("pointing_loss_db", pointing_loss_db)
    extra = non_negative("extra_loss_db", extra_loss_db)
    z_r = np.pi * w0**2 / lam
    w_l_sq = w0**2 * (1.0 + (length_m / z_r) ** 2)
    geometric = -np.expm1(-2.0 * r**2 / w_l_sq)
    path_km = length_m / 1e3
    if atmosphere_thickness_km is not None:
        thickness = non_negative("atmosphere_thickness_km", atmosphere_thickness_km)
        path_km = np.minimum(path_km, thickness)
    loss_db = att * path_km + pointing + extra
    return geometric * 10.0 ** (-loss_db / 10.0)


def heralding_round_trip_s(
    length_km: ArrayLike, speed_km_per_s: ArrayLike = 2.0e5
) -> NDArray[np.float64]:
    """Time from an attempt to the herald at both nodes, midpoint station: ``L / c``.

    Light goes ``L/2`` to the station and the classical message comes back ``L/2``.

    Example:
        >>> float(heralding_round_trip_s(20.0))
        0.0001
    """
    length = non_negative("length_km", length_km)
    speed = positive("speed_km_per_s", speed_km_per_s)
    return length / speed


def _herald_inputs(
    eta_a: ArrayLike,
    eta_b: ArrayLike,
    detector_efficiency: ArrayLike,
    dark_count_probability: ArrayLike,
    raw_fidelity: ArrayLike,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    ta = in_range("eta_a", eta_a, 0.0, 1.0)
    tb = in_range("eta_b", eta_b, 0.0, 1.0)
    det = in_range("detector_efficiency", detector_efficiency, 0.0, 1.0)
    d = in_range("dark_count_probability", dark_count_probability, 0.0, 1.0)
    f0 = in_range("raw_fidelity", raw_fidelity, 0.25, 1.0)
    w0 = ((4.0 * f0 - 1.0) / 3.0)[..., None]
    return ta * det, tb * det, d, w0


def _finish(terms: list[tuple[NDArray, NDArray]]) -> HeraldOutcome:
    """Sum weighted Bell-diagonal states into ``(p_success, normalised state)``."""
    unnorm = sum(w[..., None] * s for w, s in terms)
    p = np.asarray(unnorm).sum(axis=-1)
    safe = np.where(p > 0, p, 1.0)[..., None]
    state = np.where(p[..., None] > 0, unnorm / safe, _MIXED)
    return HeraldOutcome(np.asarray(p), np.asarray(state))


def double_click_herald(
    eta_a: ArrayLike,
    eta_b: ArrayLike,
    *,
    detector_efficiency: ArrayLike = 1.0,
    dark_count_probability: ArrayLike = 0.0,
    raw_fidelity: ArrayLike = 1.0,
) -> HeraldOutcome:
    """Double-click (Barrett-Kok / time-bin) heralding at a midpoint station.

    Each node emits ``(|0>|early> + |1>|late>)/sqrt2`` (spin-time-bin). Success:
    exactly one detector clicks in the early window and exactly one in the late
    window (same detector -> Psi+, different -> Psi-, both corrected to Phi+).
    With ``t = eta * detector_efficiency`` and dark count ``d`` per detector and
    window, the accepted events are (probabilities per attempt)::

        genuine pair        t_a t_b (1-d)^2 / 2                  -> F0-noisy Phi+
        one photon + dark   (t_a + t_b - 2 t_a t_b) d (1-d)^2      -> (Phi+ + Phi-)/2
        same-bin photons    (1 - (1-t_a)(1-t_b)) d (1-d)^2         -> (Psi+ + Psi-)/2
        darks only          4 (1-t_a)(1-t_b) d^2 (1-d)^2           -> I/4

    Ideal: ``p = t_a t_b / 2`` and the state is perfect (``Werner(raw_fidelity)``).

    Example:
        >>> out = double_click_herald(0.1, 0.1, detector_efficiency=0.9)
        >>> round(float(out.p_success), 6), float(out.state[0])
        (0.00405, 1.0)
    """
    ta, tb, d, w0 = _herald_inputs(
        eta_a, eta_b, detector_efficiency, dark_count_probability, raw_fidelity
    )
    genuine = w0 * _PHI_PLUS + (1.0 - w0) * _MIXED
    nd2 = (1.0 - d) ** 2
    return _finish(
        [
            (ta * tb * nd2 / 2.0, genuine),
            ((ta + tb - 2.0 * ta * tb) * d * nd2, _ODD_MIX),
            ((1.0 - (1.0 - ta) * (1.0 - tb)) * d * nd2, _EVEN_MIX),
            (4.0 * (1.0 - ta) * (1.0 - tb) * d**2 * nd2, _MIXED),
        ]
    )


def single_click_herald(
    eta_a: ArrayLike,
    eta_b: ArrayLike,
    *,
    bright_state_parameter: ArrayLike,
    detector_efficiency: ArrayLike = 1.0,
    dark_count_probability: ArrayLike = 0.0,
    raw_fidelity: ArrayLike = 1.0,
) -> HeraldOutcome:
    """Single-click heralding at a midpoint station (bright-state parameter ``alpha``).

    Each node prepares ``sqrt(1-alpha)|0>|vac> + sqrt(alpha)|1>|photon>``. Success:
    exactly one of the two detectors clicks (-> Psi+ or Psi-, corrected to Phi+).
    With ``t = eta * detector_efficiency`` and dark count ``d`` per detector::

        one photon (coherent)  alpha(1-alpha)(t_a + t_b)(1-d)
            -> f Phi+ + (1-f) Phi-, f = (sqrt t_a + sqrt t_b)^2 / (2 (t_a + t_b)),
               then F0-depolarised
        one emitted, lost      alpha(1-alpha)(2 - t_a - t_b) 2d(1-d)  -> (Phi+ + Phi-)/2
        none emitted           (1-alpha)^2 2d(1-d)                   -> (Psi+ + Psi-)/2
        both emitted           alpha^2 [(1-(1-t_a)(1-t_b))(1-d) + (1-t_a)(1-t_b) 2d(1-d)]
                                                                     -> (Psi+ + Psi-)/2

    Symmetric, small ``alpha``, ``d = 0``: ``p ~ 2 alpha t`` and ``F ~ 1 - alpha``
    (exactly ``p = 2 alpha t - alpha^2 t^2``, ``F = 2(1-alpha)/(2 - alpha t)``).

    Example:
        >>> out = single_click_herald(0.1, 0.1, bright_state_parameter=0.05)
        >>> round(float(out.p_success), 6), round(float(out.state[0]), 4)
        (0.009975, 0.9524)
    """
    ta, tb, d, w0 = _herald_inputs(
        eta_a, eta_b, detector_efficiency, dark_count_probability, raw_fidelity
    )
    alpha = in_range("bright_state_parameter", bright_state_parameter, 0.0, 1.0)
    tsum = ta + tb
    f = np.where(
        tsum > 0, (np.sqrt(ta) + np.sqrt(tb)) ** 2 / (2.0 * np.where(tsum > 0, tsum, 1.0)), 1.0
    )[..., None]
    coherent = f * _PHI_PLUS + (1.0 - f) * _PHI_MINUS
    coherent = w0 * coherent + (1.0 - w0) * _MIXED
    one_dark = 2.0 * d * (1.0 - d)
    both_lost = (1.0 - ta) * (1.0 - tb)
    return _finish(
        [
            (alpha * (1.0 - alpha) * tsum * (1.0 - d), coherent),
            (alpha * (1.0 - alpha) * (2.0 - tsum) * one_dark, _ODD_MIX),
            ((1.0 - alpha) ** 2 * one_dark, _EVEN_MIX),
            (alpha**2 * ((1.0 - both_lost) * (1.0 - d) + both_lost * one_dark), _EVEN_MIX),
        ]
    )
