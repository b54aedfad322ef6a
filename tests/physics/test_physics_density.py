"""The density-matrix reference tools themselves, on textbook cases."""

from __future__ import annotations

import numpy as np

from qnetai.physics.density import (
    CNOT,
    H,
    X,
    Z,
    apply_operator,
    depolarise_qubits,
    kron_states,
    partial_trace,
    project,
    rx,
    trace,
)


def test_bell_preparation_and_partial_trace():
    rho = np.zeros((4, 4))
    rho[0, 0] = 1
    rho = apply_operator(apply_operator(rho, H, [0], 2), CNOT, [0, 1], 2)
    phi = np.array([1, 0, 0, 1]) / np.sqrt(2)
    assert np.allclose(rho, np.outer(phi, phi))
    assert np.allclose(partial_trace(rho, [1], 2), np.eye(2) / 2)


def test_gate_on_reversed_qubits_and_kron_order():
    ket1 = np.diag([0.0, 1.0])
    ket0 = np.diag([1.0, 0.0])
    rho = kron_states(ket0, ket1)  # |01>
    # CNOT with control qubit 1 and target qubit 0 flips qubit 0
    out = apply_operator(rho, CNOT, [1, 0], 2)
    assert np.allclose(out, kron_states(ket1, ket1))
    assert np.allclose(
        partial_trace(kron_states(ket0, ket1, ket0), [0, 2], 3), kron_states(ket0, ket0)
    )


def test_depolarising_equals_partial_trace_formula_and_batches():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(2, 8, 8)) + 1j * rng.normal(size=(2, 8, 8))
    rho = g @ g.conj().transpose(0, 2, 1)
    rho /= trace(rho)[:, None, None]
    out = depolarise_qubits(rho, 0.3, [0, 2], 3)
    reduced = partial_trace(rho, [1], 3)
    mixed = np.einsum("ab,...cd,ef->...acebdf", np.eye(2) / 2, reduced, np.eye(2) / 2)
    assert np.allclose(out, 0.3 * rho + 0.7 * mixed.reshape(2, 8, 8))


def test_projection_and_rotation():
    plus = np.full((2, 2), 0.5)
    assert np.isclose(trace(project(plus, 0, 1, 1)), 0.5)
    assert np.allclose(rx(np.pi / 2) @ rx(-np.pi / 2), np.eye(2))
    assert np.allclose(apply_operator(plus, Z, [0], 1), np.full((2, 2), 0.5) * [[1, -1], [-1, 1]])
    assert np.allclose(apply_operator(plus, X, [0], 1), plus)
