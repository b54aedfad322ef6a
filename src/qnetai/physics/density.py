"""Small n-qubit density-matrix tools, batched over leading axes.

These are the slow, literal reference the closed forms in :mod:`~qnetai.physics`
are tested against: gates, Kraus channels, depolarising noise, projective
measurements and partial traces on ``(..., 2**n, 2**n)`` arrays. Qubit 0 is the
most significant bit of the computational-basis index (``kron`` order).

Example:
    >>> rho = np.zeros((4, 4)); rho[0, 0] = 1.0           # |00><00|
    >>> rho = apply_unitary(rho, H, [0], 2)
    >>> rho = apply_unitary(rho, CNOT, [0, 1], 2)          # -> Phi+
    >>> bool(np.isclose(rho[0, 3].real, 0.5))
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

I2 = np.eye(2, dtype=np.complex128)
X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)
H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2.0)
#: CNOT with the first qubit as control.
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128)
for _m in (I2, X, Y, Z, H, CNOT):
    _m.setflags(write=False)


def rx(theta: float) -> NDArray[np.complex128]:
    """Rotation ``exp(-i theta X / 2)`` about the x axis (radians).

    Example:
        >>> bool(np.allclose(rx(np.pi), -1j * X))
        True
    """
    return np.cos(theta / 2) * I2 - 1j * np.sin(theta / 2) * X


def _n_qubits(rho: NDArray, n: int) -> None:
    if rho.shape[-2:] != (2**n, 2**n):
        raise ValueError(f"expected (..., {2**n}, {2**n}) for {n} qubits, got {rho.shape}")


def _apply_left(t: NDArray, op: NDArray, qubits: Sequence[int], n: int, col: bool) -> NDArray:
    """Contract ``op`` (2^k x 2^k) into the row (or, conj, column) axes ``qubits`` of ``t``."""
    k = len(qubits)
    op_t = op.reshape((2,) * (2 * k))
    batch = t.ndim - 2 * n
    offset = batch + (n if col else 0)
    axes = [offset + q for q in qubits]
    if col:
        op_t = op_t.conj()
    out = np.tensordot(op_t, t, axes=(list(range(k, 2 * k)), axes))
    # tensordot puts op's output axes first: move them back where they came from
    return np.moveaxis(out, list(range(k)), axes)


def apply_operator(
    rho: ArrayLike, op: ArrayLike, qubits: Sequence[int], n: int
) -> NDArray[np.complex128]:
    """``op rho op^dagger`` with ``op`` acting on ``qubits`` (in that order) of ``n`` qubits.

    ``op`` need not be unitary (a Kraus operator or a projector).
    """
    arr = np.asarray(rho, dtype=np.complex128)
    _n_qubits(arr, n)
    op_arr = np.asarray(op, dtype=np.complex128)
    batch_shape = arr.shape[:-2]
    t = arr.reshape(batch_shape + (2,) * (2 * n))
    t = _apply_left(t, op_arr, qubits, n, col=False)
    t = _apply_left(t, op_arr, qubits, n, col=True)
    return t.reshape(arr.shape)


apply_unitary = apply_operator


def apply_kraus(
    rho: ArrayLike, kraus: Sequence[ArrayLike], qubits: Sequence[int], n: int
) -> NDArray[np.complex128]:
    """Channel ``sum_i K_i rho K_i^dagger`` on ``qubits`` of an ``n``-qubit state."""
    out = None
    for k in kraus:
        term = apply_operator(rho, k, qubits, n)
        out = term if out is None else out + term
    assert out is not None
    return out


def partial_trace(rho: ArrayLike, keep: Sequence[int], n: int) -> NDArray[np.complex128]:
    """Reduced state on the qubits ``keep`` (kept in increasing order)."""
    arr = np.asarray(rho, dtype=np.complex128)
    _n_qubits(arr, n)
    batch_shape = arr.shape[:-2]
    t = arr.reshape(batch_shape + (2,) * (2 * n))
    keep = sorted(keep)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    rows = "".join(letters[q] for q in range(n))
    # a traced qubit reuses its row letter for its column: einsum sums the diagonal
    cols = "".join(letters[n + q] if q in keep else letters[q] for q in range(n))
    out = "".join(letters[q] for q in keep) + "".join(letters[n + q] for q in keep)
    spec = f"...{rows}{cols}->...{out}"
    r = np.einsum(spec, t)
    d = 2 ** len(keep)
    return r.reshape((*batch_shape, d, d))


def kron_states(*rhos: ArrayLike) -> NDArray[np.complex128]:
    """Tensor product of (batched) density matrices, first factor most significant."""
    out = np.asarray(rhos[0], dtype=np.complex128)
    for r in rhos[1:]:
        r_arr = np.asarray(r, dtype=np.complex128)
        out = np.einsum("...ij,...kl->...ikjl", out, r_arr)
        s = out.shape
        out = out.reshape((*s[:-4], s[-4] * s[-3], s[-2] * s[-1]))
    return out


def depolarise_qubits(
    rho: ArrayLike, g: float, qubits: Sequence[int], n: int
) -> NDArray[np.complex128]:
    """``g rho + (1 - g) Tr_q(rho) (x) I/2^k`` on the ``k`` qubits ``qubits``.

    Written as the Pauli-twirl mixture ``g rho + (1-g) 4^-k sum_P P rho P`` so it
    is an independent check of any closed form that uses the partial trace.
    """
    arr = np.asarray(rho, dtype=np.complex128)
    k = len(qubits)
    paulis = [I2, X, Y, Z]
    mixed = np.zeros_like(arr)
    for idx in np.ndindex(*(4,) * k):
        op = np.array([[1.0 + 0j]])
        for i in idx:
            op = np.kron(op, paulis[i])
        mixed = mixed + apply_operator(arr, op, qubits, n)
    return g * arr + (1.0 - g) * mixed / 4**k


def project(rho: ArrayLike, qubit: int, outcome: int, n: int) -> NDArray[np.complex128]:
    """Unnormalised post-measurement state for a Z-basis ``outcome`` (0 or 1) on ``qubit``."""
    proj = np.zeros((2, 2), dtype=np.complex128)
    proj[outcome, outcome] = 1.0
    return apply_operator(rho, proj, [qubit], n)


def trace(rho: ArrayLike) -> NDArray[np.float64]:
    """Real trace over the last two axes."""
    return np.trace(np.asarray(rho), axis1=-2, axis2=-1).real


def amplitude_damping_kraus(gamma: float) -> list[NDArray[np.complex128]]:
    """Kraus operators of amplitude damping ``|1> -> |0>`` with probability ``gamma``."""
    return [
        np.array([[1, 0], [0, np.sqrt(1 - gamma)]], dtype=np.complex128),
        np.array([[0, np.sqrt(gamma)], [0, 0]], dtype=np.complex128),
    ]


def phase_damping_kraus(lam: float) -> list[NDArray[np.complex128]]:
    """Kraus operators multiplying the off-diagonal element by ``lam`` (0 <= lam <= 1)."""
    q = (1.0 - lam) / 2.0
    return [np.sqrt(1 - q) * I2, np.sqrt(q) * Z]
