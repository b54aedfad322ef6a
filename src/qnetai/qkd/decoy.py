"""Decoy-state bounds on single-photon yield and error rate (vacuum + weak decoy).

These functions work on *observed* (or expected) quantities, so that both the analytic
rates (:mod:`qnetai.qkd.rates`) and the pulse-level simulator can call them. All inputs
broadcast against each other (numpy arrays or floats); outputs are arrays.

Notation of Ma, Qi, Zhao and Lo, "Practical decoy state for quantum key distribution",
Phys. Rev. A 72, 012326 (2005) [MQZL05]:

* ``mu`` signal intensity, ``nu`` weak-decoy intensity (``0 < nu < mu``);
* ``q_mu = Q_mu``, ``q_nu = Q_nu`` observed gains (detections per pulse sent, in the basis
  considered), ``y0 = Y_0`` the vacuum yield (the gain of the vacuum decoy);
* ``E_x Q_x`` the QBER-weighted gain (errors per pulse) of intensity ``x``;
* ``e0 = 1/2`` the error rate of the vacuum (background counts are random).

Example:
    >>> import numpy as np
    >>> y1 = y1_lower_vacuum_weak(mu=0.5, nu=0.05, q_mu=1e-3, q_nu=1.1e-4, y0=1e-6)
    >>> bool(y1 > 0)
    True

"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError

__all__ = [
    "E0",
    "MAX_INTENSITY",
    "check_intensity",
    "e1_upper",
    "q1_lower",
    "y1_lower_vacuum_weak",
]

#: Error rate of background (vacuum) counts: each gives a random bit.
E0 = 0.5
#: Largest mean photon (or pair) number per pulse accepted anywhere: weak-coherent-pulse QKD
#: works below ~1; far above it the key rate is zero and ``exp(-mu)`` underflows to nonsense.
MAX_INTENSITY = 10.0


def check_intensity(name: str, value: ArrayLike) -> None:
    """Raise :class:`InputError` unless every ``value`` is in ``(0, MAX_INTENSITY]``.

    Example:
        >>> check_intensity("mu", 1e6)
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: mu must be in (0, 10] photons per pulse (got 1e+06)
    """
    v = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(v)) or np.any(v <= 0) or np.any(v > MAX_INTENSITY):
        shown = f"{float(v):g}" if v.ndim == 0 else str(v)
        limit = f"{MAX_INTENSITY:g}"
        raise InputError(f"{name} must be in (0, {limit}] photons per pulse (got {shown})")


def _check_intensities(mu: NDArray[np.float64], nu: NDArray[np.float64]) -> None:
    check_intensity("signal intensity mu", mu)
    check_intensity("decoy intensity nu", nu)
    if np.any(nu >= mu):
        raise InputError(f"decoy intensity nu must be < mu (got nu={nu}, mu={mu})")


def y1_lower_vacuum_weak(
    *,
    mu: ArrayLike,
    nu: ArrayLike,
    q_mu: ArrayLike,
    q_nu: ArrayLike,
    y0: ArrayLike,
) -> NDArray[np.float64]:
    r"""Lower bound on the single-photon yield Y1 from a vacuum and one weak decoy.

    MQZL05 Eq. (34):

    .. math::
        Y_1 \ge Y_1^{L,\nu,0} = \frac{\mu}{\mu\nu - \nu^2}\left(Q_\nu e^{\nu}
        - Q_\mu e^{\mu}\frac{\nu^2}{\mu^2} - \frac{\mu^2-\nu^2}{\mu^2} Y_0\right)

    valid for ``0 < nu < mu`` (and ``mu + nu < 1`` for the sign argument of the paper;
    it is a valid bound whenever ``nu < mu`` for the Poisson source). The bound can be
    negative when the data are poor; callers treat ``Y1 <= 0`` as "no key".

    Args:
        mu: signal intensity (mean photon number).
        nu: weak-decoy intensity, ``0 < nu < mu``.
        q_mu: gain of the signal pulses.
        q_nu: gain of the weak-decoy pulses.
        y0: vacuum yield (gain of the vacuum decoy).

    Returns:
        ``Y1^L`` (broadcast shape of the inputs).

    """
    mu_a = np.asarray(mu, dtype=float)
    nu_a = np.asarray(nu, dtype=float)
    _check_intensities(mu_a, nu_a)
    q_mu_a = np.asarray(q_mu, dtype=float)
    q_nu_a = np.asarray(q_nu, dtype=float)
    y0_a = np.asarray(y0, dtype=float)
    return (
        mu_a
        / (mu_a * nu_a - nu_a**2)
        * (
            q_nu_a * np.exp(nu_a)
            - q_mu_a * np.exp(mu_a) * nu_a**2 / mu_a**2
            - (mu_a**2 - nu_a**2) / mu_a**2 * y0_a
        )
    )


def e1_upper(
    *,
    e_q: ArrayLike,
    y0: ArrayLike,
    y1_lower: ArrayLike,
    intensity: ArrayLike,
    e0: float = E0,
) -> NDArray[np.float64]:
    r"""Upper bound on the single-photon error rate e1.

    MQZL05 Eq. (37) (with the weak decoy, ``intensity = nu``; the same inequality holds
    for any Poisson intensity ``x`` because every term of
    :math:`E_x Q_x e^{x} = \sum_n e_n Y_n x^n/n!` is non-negative):

    .. math::
        e_1 \le e_1^{U} = \frac{E_x Q_x e^{x} - e_0 Y_0}{Y_1^{L}\, x}

    Use ``intensity = nu`` and ``e_q = E_nu Q_nu`` for the tightest bound of the
    vacuum + weak method.

    Args:
        e_q: QBER-weighted gain ``E_x Q_x`` (errors per pulse) of intensity ``x``.
        y0: vacuum yield ``Y_0``.
        y1_lower: lower bound on ``Y_1`` (e.g. from :func:`y1_lower_vacuum_weak`).
        intensity: the intensity ``x`` whose ``E_x Q_x`` is given (> 0).
        e0: error rate of the vacuum counts (1/2).

    Returns:
        ``e1^U``; ``inf`` where ``y1_lower <= 0`` (no bound). Not clipped to 1/2:
        rate formulas clip it before taking the entropy.

    """
    x = np.asarray(intensity, dtype=float)
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise InputError(f"intensity must be > 0 (got {x})")
    y1 = np.asarray(y1_lower, dtype=float)
    num = np.asarray(e_q, dtype=float) * np.exp(x) - e0 * np.asarray(y0, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(y1 > 0, num / (y1 * x), np.inf)
    return np.maximum(out, 0.0)


def q1_lower(mu: ArrayLike, y1: ArrayLike) -> NDArray[np.float64]:
    r"""Single-photon gain from a single-photon yield: :math:`Q_1 = Y_1 \mu e^{-\mu}`.

    MQZL05 Eq. (35) applied to the bound of Eq. (34) (Poisson source). Negative
    ``y1`` (a failed bound) gives a negative result, which callers treat as no key.
    """
    mu_a = np.asarray(mu, dtype=float)
    return np.asarray(y1, dtype=float) * mu_a * np.exp(-mu_a)
