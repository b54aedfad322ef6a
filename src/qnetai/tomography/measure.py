"""Simulated local Pauli measurements with finite shots and symmetric readout error.

Example:
    >>> from qnetai.tomography.states import bell_state
    >>> data = measure_state(bell_state(), shots=100, rng=np.random.default_rng(1))
    >>> data.counts.shape, int(data.counts[8, 1] + data.counts[8, 2])   # ZZ never odd
    ((9, 4), 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.tomography._pauli import check_qubits, setting_probabilities

#: Largest number of shots per setting accepted.
MAX_SHOTS = 10**9


@dataclass(frozen=True)
class TomographyData:
    """Counts of every local Pauli setting: ``counts[s, k]``, shape ``(3**n, 2**n)``.

    ``readout_error`` is the known symmetric flip probability of every qubit's readout; the
    estimators correct for it.
    """

    n_qubits: int
    counts: NDArray[np.int64]
    readout_error: float = 0.0

    def __post_init__(self) -> None:
        n = check_qubits(self.n_qubits)
        c = np.asarray(self.counts)
        if c.shape != (3**n, 2**n):
            raise InputError(
                f"counts must have shape {(3**n, 2**n)} for {n} qubits (got {c.shape})"
            )
        if not np.issubdtype(c.dtype, np.integer) or (c < 0).any():
            raise InputError("counts must be non-negative integers")
        if (c.sum(axis=1) == 0).any():
            raise InputError("every setting needs at least one shot")
        e = self.readout_error
        if not (isinstance(e, float | int) and math.isfinite(e) and 0.0 <= e < 0.5):
            raise InputError(f"readout_error must be in [0, 0.5) (got {e!r})")

    @property
    def shots(self) -> NDArray[np.int64]:
        """Shots of each setting, ``(3**n,)``."""
        return np.asarray(self.counts).sum(axis=1)

    @property
    def frequencies(self) -> NDArray[np.float64]:
        """Relative frequencies ``counts / shots``, ``(3**n, 2**n)``."""
        c = np.asarray(self.counts, dtype=np.float64)
        return c / c.sum(axis=1, keepdims=True)


def check_shots(shots: int) -> int:
    """``shots`` if it is a whole number in ``[1, MAX_SHOTS]``, else an ``InputError``."""
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer):
        raise InputError(f"shots must be a whole number (got {shots!r})")
    if not 1 <= shots <= MAX_SHOTS:
        raise InputError(f"shots must be in [1, {MAX_SHOTS}] (got {shots})")
    return int(shots)


def measure_state(
    rho: NDArray[np.complex128],
    *,
    shots: int,
    rng: np.random.Generator,
    readout_error: float = 0.0,
) -> TomographyData:
    """Sample ``shots`` outcomes of every local Pauli setting on ``rho`` (multinomial)."""
    rho = np.asarray(rho, dtype=np.complex128)
    d = rho.shape[0]
    n = round(math.log2(d)) if d > 0 else 0
    if rho.shape != (2**n, 2**n) or n < 1:
        raise InputError(f"rho must be (2**n, 2**n) (got {rho.shape})")
    check_qubits(n)
    shots = check_shots(shots)
    if not 0.0 <= readout_error < 0.5:
        raise InputError(f"readout_error must be in [0, 0.5) (got {readout_error})")
    p = setting_probabilities(rho, n, readout_error)
    p /= p.sum(axis=1, keepdims=True)
    counts = rng.multinomial(shots, p).astype(np.int64)
    return TomographyData(n, counts, float(readout_error))
