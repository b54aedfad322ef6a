"""Entanglement swapping against a 4-qubit density-matrix simulation of the circuit."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import (
    bell_to_density,
    density_to_bell,
    fidelity_from_werner_parameter,
    swap,
    werner,
    werner_parameter,
)
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
)


def simulate_swap(p1, p2, g, e):
    """Qubits (A, B1, B2, C); batched over the leading axis of p1, p2, g, e."""
    rho = kron_states(bell_to_density(p1), bell_to_density(p2))
    rho = apply_operator(rho, CNOT, [1, 2], 4)
    rho = depolarise_qubits(rho, g[:, None, None], [1, 2], 4)
    rho = apply_operator(rho, H, [1], 4)
    out = np.zeros((*rho.shape[:-2], 4, 4), complex)
    for m1 in (0, 1):
        for m2 in (0, 1):
            branch = partial_trace(project(project(rho, 1, m1, 4), 2, m2, 4), [0, 3], 4)
            for r1 in (0, 1):
                for r2 in (0, 1):
                    prob = (e if r1 != m1 else 1 - e) * (e if r2 != m2 else 1 - e)
                    corr = np.linalg.matrix_power(X, r2) @ np.linalg.matrix_power(Z, r1)
                    out += prob[:, None, None] * apply_operator(branch, corr, [1], 2)
    return density_to_bell(out)


def test_swap_matches_circuit_for_random_inputs_and_noise():
    rng = np.random.default_rng(11)
    n = 24
    p1 = rng.dirichlet(np.ones(4), size=n)
    p2 = rng.dirichlet(np.ones(4), size=n)
    g = rng.uniform(0.7, 1.0, size=n)
    e = rng.uniform(0.0, 0.3, size=n)
    g[:3], e[:3] = 1.0, 0.0  # include the noiseless case
    got = swap(p1, p2, gate_fidelity=g, measurement_error=e)
    assert got.shape == (n, 4)
    assert np.allclose(got, simulate_swap(p1, p2, g, e), atol=1e-12)


def test_noiseless_pure_bell_pairs_swap_perfectly():
    one = np.eye(4)
    for i in range(4):
        for j in range(4):
            got = simulate_swap(one[i][None], one[j][None], np.ones(1), np.zeros(1))[0]
            assert np.allclose(got, swap(one[i], one[j]))
            assert np.isclose(got.max(), 1.0)
    assert np.allclose(simulate_swap(one[:1], one[:1], np.ones(1), np.zeros(1))[0], one[0])


def test_werner_parameters_multiply():
    f1 = np.array([0.99, 0.9, 0.75, 0.6])
    f2 = np.array([0.95, 0.8, 0.9, 0.5])
    out = swap(werner(f1), werner(f2))
    expect = fidelity_from_werner_parameter(werner_parameter(f1) * werner_parameter(f2))
    assert np.allclose(out, werner(expect))


def test_gate_noise_and_broadcasting():
    p = werner(0.9)
    g = np.array([1.0, 0.9, 0.5])
    out = swap(p, p, gate_fidelity=g)
    w = werner_parameter(0.9) ** 2 * g
    assert np.allclose(out[:, 0], fidelity_from_werner_parameter(w))
    batch = swap(werner(np.full((2, 3), 0.9)), p, measurement_error=np.array([0, 0.1, 0.2]))
    assert batch.shape == (2, 3, 4)
    with pytest.raises(InputError, match="gate_fidelity must be in"):
        swap(p, p, gate_fidelity=1.2)
