"""Local Pauli measurements on ``n`` qubits: settings, outcome probabilities, Pauli coefficients.

Conventions used throughout :mod:`qnetai.tomography`:

* qubit 0 is the most significant bit of a computational-basis index (``kron`` order, as in
  :mod:`qnetai.physics.density`);
* a *setting* measures every qubit in X, Y or Z; settings are numbered ``0 .. 3**n - 1`` in
  base 3 with qubit 0 the most significant digit and digits ``0, 1, 2 = X, Y, Z``;
* an *outcome* ``k`` of a setting is an ``n``-bit index (qubit 0 most significant); bit 0
  means the ``+1`` eigenvalue;
* a Pauli string is numbered ``0 .. 4**n - 1`` in base 4 with digits ``0, 1, 2, 3 = I, X, Y,
  Z``; the Pauli coefficients of ``rho`` are ``c_P = tr(P rho)``, so that
  ``rho = sum_P c_P P / 2**n``.

Probabilities of all settings come from the Pauli coefficients of the state and a
Walsh-Hadamard transform per setting (``O(3**n 4**n)``); ``n <= MAX_QUBITS`` bounds memory.

Example:
    >>> rho = np.diag([1.0, 0, 0, 0]).astype(complex)   # |00><00|
    >>> p = setting_probabilities(rho, 2)
    >>> p.shape, float(p[8, 0])                           # setting ZZ, outcome 00
    ((9, 4), 1.0)
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError

#: Largest number of qubits the tomography code accepts (3**6 settings of 64 outcomes).
MAX_QUBITS = 6
#: Letters of the measurement bases, in setting-digit order.
BASES = "XYZ"
#: Letters of Pauli-string digits.
PAULIS = "IXYZ"

_S = 1.0 / np.sqrt(2.0)
#: ``V_b`` with ``Z``-measurement after ``V_b`` = measurement in basis ``b`` (X, Y, Z).
_ROT = np.array(
    [
        [[_S, _S], [_S, -_S]],  # H
        [[_S, -1j * _S], [_S, 1j * _S]],  # H S^dagger
        [[1, 0], [0, 1]],  # I
    ],
    dtype=np.complex128,
)
_SIGMA = np.array(
    [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
    dtype=np.complex128,
)
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_qubits(n: int) -> int:
    """``n`` if it is a whole number in ``[1, MAX_QUBITS]``, else an ``InputError``."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_QUBITS:
        raise InputError(f"n_qubits must be a whole number in [1, {MAX_QUBITS}] (got {n!r})")
    return int(n)


@cache
def setting_labels(n: int) -> tuple[str, ...]:
    """Labels of the ``3**n`` settings, e.g. ``('XX', 'XY', ..., 'ZZ')`` for two qubits."""
    return tuple("".join(t) for t in itertools.product(BASES, repeat=n))


def setting_index(label: str) -> int:
    """Index of a setting label such as ``'XZ'``.

    Example:
        >>> setting_index("ZZ")
        8
    """
    try:
        return int("".join(str(BASES.index(c)) for c in label.upper()), 3)
    except ValueError:
        raise InputError(f"setting must be letters X, Y, Z (got {label!r})") from None


def _apply_axis(t: NDArray[np.complex128], m: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """``out[b, v, p, i, q] = sum_j m[v, i, j] t[b, v, p, j, q]`` (``t``'s ``v`` may be 1)."""
    m0 = m[:, :, 0].reshape(1, 3, 1, 2, 1)
    m1 = m[:, :, 1].reshape(1, 3, 1, 2, 1)
    return m0 * t[:, :, :, 0:1, :] + m1 * t[:, :, :, 1:2, :]


def _rotate(x: NDArray[np.complex128], q: int, n: int) -> NDArray[np.complex128]:
    """``(B, d, d)`` -> ``(B*3, d, d)``: ``V_b x V_b^dagger`` on qubit ``q`` for b = X, Y, Z."""
    b, d = x.shape[0], 2**n
    a, c = 2**q, 2 ** (n - q - 1)
    t = _apply_axis(x.reshape(b, 1, a, 2, c * d), _ROT)
    t = _apply_axis(t.reshape(b, 3, d * a, 2, c), _ROT.conj())
    return t.reshape(b * 3, d, d)


def readout_matrix(readout_error: float) -> NDArray[np.float64]:
    """``A[k, j]`` = P(read ``k`` | outcome ``j``) for one qubit with symmetric flips.

    Example:
        >>> readout_matrix(0.1).tolist()
        [[0.9, 0.1], [0.1, 0.9]]
    """
    e = float(readout_error)
    return np.array([[1.0 - e, e], [e, 1.0 - e]])


def apply_readout(p: NDArray[np.float64], n: int, readout_error: float) -> NDArray[np.float64]:
    """Apply independent symmetric readout flips to outcome distributions ``(..., 2**n)``.

    The map is symmetric, so it is also its own adjoint (used for likelihood gradients).
    """
    if readout_error == 0.0:
        return p
    a = readout_matrix(readout_error)
    lead = p.shape[:-1]
    t = p.reshape(*lead, *(2,) * n)
    for q in range(n):
        t = np.moveaxis(np.tensordot(t, a, axes=([len(lead) + q], [1])), -1, len(lead) + q)
    return t.reshape(p.shape)


def setting_probabilities(
    rho: NDArray[np.complex128], n: int, readout_error: float = 0.0
) -> NDArray[np.float64]:
    """Outcome probabilities ``(3**n, 2**n)`` of every local Pauli setting on ``rho``.

    Uses ``E_sk = 2**-n sum_m (-1)**(k.m) P(s, m)``: the Pauli coefficients of ``rho`` on the
    supports ``m`` of each setting, then a Walsh-Hadamard transform (``O(3**n 4**n)``).
    """
    index, _ = _pauli_of_setting_mask(n)
    c = density_to_pauli(rho, n)
    p = c[index] @ _parity_matrix(n) / 2**n
    np.clip(p, 0.0, None, out=p)
    return apply_readout(p, n, readout_error)


def weighted_effects(weights: NDArray[np.float64], n: int) -> NDArray[np.complex128]:
    """``sum_s sum_k weights[s, k] E_sk`` (no readout) for weights ``(3**n, 2**n)``."""
    index, _ = _pauli_of_setting_mask(n)
    g = np.bincount(index.ravel(), weights=(weights @ _parity_matrix(n)).ravel(), minlength=4**n)
    return pauli_to_density(g.astype(np.float64), n)


def rotated_probabilities(rho: NDArray[np.complex128], n: int) -> NDArray[np.float64]:
    """The same as :func:`setting_probabilities` (no readout) by explicit basis rotations.

    The slow literal reference the tests compare the Pauli route against.
    """
    x = np.asarray(rho, dtype=np.complex128)[None]
    for q in range(n):
        x = _rotate(x, q, n)
    return np.asarray(np.einsum("sii->si", x).real, dtype=np.float64)


@cache
def _pauli_of_setting_mask(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pauli index and weight of each (setting, subset mask) pair, both ``(3**n, 2**n)``."""
    d = 2**n
    digits = np.array(list(itertools.product(range(3), repeat=n)), dtype=np.intp).reshape(-1, n)
    masks = np.array(list(itertools.product(range(2), repeat=n)), dtype=np.intp)  # (d, n)
    letters = (digits[:, None, :] + 1) * masks[None, :, :]  # (S, d, n), 0 = I
    index = (letters * (4 ** np.arange(n - 1, -1, -1))).sum(axis=-1)
    weight = np.broadcast_to(masks.sum(axis=-1), (digits.shape[0], d)).copy()
    index.setflags(write=False)
    weight.setflags(write=False)
    return index, weight


@cache
def _parity_matrix(n: int) -> NDArray[np.float64]:
    """``H[k, m] = (-1)**popcount(k & m)`` (Walsh-Hadamard, ``2**n x 2**n``)."""
    h = np.array([[1.0, 1.0], [1.0, -1.0]])
    out = np.ones((1, 1))
    for _ in range(n):
        out = np.kron(out, h)
    out.setflags(write=False)
    return out


def pauli_coefficients_from_counts(
    counts: NDArray[np.int64], n: int, readout_error: float = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Estimated Pauli coefficients ``c_P`` and the number of shots behind each, ``(4**n,)``.

    Each coefficient averages the parity of its support over every setting compatible with it,
    divided by ``(1 - 2 e)**weight`` to undo symmetric readout flips (unbiased).
    """
    index, weight = _pauli_of_setting_mask(n)
    parities = counts.astype(np.float64) @ _parity_matrix(n)  # (S, d) sum of +-1 over shots
    shots = np.broadcast_to(counts.sum(axis=1, keepdims=True).astype(np.float64), parities.shape)
    total = np.bincount(index.ravel(), weights=parities.ravel(), minlength=4**n)
    n_shots = np.bincount(index.ravel(), weights=shots.ravel(), minlength=4**n)
    pauli_weight = np.bincount(index.ravel(), weights=weight.ravel(), minlength=4**n).astype(
        np.float64
    ) / np.bincount(index.ravel(), minlength=4**n)
    shrink = (1.0 - 2.0 * readout_error) ** pauli_weight
    c = np.divide(total, n_shots * shrink, out=np.zeros(4**n), where=n_shots > 0)
    c[0] = 1.0
    return np.asarray(c, dtype=np.float64), np.asarray(n_shots, dtype=np.float64)


def _subscripts(n: int) -> tuple[str, str, str]:
    rows = _LETTERS[:n]
    cols = _LETTERS[n : 2 * n]
    ps = _LETTERS[2 * n : 3 * n]
    return rows, cols, ps


def pauli_to_density(c: NDArray[np.float64], n: int) -> NDArray[np.complex128]:
    """``rho = sum_P c_P P / 2**n`` from Pauli coefficients ``(4**n,)``.

    Example:
        >>> c = np.zeros(16); c[0] = 1; c[5] = 1; c[10] = -1; c[15] = 1   # Phi+
        >>> bool(np.isclose(pauli_to_density(c, 2)[0, 3].real, 0.5))
        True
    """
    rows, cols, ps = _subscripts(n)
    operands: list[NDArray[np.complex128]] = [np.asarray(c, dtype=np.complex128).reshape((4,) * n)]
    spec = [ps]
    for q in range(n):
        operands.append(_SIGMA)
        spec.append(ps[q] + rows[q] + cols[q])
    out = np.einsum(",".join(spec) + "->" + rows + cols, *operands, optimize=True)
    return out.reshape(2**n, 2**n) / 2**n


def density_to_pauli(rho: NDArray[np.complex128], n: int) -> NDArray[np.float64]:
    """Pauli coefficients ``c_P = tr(P rho)``, ``(4**n,)``, of a Hermitian ``rho``."""
    rows, cols, ps = _subscripts(n)
    operands: list[NDArray[np.complex128]] = [
        np.asarray(rho, dtype=np.complex128).reshape((2,) * (2 * n))
    ]
    spec = [rows + cols]
    for q in range(n):
        operands.append(_SIGMA)
        spec.append(ps[q] + cols[q] + rows[q])
    out = np.einsum(",".join(spec) + "->" + ps, *operands, optimize=True)
    return np.asarray(out.real.reshape(4**n), dtype=np.float64)
