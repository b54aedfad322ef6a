"""Scalar Bell-diagonal kernels on plain 4-tuples, for event loops that touch one pair at a time.

The event engine updates one pair at a time, where a call into the vectorised, validating
:mod:`qnetai.physics` functions costs ~100x more than the arithmetic itself. These functions
restate, for a single state held as a tuple ``(Phi+, Psi+, Psi-, Phi-)``, exactly the
conventions of :func:`qnetai.physics.depolarise`, :func:`qnetai.physics.t1_t2_noise` (one
half), :func:`qnetai.physics.swap`, :func:`qnetai.physics.bbpssw` and
:func:`qnetai.physics.dejmps`; ``tests/physics/test_physics_scalar.py`` checks them against those
functions on random states, so the physics core stays the single source of truth.

Example:
    >>> tuple(round(x, 4) for x in swap((0.9, 0.1/3, 0.1/3, 0.1/3), (1.0, 0.0, 0.0, 0.0)))
    (0.9, 0.0333, 0.0333, 0.0333)
"""

from __future__ import annotations

import math

from qnetai.physics.bell import PAULI_BITS

Bell = tuple[float, float, float, float]


def depolarise(p: Bell, e: float) -> Bell:
    """``e p + (1 - e) I/4``: depolarising memory noise with factor ``e = exp(-dt / t_coh)``."""
    c = (1.0 - e) * 0.25
    return (e * p[0] + c, e * p[1] + c, e * p[2] + c, e * p[3] + c)


def t1_t2_one(p: Bell, gamma: float, coherence: float) -> Bell:
    """T1/T2 noise on one half of the pair (damping ``gamma``, coherence factor), twirled."""
    p0, p1, p2, p3 = p
    cxx = (p0 + p1 - p2 - p3) * coherence
    cyy = (-p0 + p1 - p2 + p3) * coherence
    czz = (p0 - p1 - p2 + p3) * (1.0 - gamma)
    return (
        (1.0 + cxx - cyy + czz) * 0.25,
        (1.0 + cxx + cyy - czz) * 0.25,
        (1.0 - cxx - cyy - czz) * 0.25,
        (1.0 - cxx + cyy + czz) * 0.25,
    )


def memory_noise(p: Bell, a: tuple[float, float, float], b: tuple[float, float, float]) -> Bell:
    """Independent memory noise on both halves, exact on the density matrix, then twirled.

    Each half is described by ``(c_xy, c_z, gamma)``: the Heisenberg action ``X, Y -> c_xy``,
    ``Z -> c_z Z + gamma I`` of its channel (T1/T2: ``(coherence, 1 - gamma, gamma)``;
    depolarising with factor ``e``: ``(e, e, 0)``). As Bell-diagonal states have no local
    polarisation, ``<ZZ> -> c_z,a c_z,b <ZZ> + gamma_a gamma_b`` — the ``qubits="both"`` rule of
    :func:`qnetai.physics.t1_t2_noise`.
    """
    p0, p1, p2, p3 = p
    cxy = a[0] * b[0]
    cxx = (p0 + p1 - p2 - p3) * cxy
    cyy = (-p0 + p1 - p2 + p3) * cxy
    czz = (p0 - p1 - p2 + p3) * a[1] * b[1] + a[2] * b[2]
    return (
        (1.0 + cxx - cyy + czz) * 0.25,
        (1.0 + cxx + cyy - czz) * 0.25,
        (1.0 - cxx - cyy - czz) * 0.25,
        (1.0 - cxx + cyy + czz) * 0.25,
    )


def t1_t2_factors(dt_s: float, t1_s: float | None, t2_s: float | None) -> tuple[float, float]:
    """``(gamma, coherence)`` after ``dt_s``, as :func:`qnetai.physics.t1_t2_factors`."""
    gamma = 0.0 if t1_s is None else -math.expm1(-dt_s / t1_s)
    if t2_s is not None:
        coherence = math.exp(-dt_s / t2_s)
    elif t1_s is not None:
        coherence = math.exp(-dt_s / (2.0 * t1_s))
    else:
        coherence = 1.0
    return gamma, coherence


def compose(a: Bell, b: Bell) -> Bell:
    """Distribution of the composed Pauli frame (ideal swapping), see ``physics.compose_bell``."""
    a0, a1, a2, a3 = a
    b0, b1, b2, b3 = b
    return (
        a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3,
        a0 * b1 + a1 * b0 + a3 * b2 + a2 * b3,
        a0 * b2 + a2 * b0 + a3 * b1 + a1 * b3,
        a0 * b3 + a3 * b0 + a1 * b2 + a2 * b1,
    )


def swap(a: Bell, b: Bell, gate_fidelity: float = 1.0, measurement_error: float = 0.0) -> Bell:
    """Entanglement swapping with a depolarising CNOT and misread bits (``physics.swap``)."""
    o0, o1, o2, o3 = compose(a, b)
    e = measurement_error
    if e > 0.0:
        # misread phase bit: Z frame flip (Phi+ <-> Phi-, Psi+ <-> Psi-)
        o0, o1, o2, o3 = (
            (1 - e) * o0 + e * o3,
            (1 - e) * o1 + e * o2,
            (1 - e) * o2 + e * o1,
            (1 - e) * o3 + e * o0,
        )
        # misread parity bit: X frame flip (Phi+ <-> Psi+, Phi- <-> Psi-)
        o0, o1, o2, o3 = (
            (1 - e) * o0 + e * o1,
            (1 - e) * o1 + e * o0,
            (1 - e) * o2 + e * o3,
            (1 - e) * o3 + e * o2,
        )
    g = gate_fidelity
    if g < 1.0:
        c = (1.0 - g) * 0.25
        return (g * o0 + c, g * o1 + c, g * o2 + c, g * o3 + c)
    return (o0, o1, o2, o3)


def _cnot_table() -> tuple[tuple[int, int, int, int], ...]:
    rows = []
    for i, (x1, z1) in enumerate(PAULI_BITS):
        for j, (x2, z2) in enumerate(PAULI_BITS):
            rows.append((i, j, PAULI_BITS.index((x1, z1 ^ z2)), x1 ^ x2))
    return tuple(rows)


_CNOT = _cnot_table()


def _recurrence(a: Bell, b: Bell, g: float, e: float) -> tuple[Bell, float]:
    agree = [0.0, 0.0, 0.0, 0.0]
    disagree = [0.0, 0.0, 0.0, 0.0]
    for i, j, k, s in _CNOT:
        if s:
            disagree[k] += a[i] * b[j]
        else:
            agree[k] += a[i] * b[j]
    q = (1.0 - e) ** 2 + e * e
    g2 = g * g
    c = (1.0 - g2) / 8.0
    un = [g2 * (q * agree[k] + (1.0 - q) * disagree[k]) + c for k in range(4)]
    total = un[0] + un[1] + un[2] + un[3]
    return (un[0] / total, un[1] / total, un[2] / total, un[3] / total), total


def bbpssw(a: Bell, b: Bell, gate_fidelity: float = 1.0, measurement_error: float = 0.0):
    """One BBPSSW round: ``(kept state, p_success)`` (inputs twirled to Werner first)."""
    fa, fb = a[0], b[0]
    wa = (fa, (1 - fa) / 3, (1 - fa) / 3, (1 - fa) / 3)
    wb = (fb, (1 - fb) / 3, (1 - fb) / 3, (1 - fb) / 3)
    return _recurrence(wa, wb, gate_fidelity, measurement_error)


def dejmps(a: Bell, b: Bell, gate_fidelity: float = 1.0, measurement_error: float = 0.0):
    """One DEJMPS round: ``(kept state, p_success)`` (Psi- and Phi- weights exchanged first)."""
    return _recurrence(
        (a[0], a[1], a[3], a[2]), (b[0], b[1], b[3], b[2]), gate_fidelity, measurement_error
    )
