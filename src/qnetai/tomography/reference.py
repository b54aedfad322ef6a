"""The same counts through qiskit-experiments' state-tomography fitters (the reference).

Only the fitters that need no cvxpy are available here: ``linear_inversion`` followed by
qiskit-experiments' own post-processing (``postprocess_fitter(make_positive=True)``, which
rescales negative eigenvalues away), with readout error handled by qiskit-experiments'
``PauliMeasurementBasis`` given a local readout mitigator when ``readout_error > 0``.

Conventions are translated here: qiskit numbers measurement bases Z, X, Y = 0, 1, 2 and
outcomes little-endian (qubit 0 least significant), and returns the state with qubit 0 as the
rightmost tensor factor; we use X, Y, Z and qubit 0 most significant / leftmost.

Example:
    >>> from qnetai.tomography.states import bell_state, fidelity
    >>> from qnetai.tomography.measure import measure_state
    >>> data = measure_state(bell_state(), shots=2000, rng=np.random.default_rng(0))
    >>> fidelity(bell_state(), qiskit_linear_inversion(data)) > 0.98
    True
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai._optional import require
from qnetai.tomography.measure import TomographyData


def _reverse_bits(k: NDArray[np.intp], n: int) -> NDArray[np.intp]:
    out = np.zeros_like(k)
    for q in range(n):
        out |= ((k >> q) & 1) << (n - 1 - q)
    return out


def _reverse_qubits(rho: NDArray[np.complex128], n: int) -> NDArray[np.complex128]:
    t = rho.reshape((2,) * (2 * n))
    perm = list(range(n - 1, -1, -1)) + list(range(2 * n - 1, n - 1, -1))
    return np.asarray(t.transpose(perm).reshape(2**n, 2**n))


def _basis(readout_error: float, n: int) -> Any:
    lib = require("qiskit_experiments.library.tomography.basis", extra="tomography")
    if readout_error == 0.0:
        return lib.PauliMeasurementBasis()
    local = require("qiskit_experiments.data_processing", extra="tomography").LocalReadoutMitigator
    a = np.array([[1.0 - readout_error, readout_error], [readout_error, 1.0 - readout_error]])
    return lib.PauliMeasurementBasis(mitigator=local([a] * n))


def qiskit_linear_inversion(data: TomographyData) -> NDArray[np.complex128]:
    """qiskit-experiments ``linear_inversion`` + ``postprocess_fitter(make_positive=True)``."""
    fitters = require("qiskit_experiments.library.tomography.fitters", extra="tomography")
    n = data.n_qubits
    d = 2**n
    counts = np.asarray(data.counts, dtype=np.float64)
    qiskit_k = _reverse_bits(np.arange(d), n)
    outcome = np.zeros((1, counts.shape[0], d))
    outcome[0][:, qiskit_k] = counts
    ours_to_qiskit = np.array([1, 2, 0])  # X, Y, Z -> qiskit indices
    meas = np.array(
        [[ours_to_qiskit[b] for b in digits] for digits in itertools.product(range(3), repeat=n)],
        dtype=int,
    )
    fit, meta = fitters.linear_inversion(
        outcome,
        counts.sum(axis=1),
        meas,
        np.zeros((counts.shape[0], 0), dtype=int),
        measurement_basis=_basis(data.readout_error, n),
    )
    states, _ = fitters.postprocess_fitter(fit, meta, make_positive=True, trace=1.0, qpt=False)
    rho = np.asarray(states[0], dtype=np.complex128)
    return _reverse_qubits(rho, n)
