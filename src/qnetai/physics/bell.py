"""Bell-diagonal two-qubit states as probability vectors over the Bell basis.

A Bell-diagonal state is an array ``p`` of shape ``(..., 4)``: the weights of
``(Phi+, Psi+, Psi-, Phi-)`` in that order, non-negative and summing to 1. The
leading axes are a batch of any shape. The target state is ``Phi+``, so the
fidelity is ``p[..., 0]``.

Index ``k`` is the Pauli frame of the pair: ``|b_k> ~ (I (x) P_k)|Phi+>`` (up to a phase) with
``P_k = I, X, XZ, Z``, i.e. bit-flip bit ``x = k in {1, 2}`` and phase-flip bit
``z = k in {2, 3}``. Composing Pauli frames XORs ``(x, z)``; :data:`PAULI_BITS`
and :func:`compose_bell` expose that group law, which swapping and purification
use.

Kets in the computational basis ``|00>, |01>, |10>, |11>``:
``Phi+ = (|00> + |11>)/sqrt2``, ``Psi+ = (|01> + |10>)/sqrt2``,
``Psi- = (|01> - |10>)/sqrt2``, ``Phi- = (|00> - |11>)/sqrt2``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics._checks import in_range

#: Labels of the four Bell states, in the order used by every ``(..., 4)`` array.
BELL_LABELS: tuple[str, str, str, str] = ("Phi+", "Psi+", "Psi-", "Phi-")

#: ``(x, z)`` Pauli-frame bits of each Bell index (bit flip, phase flip).
PAULI_BITS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (1, 1), (0, 1))

#: Signs of the correlations ``(<XX>, <YY>, <ZZ>)`` of each Bell state (rows).
_CORRELATION_SIGNS = np.array(
    [[1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]]
)
_CORRELATION_SIGNS.setflags(write=False)


def _index_of_bits(x: int, z: int) -> int:
    return PAULI_BITS.index((x, z))


def _composition_table() -> NDArray[np.intp]:
    """``T[k, i]`` = the index ``j`` whose Pauli frame composed with frame ``i`` gives ``k``."""
    t = np.zeros((4, 4), dtype=np.intp)
    for k, (xk, zk) in enumerate(PAULI_BITS):
        for i, (xi, zi) in enumerate(PAULI_BITS):
            t[k, i] = _index_of_bits(xk ^ xi, zk ^ zi)
    t.setflags(write=False)
    return t


_COMPOSE = _composition_table()


def _compose(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`compose_bell` without validation (for callers that validated already)."""
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape)
    for k in range(4):
        j = _COMPOSE[k]
        out[..., k] = (
            a[..., 0] * b[..., j[0]]
            + a[..., 1] * b[..., j[1]]
            + a[..., 2] * b[..., j[2]]
            + a[..., 3] * b[..., j[3]]
        )
    return out


def bell_kets() -> NDArray[np.complex128]:
    """The four Bell kets as rows of a ``(4, 4)`` array, in :data:`BELL_LABELS` order.

    Example:
        >>> bool(np.allclose(bell_kets() @ bell_kets().conj().T, np.eye(4)))
        True
    """
    s = 1.0 / np.sqrt(2.0)
    return np.array([[s, 0, 0, s], [0, s, s, 0], [0, s, -s, 0], [s, 0, 0, -s]], dtype=np.complex128)


def validate_bell(p: ArrayLike, *, atol: float = 1e-9) -> NDArray[np.float64]:
    """Check ``p`` is a batch of Bell-diagonal states and return it as a float array.

    Entries must be finite and ``>= -atol`` (tiny negatives are clipped to 0) and
    each state must sum to 1 within ``atol``. Raises :class:`InputError` otherwise.

    Example:
        >>> validate_bell([0.7, 0.1, 0.1, 0.1]).shape
        (4,)
    """
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 4:
        raise InputError(
            f"Bell-diagonal state must have a last axis of length 4 (got shape {arr.shape})"
        )
    if arr.size == 0:
        return arr
    lowest = arr.min()
    error = np.abs(arr.sum(axis=-1) - 1.0).max()
    if lowest >= 0.0 and error <= atol:  # fast path (NaN fails both comparisons)
        return arr
    if not np.all(np.isfinite(arr)):
        raise InputError("Bell-diagonal state must be finite (got NaN or inf)")
    if lowest < -atol:
        raise InputError(f"Bell-diagonal weights must be >= 0 (got min {lowest:.3g})")
    if error > atol:
        raise InputError(f"Bell-diagonal weights must sum to 1 (got an error of {error:.3g})")
    return np.clip(arr, 0.0, None)


def werner(fidelity: ArrayLike) -> NDArray[np.float64]:
    """Werner state of the given fidelity: ``(F, (1-F)/3, (1-F)/3, (1-F)/3)``.

    ``fidelity`` (any shape) must lie in [0, 1]; the result has shape ``(..., 4)``.

    Example:
        >>> werner(0.7).round(3).tolist()
        [0.7, 0.1, 0.1, 0.1]
    """
    f = in_range("fidelity", fidelity, 0.0, 1.0)
    rest = (1.0 - f) / 3.0
    return np.stack([f, rest, rest, rest], axis=-1)


def werner_parameter(fidelity: ArrayLike) -> NDArray[np.float64]:
    """Werner parameter ``w = (4F - 1)/3`` (weight of Phi+ against the maximally mixed state).

    Example:
        >>> float(werner_parameter(1.0))
        1.0
    """
    f = in_range("fidelity", fidelity, 0.0, 1.0)
    return (4.0 * f - 1.0) / 3.0


def fidelity_from_werner_parameter(w: ArrayLike) -> NDArray[np.float64]:
    """Fidelity ``F = (3w + 1)/4`` of a Werner state with parameter ``w`` in [-1/3, 1].

    Example:
        >>> float(fidelity_from_werner_parameter(0.0))
        0.25
    """
    w_arr = in_range("werner parameter w", w, -1.0 / 3.0 - 1e-12, 1.0 + 1e-12)
    return (3.0 * w_arr + 1.0) / 4.0


def fidelity(p: ArrayLike) -> NDArray[np.float64]:
    """Fidelity with Phi+ of Bell-diagonal states: ``p[..., 0]``.

    Example:
        >>> float(fidelity([0.9, 0.05, 0.03, 0.02]))
        0.9
    """
    return validate_bell(p)[..., 0]


def bell_to_density(p: ArrayLike) -> NDArray[np.complex128]:
    """Density matrices ``(..., 4, 4)`` (computational basis) of Bell-diagonal states.

    Example:
        >>> bell_to_density([1, 0, 0, 0]).real.round(2)[0].tolist()
        [0.5, 0.0, 0.0, 0.5]
    """
    arr = validate_bell(p)
    kets = bell_kets()
    projectors = np.einsum("ki,kj->kij", kets, kets.conj())
    return np.einsum("...k,kij->...ij", arr.astype(np.complex128), projectors)


def density_to_bell(rho: ArrayLike, *, atol: float = 1e-9) -> NDArray[np.float64]:
    """Twirl two-qubit density matrices ``(..., 4, 4)`` to Bell-diagonal form ``(..., 4)``.

    Returns the Bell-basis diagonal ``p_k = <b_k|rho|b_k>``: the state after
    averaging over the bilateral Paulis ``{II, XX, YY, ZZ}``, which keeps the
    fidelity with each Bell state. ``rho`` must have unit trace within ``atol``.

    Example:
        >>> density_to_bell(np.eye(4) / 4).round(12).tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    arr = np.asarray(rho)
    if arr.ndim < 2 or arr.shape[-2:] != (4, 4):
        raise InputError(f"density matrix must have shape (..., 4, 4) (got {arr.shape})")
    kets = bell_kets()
    p = ((arr @ kets.T) * kets.conj().T).sum(axis=-2).real  # <b_k| rho |b_k>
    return validate_bell(p, atol=max(atol, 1e-9))


def bell_to_correlations(p: ArrayLike) -> NDArray[np.float64]:
    """Correlations ``(<XX>, <YY>, <ZZ>)`` of Bell-diagonal states, shape ``(..., 3)``.

    A Bell-diagonal state is ``(II + sum_i c_i s_i s_i)/4``; this returns ``c``.

    Example:
        >>> bell_to_correlations([1, 0, 0, 0]).tolist()
        [1.0, -1.0, 1.0]
    """
    return validate_bell(p) @ _CORRELATION_SIGNS


def correlations_to_bell(c: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`bell_to_correlations`: ``p_k = (1 + s_k . c)/4``.

    Example:
        >>> correlations_to_bell([1.0, -1.0, 1.0]).tolist()
        [1.0, 0.0, 0.0, 0.0]
    """
    c_arr = np.asarray(c, dtype=np.float64)
    if c_arr.ndim == 0 or c_arr.shape[-1] != 3:
        raise InputError(f"correlations must have a last axis of length 3 (got {c_arr.shape})")
    return validate_bell((1.0 + c_arr @ _CORRELATION_SIGNS.T) / 4.0)


def compose_bell(p1: ArrayLike, p2: ArrayLike) -> NDArray[np.float64]:
    """Distribution of the composed Pauli frame of two independent Bell-diagonal states.

    ``out[k] = sum over i, j with frame(i) XOR frame(j) = frame(k) of p1[i] p2[j]``:
    the state left by ideal entanglement swapping, or by applying a random Pauli
    frame error drawn from ``p2`` to the state ``p1``. Batch axes broadcast.

    Example:
        >>> compose_bell([0, 1, 0, 0], [0, 0, 0, 1]).tolist()
        [0.0, 0.0, 1.0, 0.0]
    """
    return _compose(validate_bell(p1), validate_bell(p2))
