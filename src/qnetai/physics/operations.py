"""Entanglement swapping and purification (BBPSSW, DEJMPS) on Bell-diagonal states.

Noise conventions (shared by every function here)
--------------------------------------------------
* ``gate_fidelity`` ``g``: each two-qubit gate (CNOT) is followed by the
  two-qubit depolarising channel ``rho -> g rho + (1 - g) Tr_q(rho) (x) I/4`` on
  the two qubits it acted on (Dür-Briegel convention; ``g`` is the depolarising
  *parameter*, the gate's entanglement fidelity is ``g + (1 - g)/16``).
  Single-qubit gates (H, Rx) are perfect.
* ``measurement_error`` ``e``: each single-qubit Z measurement reports the wrong
  bit with probability ``e``, independently.

In the Pauli-frame language of :mod:`~qnetai.physics.bell` (index ``k`` has
bits ``(x, z)``), a perfect Bell measurement on the inner halves of two pairs
leaves the outer pair in frame ``(x1 ^ x2, z1 ^ z2)`` after the Pauli
correction, and a bilateral CNOT (pair 1 control, pair 2 target) maps
``(x1, z1), (x2, z2) -> (x1, z1 ^ z2), (x1 ^ x2, z2)``. Every formula here
follows from those two rules and is checked in the tests against a literal
4-qubit density-matrix simulation of the circuit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.physics._checks import in_range
from qnetai.physics.bell import PAULI_BITS, _compose, validate_bell

# Bell indices of the four (x, z) frames.
_PHI_P, _PSI_P, _PSI_M, _PHI_M = 0, 1, 2, 3


def swap(
    p1: ArrayLike,
    p2: ArrayLike,
    *,
    gate_fidelity: ArrayLike = 1.0,
    measurement_error: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Entanglement swapping of pairs ``A-B1`` (``p1``) and ``B2-C`` (``p2``) -> ``A-C``.

    Circuit at B: ``CNOT(B1 -> B2)``, two-qubit depolarising noise (``gate_fidelity``),
    ``H(B1)``, Z measurements of B1 (phase bit) and B2 (parity bit), each misread
    with probability ``measurement_error``; C applies ``X^parity Z^phase``. The
    result is averaged over outcomes:
    ``g * (ideal, misread bits as Pauli errors) + (1 - g) I/4``.
    Without noise, Werner parameters multiply: ``w = w1 w2``.

    Example:
        >>> from qnetai.physics.bell import werner
        >>> round(float(swap(werner(0.9), werner(0.9))[0]), 4)
        0.8133
    """
    a = validate_bell(p1)
    b = validate_bell(p2)
    g = in_range("gate_fidelity", gate_fidelity, 0.0, 1.0)[..., None]
    e = in_range("measurement_error", measurement_error, 0.0, 1.0)
    # A misread phase bit (B1) leaves a Z error, a misread parity bit (B2) an X error:
    # the frame-error distribution over (I, X, XZ, Z) in Bell-index order.
    ok = 1.0 - e
    errors = np.stack([ok * ok, e * ok, e * e, ok * e], axis=-1)
    return g * _compose(_compose(a, b), errors) + (1.0 - g) / 4.0


def _bilateral_cnot_tables() -> tuple[NDArray[np.intp], ...]:
    """Index tables of the bilateral CNOT followed by the parity check of pair 2.

    For output frame ``k`` of pair 1 and parity ``s`` of pair 2, the contributing
    input frames are ``(i, j)`` with ``x_i = x_k``, ``z_i ^ z_j = z_k`` and
    ``x_i ^ x_j = s``: two pairs ``(I_s[k, m], J_s[k, m])``, ``m = 0, 1``.
    """
    tables = []
    for s in (0, 1):
        ii = np.zeros((4, 2), dtype=np.intp)
        jj = np.zeros((4, 2), dtype=np.intp)
        for k, (xk, zk) in enumerate(PAULI_BITS):
            for m, zi in enumerate((0, 1)):
                ii[k, m] = PAULI_BITS.index((xk, zi))
                jj[k, m] = PAULI_BITS.index((xk ^ s, zi ^ zk))
        tables += [ii, jj]
    return tuple(tables)


_I_AGREE, _J_AGREE, _I_DISAGREE, _J_DISAGREE = _bilateral_cnot_tables()
# DEJMPS local rotations Rx(pi/2) (x) Rx(-pi/2) on each pair swap Psi- and Phi-.
_DEJMPS_PERM = np.array([_PHI_P, _PSI_P, _PHI_M, _PSI_M])


def _pair_sums(a: NDArray, b: NDArray, ii: NDArray, jj: NDArray) -> NDArray[np.float64]:
    """``out[..., k] = sum_m a[..., ii[k, m]] * b[..., jj[k, m]]``, written out for speed."""
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape)
    for k in range(4):
        out[..., k] = a[..., ii[k, 0]] * b[..., jj[k, 0]] + a[..., ii[k, 1]] * b[..., jj[k, 1]]
    return out


def _recurrence(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    gate_fidelity: ArrayLike,
    measurement_error: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bilateral CNOT (pair 1 -> pair 2), measure pair 2 in Z, keep pair 1 if bits agree."""
    g = in_range("gate_fidelity", gate_fidelity, 0.0, 1.0)
    e = in_range("measurement_error", measurement_error, 0.0, 1.0)
    agree = _pair_sums(a, b, _I_AGREE, _J_AGREE)
    disagree = _pair_sums(a, b, _I_DISAGREE, _J_DISAGREE)
    # Reported bits agree if the true parity is even and both or neither are misread,
    # or the parity is odd and exactly one is misread.
    q = ((1.0 - e) ** 2 + e**2)[..., None]
    g2 = (g * g)[..., None]  # one noisy CNOT at each side
    # A depolarised side leaves all four qubits maximally mixed: the bits agree
    # with probability 1/2 and the kept pair is I/4.
    unnorm = g2 * (q * agree + (1.0 - q) * disagree) + (1.0 - g2) / 8.0
    p_success = unnorm.sum(axis=-1)
    # p_success = 0 only for perfectly orthogonal noiseless inputs: report I/4 there.
    ok = (p_success > 0)[..., None]
    state = np.where(ok, unnorm / np.where(ok, p_success[..., None], 1.0), 0.25)
    return state, p_success


def bbpssw(
    p1: ArrayLike,
    p2: ArrayLike,
    *,
    gate_fidelity: ArrayLike = 1.0,
    measurement_error: ArrayLike = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One BBPSSW round (Bennett et al. 1996): returns ``(state, p_success)``.

    Both pairs are first twirled to Werner states of their fidelity, then the
    bilateral CNOT protocol runs (pair 1 control, pair 2 target, measured and
    compared). The output is the Bell-diagonal state of the kept pair, *not*
    re-twirled (a following :func:`bbpssw` round twirls it). For Werner inputs
    of fidelity ``F`` and no noise, ``F' = (F^2 + (1-F)^2/9) / N`` with
    ``N = p_success = F^2 + 2F(1-F)/3 + 5(1-F)^2/9``.

    Example:
        >>> from qnetai.physics.bell import werner
        >>> out, p = bbpssw(werner(0.9), werner(0.9))
        >>> round(float(out[0]), 4), round(float(p), 4)
        (0.9264, 0.8756)
    """
    a = validate_bell(p1)
    b = validate_bell(p2)
    fa, fb = a[..., :1], b[..., :1]
    wa = np.concatenate([fa, np.repeat((1.0 - fa) / 3.0, 3, axis=-1)], axis=-1)
    wb = np.concatenate([fb, np.repeat((1.0 - fb) / 3.0, 3, axis=-1)], axis=-1)
    return _recurrence(wa, wb, gate_fidelity, measurement_error)


def dejmps(
    p1: ArrayLike,
    p2: ArrayLike,
    *,
    gate_fidelity: ArrayLike = 1.0,
    measurement_error: ArrayLike = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One DEJMPS round (Deutsch et al. 1996): returns ``(state, p_success)``.

    Alice applies ``Rx(pi/2)`` and Bob ``Rx(-pi/2)`` to their halves of both pairs
    (this swaps the Psi- and Phi- weights), then the bilateral CNOT protocol as
    in :func:`bbpssw`, without twirling. In Deutsch et al.'s letters ``A, B, C, D``
    = weights of ``Phi+, Psi-, Psi+, Phi-``, i.e. ``(A, C, B, D)`` in our order
    ``(Phi+, Psi+, Psi-, Phi-)``, two identical noiseless pairs give
    ``A' = (A^2+B^2)/N, B' = 2CD/N, C' = (C^2+D^2)/N, D' = 2AB/N`` with
    ``N = (A+B)^2 + (C+D)^2`` (the success probability).

    Example:
        >>> from qnetai.physics.bell import werner
        >>> out, p = dejmps(werner(0.9), werner(0.9))
        >>> round(float(out[0]), 4), round(float(p), 4)
        (0.9264, 0.8756)
    """
    a = validate_bell(p1)[..., _DEJMPS_PERM]
    b = validate_bell(p2)[..., _DEJMPS_PERM]
    return _recurrence(a, b, gate_fidelity, measurement_error)
