"""Parameter estimation from observed decoy-state data, key-length bounds, abort decisions.

Gains and error rates are the *observed* ones of each intensity class and basis
(:class:`qnetai.qkd.sifting.SiftCounts`); the decoy bounds come from
:mod:`qnetai.qkd.decoy` (vacuum + weak decoy, Ma, Qi, Zhao, Lo 2005). Z is the key basis,
X the estimation basis: the phase error of the Z single-photon events is bounded by the X
single-photon bit error ``e1^U`` (from X data). The raw key is every sifted Z event (all
intensity classes, as in Lim et al. 2014), so the asymptotic key length is

    l = s_Z0^L + s_Z1^L (1 - h(e1_X^U)) - leak_EC - verification bits,

with ``s_Z0^L = sum_k N_{k,Z} e^{-mu_k} Y0_Z`` and
``s_Z1^L = sum_k N_{k,Z} mu_k e^{-mu_k} Y1_Z^L`` (``N_{k,Z}``: pulses of class ``k`` sent in Z).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.qkd.decoy import e1_upper, y1_lower_vacuum_weak
from qnetai.qkd.pulses import BB84Setup
from qnetai.qkd.sifting import SiftCounts

__all__ = [
    "DEFAULT_F_EC",
    "DEFAULT_QBER_THRESHOLD",
    "EstimationResult",
    "asymptotic_key_length",
    "asymptotic_rate_from_statistics",
    "estimate_parameters",
    "expected_statistics",
    "finite_key_length_from_counts",
]

DEFAULT_QBER_THRESHOLD = 0.11
#: Error-correction inefficiency assumed for the pre-check before error correction.
DEFAULT_F_EC = 1.16


def _h2(p: float) -> float:
    from qnetai.physics import binary_entropy

    return float(binary_entropy(min(max(p, 0.0), 1.0)))


@dataclass(frozen=True)
class EstimationResult:
    """Observed statistics and decoy bounds (bases indexed 0 = Z, 1 = X).

    ``gains[k][b]`` and ``qber[k][b]`` per intensity class (signal, decoy, vacuum);
    ``y0``, ``y1_lower``, ``e1_upper`` per basis; ``phase_error_upper`` is ``e1_upper[X]``
    clipped to [0, 1/2]; ``s_z0_lower``/``s_z1_lower`` the vacuum and single-photon events
    in the raw key; ``key_bits`` raw key size, ``key_qber`` its error rate;
    ``abort_reason`` is None unless the protocol must stop here.
    """

    gains: tuple[tuple[float, float], ...]
    qber: tuple[tuple[float, float], ...]
    y0: tuple[float, float]
    y1_lower: tuple[float, float]
    e1_upper: tuple[float, float]
    phase_error_upper: float
    s_z0_lower: float
    s_z1_lower: float
    key_bits: int
    key_errors: int
    key_qber: float
    abort_reason: str | None

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output."""
        return asdict(self)


def estimate_parameters(
    counts: SiftCounts,
    setup: BB84Setup,
    *,
    qber_threshold: float = DEFAULT_QBER_THRESHOLD,
    f_ec: float = DEFAULT_F_EC,
    verification_bits: int = 64,
) -> EstimationResult:
    """Decoy-state estimation from observed counts, with the abort checks before EC.

    Aborts (``abort_reason`` set, never an exception) when there is no raw key, when the
    key QBER exceeds ``qber_threshold``, when a decoy lower bound on ``Y1`` is not positive,
    or when the key length with an assumed leak ``f_ec n h(E)`` is not positive.

    Example:
        >>> c = SiftCounts()
        >>> c.sent[:] = 10**6; c.sifted[:] = [[8000, 8000], [1600, 1600], [2, 2]]
        >>> c.errors[:] = [[80, 80], [24, 24], [1, 1]]
        >>> e = estimate_parameters(c, BB84Setup(channel_transmittance=0.3))
        >>> e.abort_reason is None
        True
    """
    if not 0.0 < qber_threshold <= 0.5:
        raise InputError(f"qber_threshold must be in (0, 0.5] (got {qber_threshold})")
    mu, nu = setup.mu, setup.nu
    gains = counts.gains
    qber = counts.qber
    y0 = np.nan_to_num(gains[2], nan=0.0)
    eq_nu = np.nan_to_num(gains[1] * qber[1], nan=0.0)
    q_mu = np.nan_to_num(gains[0], nan=0.0)
    q_nu = np.nan_to_num(gains[1], nan=0.0)
    y1 = y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=q_mu, q_nu=q_nu, y0=y0)
    e1 = e1_upper(e_q=eq_nu, y0=y0, y1_lower=y1, intensity=nu)
    phase = float(np.clip(e1[1], 0.0, 0.5))
    intens = setup.intensities
    n_z = counts.sent[:, 0].astype(float)
    s_z0 = float(np.sum(n_z * np.exp(-intens)) * y0[0])
    s_z1 = float(np.sum(n_z * intens * np.exp(-intens)) * y1[0])
    key_bits = int(counts.sifted[:, 0].sum())
    key_errors = int(counts.errors[:, 0].sum())
    key_qber = key_errors / key_bits if key_bits else float("nan")

    reason = None
    if key_bits == 0:
        reason = "no sifted key bits"
    elif key_qber > qber_threshold:
        reason = f"QBER {key_qber:.4f} above threshold {qber_threshold}"
    elif y1[0] <= 0 or y1[1] <= 0:
        reason = "decoy lower bound on the single-photon yield Y1 is not positive"
    else:
        leak = f_ec * key_bits * _h2(key_qber)
        if s_z0 + s_z1 * (1 - _h2(phase)) - leak - verification_bits <= 0:
            reason = f"key length bound not positive (single-photon phase error bound {phase:.4f})"
    return EstimationResult(
        gains=tuple((float(g[0]), float(g[1])) for g in gains),
        qber=tuple((float(e[0]), float(e[1])) for e in qber),
        y0=(float(y0[0]), float(y0[1])),
        y1_lower=(float(y1[0]), float(y1[1])),
        e1_upper=(float(e1[0]), float(e1[1])),
        phase_error_upper=phase,
        s_z0_lower=s_z0,
        s_z1_lower=s_z1,
        key_bits=key_bits,
        key_errors=key_errors,
        key_qber=key_qber,
        abort_reason=reason,
    )


def asymptotic_key_length(
    est: EstimationResult, *, leaked_bits: float, verification_bits: float = 64
) -> int:
    """``floor(s_Z0 + s_Z1 (1 - h(e1)) - leak_EC - verification bits)`` (may be <= 0)."""
    val = (
        est.s_z0_lower
        + est.s_z1_lower * (1.0 - _h2(est.phase_error_upper))
        - leaked_bits
        - verification_bits
    )
    return int(np.floor(val)) if est.s_z1_lower > 0 else min(int(np.floor(val)), 0)


def finite_key_length_from_counts(
    counts: SiftCounts,
    setup: BB84Setup,
    *,
    leaked_bits: float,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
) -> int:
    """Finite-key length (Lim et al. 2014, :func:`qnetai.qkd.finite_key.finite_key_length`).

    Our Z (key) basis is Lim's X basis and our X basis Lim's Z (test) basis. The
    correctness term ``log2(2/eps_cor)`` plays the role of the verification tag.
    """
    from qnetai.qkd.finite_key import finite_key_length

    if setup.p_vacuum <= 0 or setup.p_nu <= 0:
        raise InputError("finite_key needs p_nu > 0 and p_vacuum > 0")
    out = finite_key_length(
        intensities=setup.intensities,
        probabilities=setup.probabilities,
        n_x=counts.sifted[:, 0],
        m_x=counts.errors[:, 0],
        n_z=counts.sifted[:, 1],
        m_z=counts.errors[:, 1],
        eps_sec=eps_sec,
        eps_cor=eps_cor,
        lambda_ec=leaked_bits,
    )
    return int(np.floor(float(out["key_length"])))


def asymptotic_rate_from_statistics(
    gains: ArrayLike, qber: ArrayLike, setup: BB84Setup, *, f_ec: float = DEFAULT_F_EC
) -> float:
    """Asymptotic key rate per pulse of :func:`estimate_parameters` from per-pulse statistics.

    The same formula as :func:`asymptotic_key_length` (all Z classes in the raw key, vacuum
    term, X single-photon phase error, leak ``f_ec n h(E)``, no verification tag) divided
    by the number of pulses, with the pulses of class ``k`` sent in Z taken at their
    expected fraction ``p_k p_z``. ``gains`` and ``qber`` are ``(3, 2)`` sifted gains and
    error rates (intensity x basis), e.g. :func:`expected_statistics` for the analytic
    figure or ``SiftCounts.gains``/``.qber`` for an observed one. May be negative.

    Example:
        >>> s = BB84Setup.from_distance(25.0)
        >>> round(asymptotic_rate_from_statistics(*expected_statistics(s), s), 6)
        0.000275
    """
    g = np.asarray(gains, dtype=float)
    e = np.asarray(qber, dtype=float)
    mu, nu = setup.mu, setup.nu
    y0 = g[2]
    y1 = y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=g[0], q_nu=g[1], y0=y0)
    e1 = e1_upper(e_q=g[1] * e[1], y0=y0, y1_lower=y1, intensity=nu)
    phase = float(np.clip(e1[1], 0.0, 0.5))
    intens = setup.intensities
    w = setup.probabilities * setup.p_z  # fraction of all pulses: class k sent in Z
    s_z0 = float(np.sum(w * np.exp(-intens)) * y0[0])
    s_z1 = float(np.sum(w * intens * np.exp(-intens)) * y1[0])
    key = float(np.sum(w * g[:, 0]))
    key_qber = float(np.sum(w * g[:, 0] * e[:, 0])) / key if key > 0 else 0.0
    val = s_z0 + s_z1 * (1.0 - _h2(phase)) - f_ec * key * _h2(key_qber)
    return val if s_z1 > 0 else min(val, 0.0)


def expected_statistics(
    setup: BB84Setup, *, afterpulse: str = "background"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Expected sifted gains and QBERs ``(3, 2)`` of ``setup`` under the analytic channel.

    The model of the setup's own :class:`qnetai.qkd.channel.ChannelModel` (MQZL05, additive
    background; the very object the simulator draws from) at the setup's overall
    transmittance, with its background ``Y0`` (``= 1 - (1 - p_dc)^4`` over the simulator's
    four detectors) and misalignment; a detection is sifted when Bob's
    passive splitter picks Alice's basis (``p_z`` for Z). After-pulsing:

    * ``"background"`` (default, as the pulse simulator does it): a click makes its
      detector click in the *next* gate with probability ``p_ap``, whatever that gate's
      pulse, so after-pulses add ``p_ap c`` to the background with error 1/2, where
      ``c = sum_k p_k Q_k / (1 - p_ap)`` is the click rate per gate (after-pulses
      after-pulse too);
    * ``"lim14"``: the ``(1 + p_ap)`` factor of Lim et al. 2014 (``ChannelModel``).

    It matches the simulator's four-detector, squashed receiver to first order in the
    dark-count and after-pulse probabilities when ``p_z = 1/2``.
    """
    if afterpulse not in ("background", "lim14"):
        raise InputError(f"afterpulse must be 'background' or 'lim14' (got {afterpulse!r})")
    ch = setup.channel
    eta = setup.transmittance
    p_ap = ch.afterpulse_probability
    if afterpulse == "background" and p_ap > 0:
        y0 = ch.y0
        clicks = float(np.sum(setup.probabilities * (y0 - np.expm1(-eta * setup.intensities))))
        y0 = min(y0 + p_ap * clicks / (1.0 - p_ap), 0.5)
        ch = replace(ch, y0=y0, afterpulse_probability=0.0)
    q = ch.gain_at(setup.intensities, eta)
    eq = ch.error_gain_at(setup.intensities, eta)
    e = np.divide(eq, q, out=np.full_like(q, 0.5), where=q > 0)  # no counts: e0 = 1/2
    sift = np.array([setup.p_z, 1.0 - setup.p_z])
    return q[:, None] * sift[None, :], np.repeat(e[:, None], 2, axis=1)
