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
