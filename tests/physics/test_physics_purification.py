"""BBPSSW and DEJMPS: published closed forms and 4-qubit density-matrix circuits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qnetai.physics import bbpssw, bell_to_density, dejmps, density_to_bell, werner
from qnetai.physics.density import (
    CNOT,
    H,
    apply_operator,
    depolarise_qubits,
    kron_states,
    partial_trace,
    project,
    rx,
    trace,
)

# our order (Phi+, Psi+, Psi-, Phi-); Deutsch et al. letters A=Phi+, B=Psi-, C=Psi+, D=Phi-
A, C, B, D = 0, 1, 2, 3


def single_qubit_cliffords():
    """The 24 single-qubit Cliffords (mod phase), generated from H and S."""
    s = np.diag([1, 1j])
    found, frontier = [np.eye(2, dtype=complex)], [np.eye(2, dtype=complex)]

    def known(u):
        return any(abs(abs(np.trace(v.conj().T @ u)) - 2) < 1e-9 for v in found)

    while frontier:
        nxt = []
        for u in frontier:
            for gen in (H, s):
                v = gen @ u
                if not known(v):
                    found.append(v)
                    nxt.append(v)
        frontier = nxt
    assert len(found) == 24
    return found


CLIFFORDS = single_qubit_cliffords()


def isotropic_twirl(rho):
    """(1/24) sum_C (C x C*) rho (C x C*)^dagger: turns any pair into a Werner state."""
    return sum(apply_operator(rho, np.kron(u, u.conj()), [0, 1], 2) for u in CLIFFORDS) / 24


def simulate_recurrence(rho1, rho2, g, e, rotate):
    """Qubits (A1, B1, A2, B2): pair 1 = (A1, B1) control, pair 2 = (A2, B2) target."""
    rho = kron_states(rho1, rho2)
    if rotate:  # DEJMPS: Alice Rx(pi/2), Bob Rx(-pi/2) on both her/his qubits
        for q, sign in ((0, 1), (2, 1), (1, -1), (3, -1)):
            rho = apply_operator(rho, rx(sign * np.pi / 2), [q], 4)
    rho = depolarise_qubits(apply_operator(rho, CNOT, [0, 2], 4), g, [0, 2], 4)
    rho = depolarise_qubits(apply_operator(rho, CNOT, [1, 3], 4), g, [1, 3], 4)
    kept = np.zeros((4, 4), complex)
    for ma, mb in itertools.product((0, 1), repeat=2):
        branch = partial_trace(project(project(rho, 2, ma, 4), 3, mb, 4), [0, 1], 4)
        for ra, rb in itertools.product((0, 1), repeat=2):
            if ra != rb:
                continue
            prob = (e if ra != ma else 1 - e) * (e if rb != mb else 1 - e)
            kept += prob * branch
    p_success = trace(kept)
    return density_to_bell(kept / p_success), p_success


def test_bbpssw_published_numbers_at_f09():
    out, p = bbpssw(werner(0.9), werner(0.9))
    assert round(float(p), 4) == 0.8756
    assert round(float(out[0]), 4) == 0.9264


def test_bbpssw_bennett_closed_form():
    f = np.linspace(0.3, 1.0, 15)
    out, p = bbpssw(werner(f), werner(f))
    n = f**2 + 2 * f * (1 - f) / 3 + 5 * (1 - f) ** 2 / 9
    assert np.allclose(p, n)
    assert np.allclose(out[:, 0], (f**2 + (1 - f) ** 2 / 9) / n)


def test_dejmps_deutsch_map_in_our_order():
    rng = np.random.default_rng(21)
    p = rng.dirichlet(np.ones(4), size=50)
    out, succ = dejmps(p, p)
    a, b, c, d = p[:, A], p[:, B], p[:, C], p[:, D]
    n = (a + b) ** 2 + (c + d) ** 2
    assert np.allclose(succ, n)
    assert np.allclose(out[:, A], (a**2 + b**2) / n)
    assert np.allclose(out[:, B], 2 * c * d / n)
    assert np.allclose(out[:, C], (c**2 + d**2) / n)
    assert np.allclose(out[:, D], 2 * a * b / n)


@pytest.mark.parametrize(("g", "e"), [(1.0, 0.0), (0.9, 0.0), (1.0, 0.05), (0.8, 0.15)])
def test_dejmps_matches_circuit(g, e):
    rng = np.random.default_rng(22)
    for _ in range(3):
        p1, p2 = rng.dirichlet(np.ones(4), size=2)
        ref, ref_p = simulate_recurrence(bell_to_density(p1), bell_to_density(p2), g, e, True)
        out, succ = dejmps(p1, p2, gate_fidelity=g, measurement_error=e)
        assert np.allclose(out, ref, atol=1e-12)
        assert np.isclose(succ, ref_p)


@pytest.mark.parametrize(("g", "e"), [(1.0, 0.0), (0.85, 0.1)])
def test_bbpssw_matches_twirl_then_circuit(g, e):
    rng = np.random.default_rng(23)
    for _ in range(3):
        p1, p2 = rng.dirichlet(np.ones(4), size=2)
        r1 = isotropic_twirl(bell_to_density(p1))
        r2 = isotropic_twirl(bell_to_density(p2))
        ref, ref_p = simulate_recurrence(r1, r2, g, e, False)
        out, succ = bbpssw(p1, p2, gate_fidelity=g, measurement_error=e)
        assert np.allclose(out, ref, atol=1e-12)
        assert np.isclose(succ, ref_p)


def test_purification_vectorises_and_noise_hurts():
    f = np.full((2, 3), 0.85)
    g = np.array([1.0, 0.98, 0.95])
    out, p = dejmps(werner(f), werner(f), gate_fidelity=g)
    assert out.shape == (2, 3, 4)
    assert p.shape == (2, 3)
    assert np.all(np.diff(out[0, :, 0]) < 0)
    assert np.allclose(out.sum(-1), 1)
    # measurement noise lowers the output fidelity too
    clean, _ = bbpssw(werner(0.85), werner(0.85))
    noisy, _ = bbpssw(werner(0.85), werner(0.85), measurement_error=0.05)
    assert noisy[0] < clean[0]


def test_certain_failure_is_reported_not_nan():
    out, p = dejmps([1, 0, 0, 0], [0, 1, 0, 0])
    assert p == 0
    assert np.allclose(out, 0.25)
