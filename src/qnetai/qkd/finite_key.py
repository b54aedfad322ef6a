"""Finite-key decoy-state BB84 with two decoys: Lim, Curty, Walenta, Xu, Zbinden (2014).

C. C. W. Lim et al., "Concise security bounds for practical decoy-state quantum key
distribution", Phys. Rev. A 89, 022307 (2014) [Lim14]. Alice sends ``N`` phase-randomised
pulses with intensities ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0`` (``mu3`` the vacuum or a
weak decoy) chosen with probabilities ``p1, p2, p3``; both parties choose the X basis with
probability ``q_x``. The key comes from X-X events of *all* intensities; Z-Z events
estimate the phase error. Notation: ``n_{X,k}`` detections and ``m_{X,k}`` bit errors
of intensity ``k`` in basis X (likewise Z); ``n_X = sum_k n_{X,k}``.

* ``tau_n = sum_k p_k e^{-k} k^n / n!``; Hoeffding: ``n^±_{X,k} = e^k/p_k [n_{X,k} ±
  sqrt(n_X/2 ln(21/eps_sec))]`` and ``m^±_{Z,k}`` likewise with ``m_Z`` (below Eq. (2), (4)).
* vacuum events (Eq. (2)): ``s_{X,0} >= tau0 (mu2 n^-_{X,mu3} - mu3 n^+_{X,mu2})/(mu2 - mu3)``;
* single-photon events (Eq. (3)): ``s_{X,1} >= tau1 mu1 [n^-_{X,mu2} - n^+_{X,mu3}
  - (mu2^2 - mu3^2)/mu1^2 (n^+_{X,mu1} - s_{X,0}/tau0)] / [mu1 (mu2 - mu3) - mu2^2 + mu3^2]``;
  ``s_{Z,0}``, ``s_{Z,1}`` from the same formulas with Z statistics;
* single-photon bit errors in Z (Eq. (4)):
  ``v_{Z,1} <= tau1 (m^+_{Z,mu2} - m^-_{Z,mu3})/(mu2 - mu3)``;
* phase error (Eq. (5)): ``phi_X <= v_{Z,1}/s_{Z,1} + gamma(eps_sec, v_{Z,1}/s_{Z,1}, s_{Z,1},
  s_{X,1})`` with ``gamma(a,b,c,d) = sqrt((c+d)(1-b)b/(c d ln 2) log2((c+d)/(c d (1-b) b)
  21^2/a^2))``;
* key length (Eq. (1)): ``l = s_{X,0} + s_{X,1}(1 - h(phi_X)) - lambda_EC - 6 log2(21/eps_sec)
  - log2(2/eps_cor)`` (we report it before the floor), with ``lambda_EC = f_EC n_X h(E_X)``
  as in Lim14 Sec. IV (``E_X = m_X / n_X``).

Differences from Lim14's Fig. 1 set-up: we fix ``N`` (pulses sent; the paper fixes
``n_X``) and ``eps_sec`` (the paper sets ``eps_sec = kappa l``). The asymptotic limit
(``block_size=None``) drops every finite-size term (Hoeffding deviations, gamma and the
log terms) and keeps the three intensities.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics.bounds import binary_entropy
from qnetai.qkd.channel import GYS, GYS_F_EC, ChannelModel

__all__ = [
    "FiniteKeyResult",
    "expected_counts",
    "finite_key_length",
    "finite_key_rate",
    "gamma_term",
    "photon_number_probabilities",
]

_F = NDArray[np.float64]


def photon_number_probabilities(intensities: ArrayLike, probabilities: ArrayLike, n: int) -> _F:
    """``tau_n = sum_k p_k e^{-k} k^n / n!`` (last axis = intensities)."""
    k = np.asarray(intensities, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    return np.sum(p * np.exp(-k) * k**n, axis=-1) / math.factorial(n)


def gamma_term(a: float, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> _F:
    """Random-sampling correction ``gamma(a, b, c, d)`` of Lim14 Eq. (5).

    ``a`` is ``eps_sec``, ``b`` the observed single-photon error rate in Z, ``c = s_{Z,1}``
    and ``d = s_{X,1}``. ``b`` is clipped to ``(0, 1/2]``; the value tends to 0 as b -> 0.
    """
    b_a = np.clip(np.asarray(b, dtype=float), 1e-300, 0.5)
    c_a = np.asarray(c, dtype=float)
    d_a = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (c_a + d_a) / (c_a * d_a)
        x = ratio * (1.0 - b_a) * b_a
        inner = np.log2(ratio) - np.log2((1.0 - b_a) * b_a) + 2 * math.log2(21.0 / a)
        out = np.sqrt(np.maximum(x / math.log(2.0) * inner, 0.0))
    return np.where((c_a > 0) & (d_a > 0), out, np.inf)


def _check_eps(name: str, eps: float) -> None:
    if not (0.0 < eps < 1.0):
        raise InputError(f"{name} must be in (0, 1) (got {eps})")


def _check_protocol(mu: _F, p: _F) -> None:
    if mu.shape[-1] != 3 or p.shape[-1] != 3:
        raise InputError("intensities and probabilities must have 3 entries (mu1, mu2, mu3)")
    mu1, mu2, mu3 = mu[..., 0], mu[..., 1], mu[..., 2]
    if np.any(mu3 < 0) or np.any(mu2 <= mu3) or np.any(mu1 <= mu2 + mu3) or np.any(mu1 > 10):
        raise InputError(
            "intensities must satisfy mu1 > mu2 + mu3, mu2 > mu3 >= 0 and mu1 <= 10 "
            f"(got {mu.tolist()})"
        )
    if np.any(p <= 0) or np.any(np.abs(p.sum(axis=-1) - 1.0) > 1e-9):
        raise InputError(f"intensity probabilities must be > 0 and sum to 1 (got {p.tolist()})")


@dataclass(frozen=True)
class FiniteKeyResult:
    """Lim14 figures. Counts are numbers of events (per pulse in the asymptotic limit).

    ``key_length`` is Eq. (1) before the floor (may be negative: no key);
    ``key_rate_per_pulse = max(key_length, 0) / N``.
    """

    block_size: _F | float | None
    key_length: _F
    key_rate_per_pulse: _F
    s_x0: _F
    s_x1: _F
    s_z0: _F
    s_z1: _F
    v_z1: _F
    phi_x: _F
    e_x: _F
    lambda_ec: _F
    n_x: _F

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output."""
        return asdict(self)


def _vacuum_and_single(
    n: _F, total: _F, mu: _F, p: _F, tau0: _F, tau1: _F, delta_coeff: float
) -> tuple[_F, _F]:
    """Eqs. (2) and (3) for one basis; n has the intensity on the last axis."""
    delta = np.sqrt(total * delta_coeff)[..., None]
    scale = np.exp(mu) / p
    n_plus = scale * (n + delta)
    n_minus = scale * (n - delta)
    mu1, mu2, mu3 = mu[..., 0], mu[..., 1], mu[..., 2]
    s0 = tau0 * (mu2 * n_minus[..., 2] - mu3 * n_plus[..., 1]) / (mu2 - mu3)
    s0 = np.maximum(s0, 0.0)
    s1 = (
        tau1
        * mu1
        * (
            n_minus[..., 1]
            - n_plus[..., 2]
            - (mu2**2 - mu3**2) / mu1**2 * (n_plus[..., 0] - s0 / tau0)
        )
        / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2)
    )
    return s0, s1


def finite_key_length(
    *,
    intensities: ArrayLike,
    probabilities: ArrayLike,
    n_x: ArrayLike,
    m_x: ArrayLike,
    n_z: ArrayLike,
    m_z: ArrayLike,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
    f_ec: float = 1.16,
    lambda_ec: ArrayLike | None = None,
    asymptotic: bool = False,
) -> dict[str, _F]:
    """Lim14 Eqs. (1)-(5) on observed counts (last axis: intensities ``mu1, mu2, mu3``).

    Args:
        intensities: ``(..., 3)`` intensities ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``.
        probabilities: ``(..., 3)`` their probabilities (sum 1).
        n_x, m_x: ``(..., 3)`` X-basis (key) detections and bit errors per intensity.
        n_z, m_z: ``(..., 3)`` Z-basis (test) detections and bit errors per intensity.
        eps_sec, eps_cor: secrecy and correctness parameters.
        f_ec: error-correction inefficiency, used when ``lambda_ec`` is None.
        lambda_ec: bits leaked by error correction (default ``f_ec n_X h(m_X/n_X)``).
        asymptotic: drop the finite-size terms (counts may then be per pulse).

    Returns:
        dict with ``key_length``, ``s_x0``, ``s_x1``, ``s_z0``, ``s_z1``, ``v_z1``,
        ``phi_x``, ``e_x``, ``lambda_ec``, ``n_x`` (totals).

    """
    _check_eps("eps_sec", eps_sec)
    _check_eps("eps_cor", eps_cor)
    mu = np.asarray(intensities, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    _check_protocol(mu, p)
    nx = np.asarray(n_x, dtype=float)
    mx = np.asarray(m_x, dtype=float)
    nz = np.asarray(n_z, dtype=float)
    mz = np.asarray(m_z, dtype=float)
    coeff = 0.0 if asymptotic else 0.5 * math.log(21.0 / eps_sec)
    tau0 = photon_number_probabilities(mu, p, 0)
    tau1 = photon_number_probabilities(mu, p, 1)
    nx_tot, nz_tot, mz_tot = nx.sum(axis=-1), nz.sum(axis=-1), mz.sum(axis=-1)
    s_x0, s_x1 = _vacuum_and_single(nx, nx_tot, mu, p, tau0, tau1, coeff)
    s_z0, s_z1 = _vacuum_and_single(nz, nz_tot, mu, p, tau0, tau1, coeff)
    dm = np.sqrt(mz_tot * coeff)[..., None]
    scale = np.exp(mu) / p
    m_plus = scale * (mz + dm)
    m_minus = scale * (mz - dm)
    mu2, mu3 = mu[..., 1], mu[..., 2]
    v_z1 = np.maximum(tau1 * (m_plus[..., 1] - m_minus[..., 2]) / (mu2 - mu3), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(s_z1 > 0, v_z1 / s_z1, 0.5)
    if asymptotic:
        phi = b
    else:
        phi = b + gamma_term(eps_sec, b, s_z1, s_x1)
    phi = np.where((s_z1 > 0) & (s_x1 > 0), np.minimum(phi, 0.5), 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        e_x = np.where(nx_tot > 0, mx.sum(axis=-1) / nx_tot, 0.0)
    lam = f_ec * nx_tot * binary_entropy(e_x) if lambda_ec is None else np.asarray(lambda_ec)
    single = np.where(s_x1 > 0, s_x1 * (1.0 - binary_entropy(phi)), 0.0)
    overhead = 0.0 if asymptotic else 6 * math.log2(21.0 / eps_sec) + math.log2(2.0 / eps_cor)
    key_length = s_x0 + single - lam - overhead
    return {
        "key_length": key_length,
        "s_x0": s_x0,
        "s_x1": s_x1,
        "s_z0": s_z0,
        "s_z1": s_z1,
        "v_z1": v_z1,
        "phi_x": phi,
        "e_x": e_x,
        "lambda_ec": np.asarray(lam, dtype=float),
        "n_x": nx_tot,
    }


def expected_counts(
    distance_km: ArrayLike,
    *,
    intensities: ArrayLike,
    probabilities: ArrayLike,
    q_x: ArrayLike,
    channel: ChannelModel = GYS,
    block_size: float = 1.0,
) -> dict[str, _F]:
    """Expected ``n_{X,k}, m_{X,k}, n_{Z,k}, m_{Z,k}`` for ``block_size`` pulses sent.

    ``n_{X,k} = N p_k q_x^2 Q_k`` and ``m_{X,k} = N p_k q_x^2 E_k Q_k`` (Z: ``(1-q_x)^2``),
    with ``Q_k`` and ``E_k Q_k`` from the channel model. Distances broadcast against the
    leading axes of the protocol parameters (the last axis of the result is intensity).
    """
    mu = np.asarray(intensities, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    qx = np.asarray(q_x, dtype=float)
    if np.any(qx <= 0) or np.any(qx >= 1):
        raise InputError(f"q_x (key-basis probability) must be in (0, 1) (got {q_x!s})")
    eta = channel.transmittance(distance_km)[..., None]
    gain = channel.gain_at(mu, eta)
    err = channel.error_gain_at(mu, eta)
    wx = (block_size * qx**2)[..., None] * p
    wz = (block_size * (1.0 - qx) ** 2)[..., None] * p
    return {"n_x": wx * gain, "m_x": wx * err, "n_z": wz * gain, "m_z": wz * err}


def finite_key_rate(
    distance_km: ArrayLike,
    *,
    block_size: float | None = None,
    n_x_block: float | None = None,
    intensities: ArrayLike = (0.5, 0.1, 0.0),
    probabilities: ArrayLike = (0.8, 0.15, 0.05),
    q_x: ArrayLike = 0.8,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
) -> FiniteKeyResult:
    """Lim14 key rate per pulse from the expected statistics of a block.

    Args:
        distance_km: fibre length(s) (km).
        block_size: number ``N`` of pulses sent.
        n_x_block: alternatively, the post-processing block size ``n_X`` (X-basis
            detections), as in Lim14 Fig. 1; then ``N = n_X / (q_x^2 sum_k p_k Q_k)``.
            With neither (or an infinite one) the asymptotic limit with the same
            intensities and probabilities is returned.
        intensities: ``(mu1, mu2, mu3)``; ``mu3 = 0`` is the vacuum decoy.
        probabilities: ``(p1, p2, p3)``.
        q_x: probability of the X (key) basis for both parties.
        channel: channel model; f_ec: error-correction inefficiency.
        eps_sec, eps_cor: security parameters.

    Example:
        >>> r = finite_key_rate(50.0, block_size=1e12)
        >>> bool(r.key_rate_per_pulse > 0)
        True

    """
    if block_size is not None and n_x_block is not None:
        raise InputError("give block_size (pulses sent) or n_x_block (X detections), not both")
    size = block_size if block_size is not None else n_x_block
    asym = size is None or not np.isfinite(size)
    if size is not None and not asym and not size >= 1:
        name = "block_size" if block_size is not None else "n_x_block"
        raise InputError(f"{name} must be >= 1 (got {size})")
    per_pulse = expected_counts(
        distance_km,
        intensities=intensities,
        probabilities=probabilities,
        q_x=q_x,
        channel=channel,
    )
    if asym or size is None:
        n_pulses: _F | float = 1.0
    elif block_size is not None:
        n_pulses = float(block_size)
    else:  # size is n_x_block
        n_pulses = float(size) / per_pulse["n_x"].sum(axis=-1)
    scale = np.asarray(n_pulses)[..., None]
    counts = {k: v * scale for k, v in per_pulse.items()}
    out = finite_key_length(
        intensities=intensities,
        probabilities=probabilities,
        eps_sec=eps_sec,
        eps_cor=eps_cor,
        f_ec=f_ec,
        asymptotic=asym,
        **counts,
    )
    return FiniteKeyResult(
        block_size=None if asym else n_pulses,
        key_rate_per_pulse=np.maximum(out["key_length"], 0.0) / n_pulses,
        **out,
    )
