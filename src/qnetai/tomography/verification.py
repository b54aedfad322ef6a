"""Spend a fraction of delivered pairs on verification: fidelity estimates beside the truth.

Each sacrificed pair is measured once, in XX, YY or ZZ chosen uniformly at random (local
settings, one shot per pair, as endpoints do). For ``Phi+`` the signs are ``(+, -, +)`` and
``F = (1 + <XX> - <YY> + <ZZ>)/4``, so ``F_hat = 1/4 + 3/4 mean(sign_s * outcome)`` is unbiased
for the mean fidelity of the sacrificed pairs; symmetric readout flips ``e`` are undone by
dividing the mean by ``(1 - 2e)**2``. The interval is a normal approximation.

This is the library half of "verification inside the simulator": it takes the Bell-diagonal
states of delivered pairs (``(N, 4)``, :mod:`qnetai.physics.bell` order), as the engine
records them.

Example:
    >>> from qnetai.physics.bell import werner
    >>> pairs = np.repeat(werner(0.9)[None], 20000, axis=0)
    >>> out = verify_pairs(pairs, fraction=0.5, rng=np.random.default_rng(0))
    >>> bool(out.low < 0.9 < out.high), out.used + out.kept
    (True, 20000)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from qnetai.errors import InputError
from qnetai.physics.bell import bell_to_correlations, validate_bell

_SIGNS = np.array([1.0, -1.0, 1.0])


@dataclass(frozen=True)
class Verification:
    """Estimated mean fidelity of the verified pairs with its interval, and the truth."""

    fidelity: float
    std_error: float
    low: float
    high: float
    true_fidelity: float
    used: int
    kept: int


def verify_pairs(
    bell_weights: ArrayLike,
    *,
    fraction: float,
    rng: np.random.Generator,
    readout_error: float = 0.0,
    z: float = 1.96,
) -> Verification:
    """Measure a random ``fraction`` of the pairs; estimate their mean fidelity to ``Phi+``.

    ``true_fidelity`` is the mean fidelity of the same verified pairs (what the estimate
    targets); ``kept`` is the number of pairs left for use.
    """
    p = validate_bell(np.atleast_2d(np.asarray(bell_weights, dtype=np.float64)))
    if p.ndim != 2:
        raise InputError(f"bell_weights must be (N, 4) (got {p.shape})")
    if not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction must be in (0, 1] (got {fraction})")
    if not 0.0 <= readout_error < 0.5:
        raise InputError(f"readout_error must be in [0, 0.5) (got {readout_error})")
    n = p.shape[0]
    used = np.asarray(rng.random(n) < fraction, dtype=bool)
    m = int(used.sum())
    if m < 2:
        raise InputError(f"fraction {fraction} of {n} pairs leaves fewer than 2 to verify")
    corr = bell_to_correlations(p[used])  # (m, 3): <XX>, <YY>, <ZZ>
    setting = rng.integers(0, 3, size=m)
    shrink = (1.0 - 2.0 * readout_error) ** 2
    expect = corr[np.arange(m), setting] * shrink
    outcome = np.where(rng.random(m) < (1.0 + expect) / 2.0, 1.0, -1.0)
    values = _SIGNS[setting] * outcome / shrink
    f = 0.25 + 0.75 * float(values.mean())
    se = 0.75 * float(values.std(ddof=1)) / math.sqrt(m)
    return Verification(
        fidelity=f,
        std_error=se,
        low=f - z * se,
        high=f + z * se,
        true_fidelity=float(p[used, 0].mean()),
        used=m,
        kept=n - m,
    )


def _z_of(confidence: float) -> float:
    if not 0.5 < confidence < 1.0:
        raise InputError(f"confidence must be in (0.5, 1) (got {confidence})")
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def estimate_from_counts(
    plus: int,
    measured: int,
    *,
    readout_error: float = 0.0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Fidelity estimate and Wilson interval from ``plus`` agreeing outcomes of ``measured``.

    One pair per shot, its setting XX, YY or ZZ uniformly at random; an outcome *agrees*
    when ``sign_s * outcome = +1`` (signs ``(+, -, +)`` for ``Phi+``). Averaged over the
    random setting, a pair of fidelity ``F`` agrees with probability
    ``p = (1 + (1 - 2e)**2 (4F - 1)/3) / 2``; the estimate inverts this, and the interval is
    the Wilson score interval of ``p`` mapped the same way (clipped to ``[0, 1]``). Fewer than
    2 measured pairs give NaN.

    Example:
        >>> f, lo, hi = estimate_from_counts(900, 1000)
        >>> round(f, 4), bool(lo < f < hi)
        (0.85, True)
    """
    if measured < 2:
        return math.nan, math.nan, math.nan
    z = _z_of(confidence)
    shrink = (1.0 - 2.0 * readout_error) ** 2
    n = float(measured)
    p = plus / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)

    def to_f(q: float) -> float:
        return 0.25 + 0.75 * (2.0 * q - 1.0) / shrink

    return to_f(p), max(0.0, to_f(centre - half)), min(1.0, to_f(centre + half))


def agree_probability(fidelity: ArrayLike, readout_error: float = 0.0) -> np.ndarray:
    """Probability that one random-setting shot on a pair of ``fidelity`` agrees with Phi+.

    Exact for any two-qubit state whose fidelity to ``Phi+`` is ``fidelity``: the setting is
    uniform over XX, YY, ZZ, so only ``<XX> - <YY> + <ZZ> = 4F - 1`` enters.

    Example:
        >>> float(agree_probability(1.0)), float(agree_probability(0.25))
        (1.0, 0.5)
    """
    f = np.asarray(fidelity, dtype=np.float64)
    shrink = (1.0 - 2.0 * readout_error) ** 2
    return 0.5 * (1.0 + shrink * (4.0 * f - 1.0) / 3.0)


def verify_fidelities(
    fidelities: ArrayLike,
    *,
    fraction: float,
    rng: np.random.Generator,
    readout_error: float = 0.0,
    confidence: float = 0.95,
) -> Verification:
    """:func:`verify_pairs` for pairs known by their fidelity only (as the engine records).

    A random ``fraction`` of the pairs is measured, one random-setting shot each. The
    outcomes' distribution depends on each pair only through its fidelity
    (:func:`agree_probability`), so this is exact in distribution for any Bell-diagonal (or
    other) states; the interval is Wilson's (:func:`estimate_from_counts`), which keeps its
    coverage at fidelities near 1 where the normal interval collapses. Fewer than 2 verified
    pairs give a NaN estimate (no error: a user pair may get few deliveries).

    Example:
        >>> out = verify_fidelities(np.full(10000, 0.9), fraction=0.2,
        ...                         rng=np.random.default_rng(1))
        >>> bool(out.low < 0.9 < out.high), out.used + out.kept
        (True, 10000)
    """
    f = np.asarray(fidelities, dtype=np.float64).reshape(-1)
    if not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction must be in (0, 1] (got {fraction})")
    if not 0.0 <= readout_error < 0.5:
        raise InputError(f"readout_error must be in [0, 0.5) (got {readout_error})")
    if f.size and not (np.all(f >= 0.0) and np.all(f <= 1.0)):
        raise InputError("fidelities must lie in [0, 1]")
    used = rng.random(f.size) < fraction
    m = int(used.sum())
    p = agree_probability(f[used], readout_error)
    plus = int((rng.random(m) < p).sum())
    est, low, high = estimate_from_counts(
        plus, m, readout_error=readout_error, confidence=confidence
    )
    se = (high - low) / (2.0 * _z_of(confidence)) if m >= 2 else math.nan
    return Verification(
        fidelity=est,
        std_error=se,
        low=low,
        high=high,
        true_fidelity=float(f[used].mean()) if m else math.nan,
        used=m,
        kept=int(f.size - m),
    )


def verify_copies(
    fidelity: float,
    pairs: int,
    *,
    fraction: float,
    rng: np.random.Generator,
    readout_error: float = 0.0,
    confidence: float = 0.95,
) -> Verification:
    """:func:`verify_fidelities` for ``pairs`` copies of one state, in O(1) memory.

    The number verified is Binomial(``pairs``, ``fraction``) and the agreeing outcomes
    Binomial(verified, :func:`agree_probability`), the same distribution as measuring the
    copies one by one. Used for a link's heralded pairs (millions in a run).

    Example:
        >>> out = verify_copies(0.95, 10**7, fraction=0.01, rng=np.random.default_rng(0))
        >>> bool(out.low < 0.95 < out.high)
        True
    """
    if isinstance(pairs, bool) or not isinstance(pairs, int | np.integer) or pairs < 0:
        raise InputError(f"pairs must be a non-negative integer (got {pairs!r})")
    if not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction must be in (0, 1] (got {fraction})")
    if not 0.0 <= fidelity <= 1.0:
        raise InputError(f"fidelity must be in [0, 1] (got {fidelity})")
    m = int(rng.binomial(int(pairs), fraction))
    plus = int(rng.binomial(m, float(agree_probability(fidelity, readout_error))))
    est, low, high = estimate_from_counts(
        plus, m, readout_error=readout_error, confidence=confidence
    )
    se = (high - low) / (2.0 * _z_of(confidence)) if m >= 2 else math.nan
    return Verification(
        fidelity=est,
        std_error=se,
        low=low,
        high=high,
        true_fidelity=float(fidelity),
        used=m,
        kept=int(pairs) - m,
    )
