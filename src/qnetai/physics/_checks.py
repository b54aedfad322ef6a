"""Argument checks shared by the physics modules: arrays in, InputError out."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError


def _first(arr: NDArray[np.float64], bad: NDArray[np.bool_]) -> float:
    return float(arr[bad].flat[0])


def in_range(name: str, value: ArrayLike, lo: float, hi: float) -> NDArray[np.float64]:
    """``value`` as a float array, every entry in ``[lo, hi]`` (NaN fails)."""
    arr = np.asarray(value, dtype=np.float64)
    bad = ~((arr >= lo) & (arr <= hi))
    if np.any(bad):
        raise InputError(f"{name} must be in [{lo:.6g}, {hi:.6g}] (got {_first(arr, bad)!r})")
    return arr


def non_negative(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """``value`` as a float array, every entry ``>= 0`` (``inf`` allowed, NaN fails)."""
    arr = np.asarray(value, dtype=np.float64)
    bad = ~(arr >= 0)
    if np.any(bad):
        raise InputError(f"{name} must be >= 0 (got {_first(arr, bad)!r})")
    return arr


def positive(name: str, value: ArrayLike, *, finite: bool = False) -> NDArray[np.float64]:
    """``value`` as a float array, every entry ``> 0`` (and finite if ``finite``)."""
    arr = np.asarray(value, dtype=np.float64)
    bad = ~(arr > 0) | (~np.isfinite(arr) if finite else False)
    if np.any(bad):
        what = "finite and > 0" if finite else "> 0"
        raise InputError(f"{name} must be {what} (got {_first(arr, bad)!r})")
    return arr
