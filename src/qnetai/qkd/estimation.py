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

from dataclasses import asdict, dataclass

import numpy as np

from qnetai.errors import InputError
from qnetai.qkd.decoy import e1_upper, y1_lower_vacuum_weak
from qnetai.qkd.pulses import BB84Setup
from qnetai.qkd.sifting import SiftCounts

__all__ = [
    "DEFAULT_F_EC",
    "DEFAULT_QBER_THRESHOLD",
    "EstimationResult",
    "asymptotic_key_length",
    "estimate_parameters",
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
            reason = (
                f"key length bound not positive (single-photon phase error bound {phase:.4f})"
            )
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
