"""Capacity bounds of a lossy bosonic channel and the binary entropy.

Rates are in bits (secret-key or entanglement bits) per channel use.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.physics._checks import in_range


def binary_entropy(p: ArrayLike) -> NDArray[np.float64]:
    """Binary entropy ``-p log2 p - (1-p) log2(1-p)`` in bits (0 at p = 0 and p = 1).

    Example:
        >>> float(binary_entropy(0.5))
        1.0
    """
    arr = in_range("p", p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -arr * np.log2(arr) - (1.0 - arr) * np.log2(1.0 - arr)
    return np.where((arr == 0.0) | (arr == 1.0), 0.0, h)


def plob_bound(eta: ArrayLike) -> NDArray[np.float64]:
    """PLOB repeaterless bound ``-log2(1 - eta)`` (Pirandola et al. 2017); ``inf`` at eta = 1.

    Example:
        >>> round(float(plob_bound(0.01)), 6)
        0.0145
    """
    arr = in_range("eta", eta, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return -np.log2(1.0 - arr)


def tgw_bound(eta: ArrayLike) -> NDArray[np.float64]:
    """TGW bound ``log2((1 + eta)/(1 - eta))`` (Takeoka, Guha, Wilde 2014); ``inf`` at eta = 1.

    Example:
        >>> round(float(tgw_bound(0.01)), 6)
        0.028855
    """
    arr = in_range("eta", eta, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.log2((1.0 + arr) / (1.0 - arr))
