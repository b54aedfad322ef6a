r"""Entanglement-based QKD (BBM92) on the end-to-end pairs the network simulator delivers.

Each delivered pair is measured at once by both users, each in the Z basis with
probability ``p_z`` and in X otherwise; rounds with equal bases are sifted (a fraction
``p_z^2 + (1 - p_z)^2``: 1/2 for ``p_z = 1/2``). For a Bell-diagonal pair with weights
``(p_Phi+, p_Psi+, p_Psi-, p_Phi-)`` (the order of :mod:`qnetai.physics.bell`) the
outcomes differ (a bit error) with probability

.. math::
    e_Z = p_{\Psi^+} + p_{\Psi^-},\qquad e_X = p_{\Psi^-} + p_{\Phi^-}

(in Z the Psi states are anti-correlated; in X, ``|Phi^->`` and ``|Psi^->`` are). The
simulator reports only a pair's fidelity ``F``; it is treated as a Werner pair
(``p = (F, (1-F)/3, (1-F)/3, (1-F)/3)``, the twirled state), for which

.. math:: e_Z = e_X = \frac{2(1 - F)}{3} .

The asymptotic key (Shor-Preskill; the phase error of one basis is the bit error of the
other) is

.. math:: K = n_{ZZ}[1 - f\,h_2(e_Z) - h_2(e_X)]^+ + n_{XX}[1 - f\,h_2(e_X) - h_2(e_Z)]^+ ,

which for Werner pairs, ``p_z = 1/2`` and ``f = 1`` is ``n_sift [1 - 2 h_2(e)]``.
:func:`entanglement_key` samples the bases and the errors with the ``rng``. The *sampled*
key uses the sampled counts and, for each basis, the one-sided Clopper-Pearson upper bound
on its QBER at failure probability ``eps_pe`` (so that a handful of pairs with no observed
error does not pass for a perfect channel: ``n`` error-free bits bound the QBER only by
``1 - eps_pe**(1/n)``). The *expected* key is the asymptotic figure from the expected sifted
counts and the mean QBER over the pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics.bounds import binary_entropy

__all__ = [
    "EntanglementKey",
    "bbm92_qber_bell",
    "entanglement_key",
    "qber_upper_bound",
    "werner_qber",
]


def werner_qber(fidelity: ArrayLike) -> NDArray[np.float64]:
    """QBER ``2(1-F)/3`` of a Werner pair in either basis.

    Example:
        >>> float(werner_qber(0.85))
        0.1
    """
    f = np.asarray(fidelity, dtype=float)
    if np.any(~np.isfinite(f)) or np.any((f < 0) | (f > 1)):
        raise InputError(f"fidelity must be in [0, 1] (got {fidelity!s})")
    return np.round(2.0 * (1.0 - f) / 3.0, 15)


def bbm92_qber_bell(p: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(e_Z, e_X)`` of Bell-diagonal pairs ``p`` (``(..., 4)``: Phi+, Psi+, Psi-, Phi-)."""
    a = np.asarray(p, dtype=float)
    if a.shape[-1:] != (4,):
        raise InputError(f"Bell-diagonal weights need a last axis of 4 (got shape {a.shape})")
    return a[..., 1] + a[..., 2], a[..., 2] + a[..., 3]


def qber_upper_bound(errors: ArrayLike, bits: ArrayLike, eps_pe: float) -> NDArray[np.float64]:
    """One-sided Clopper-Pearson upper bound on an error rate from ``errors`` in ``bits``.

    The true rate exceeds the bound with probability at most ``eps_pe``; no bits give 1/2.

    Example:
        >>> round(float(qber_upper_bound(0, 10, 1e-3)), 3)
        0.499
    """
    # ``scipy.stats.beta.ppf(q, a, b)`` is this ufunc (equal bit for bit, tested) without
    # importing scipy.stats (~0.5 s)
    from scipy.special import betaincinv

    k = np.asarray(errors, dtype=float)
    n = np.asarray(bits, dtype=float)
    with np.errstate(invalid="ignore"):
        upper = np.where(k >= n, 1.0, betaincinv(k + 1.0, np.maximum(n - k, 1.0), 1.0 - eps_pe))
    return np.where(n > 0, np.minimum(upper, 0.5), 0.5)


def _key(
    n_zz: ArrayLike, n_xx: ArrayLike, e_z: ArrayLike, e_x: ArrayLike, f_ec: float
) -> NDArray[np.float64]:
    ez = np.clip(np.nan_to_num(np.asarray(e_z, float), nan=0.5), 0, 0.5)
    ex = np.clip(np.nan_to_num(np.asarray(e_x, float), nan=0.5), 0, 0.5)
    hz, hx = binary_entropy(ez), binary_entropy(ex)
    return np.asarray(n_zz, float) * np.maximum(1 - f_ec * hz - hx, 0.0) + np.asarray(
        n_xx, float
    ) * np.maximum(1 - f_ec * hx - hz, 0.0)


@dataclass(frozen=True)
class EntanglementKey:
    """BBM92 figures per group of pairs (arrays of one entry per group)."""

    pairs: NDArray[np.int64]
    sifted_bits: NDArray[np.int64]
    errors: NDArray[np.int64]
    qber_z: NDArray[np.float64]
    qber_x: NDArray[np.float64]
    key_bits_sampled: NDArray[np.float64]
    expected_sifted_bits: NDArray[np.float64]
    expected_qber: NDArray[np.float64]
    key_bits_expected: NDArray[np.float64]
    mean_fidelity: NDArray[np.float64]


def entanglement_key(
    fidelity: ArrayLike,
    group: ArrayLike,
    n_groups: int,
    *,
    p_z: float = 0.5,
    f_ec: float = 1.0,
    eps_pe: float = 1e-3,
    rng: np.random.Generator,
) -> EntanglementKey:
    """Measure Werner pairs of the given fidelities BBM92-style, per group (e.g. user pair).

    Args:
        fidelity: fidelity of each delivered pair.
        group: group index (``0 <= g < n_groups``) of each pair.
        n_groups: number of groups (groups without pairs get zeros / NaN QBERs).
        p_z: Z-basis probability at each end; ``f_ec`` error-correction inefficiency.
        eps_pe: failure probability of the QBER upper bounds behind the sampled key.
        rng: draws the bases and the errors.

    Example:
        >>> k = entanglement_key(np.full(10000, 0.94), np.zeros(10000, int), 1,
        ...                      rng=np.random.default_rng(1))
        >>> abs(float(k.qber_z[0]) - 0.04) < 0.01
        True
    """
    if not 0 < p_z < 1:
        raise InputError(f"p_z must be in (0, 1) (got {p_z})")
    if not 0 < eps_pe < 1:
        raise InputError(f"eps_pe must be in (0, 1) (got {eps_pe})")
    if not f_ec >= 1:
        raise InputError(f"f_ec must be >= 1 (got {f_ec})")
    f = np.asarray(fidelity, dtype=float).reshape(-1)
    g = np.asarray(group, dtype=np.int64).reshape(-1)
    if f.shape != g.shape or (g.size and (g.min() < 0 or g.max() >= n_groups)):
        raise InputError("group must give one index in [0, n_groups) per pair")
    e = werner_qber(f)
    basis_a = rng.random(f.size) >= p_z  # True: X
    basis_b = rng.random(f.size) >= p_z
    sift = basis_a == basis_b
    err = sift & (rng.random(f.size) < e)

    def count(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.bincount(g[mask], minlength=n_groups).astype(np.int64)

    zz, xx = sift & ~basis_a, sift & basis_a
    n_zz, n_xx = count(zz), count(xx)
    err_z, err_x = count(err & ~basis_a), count(err & basis_a)
    with np.errstate(invalid="ignore", divide="ignore"):
        qz = np.where(n_zz > 0, err_z / np.maximum(n_zz, 1), np.nan)
        qx = np.where(n_xx > 0, err_x / np.maximum(n_xx, 1), np.nan)
        n_pairs = np.bincount(g, minlength=n_groups).astype(np.int64)
        e_mean = np.bincount(g, weights=e, minlength=n_groups) / n_pairs
        f_mean = np.bincount(g, weights=f, minlength=n_groups) / n_pairs
    # a basis never measured (NaN QBER -> 1/2) gives no phase-error estimate for the other
    sampled = _key(
        n_zz,
        n_xx,
        qber_upper_bound(err_z, n_zz, eps_pe),
        qber_upper_bound(err_x, n_xx, eps_pe),
        f_ec,
    )
    e_exp = np.where(n_pairs > 0, e_mean, np.nan)
    expected = _key(n_pairs * p_z**2, n_pairs * (1 - p_z) ** 2, e_exp, e_exp, f_ec)
    return EntanglementKey(
        pairs=n_pairs,
        sifted_bits=n_zz + n_xx,
        errors=err_z + err_x,
        qber_z=qz,
        qber_x=qx,
        key_bits_sampled=sampled,
        expected_sifted_bits=np.asarray(n_pairs * (p_z**2 + (1 - p_z) ** 2), dtype=np.float64),
        expected_qber=e_exp,
        key_bits_expected=expected,
        mean_fidelity=f_mean,
    )
