"""QAOA on a path-allocation QUBO: energies, feasibility, expectation vs brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("pennylane")

from qnetai.errors import InputError
from qnetai.qml.allocation import (
    allocation_energies,
    allocation_instance,
    allocation_objective,
    greedy_allocation,
    is_feasible,
    qaoa_allocation_expectation,
    qaoa_allocation_probabilities,
    solve_allocation,
)


@pytest.fixture(scope="module")
def inst():  # type: ignore[no-untyped-def]
    return allocation_instance("grid", 6, n_requests=3, n_paths=2, seed=0)


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    return allocation_instance("grid", 6, n_requests=2, n_paths=2, seed=0)


def test_qubo_energy_equals_the_allocation_objective_for_every_assignment(inst) -> None:  # type: ignore[no-untyped-def]
    energies = allocation_energies(inst)
    n = inst.n_vars
    for k, x in enumerate(itertools.product((0, 1), repeat=n)):  # same bit order
        assert energies[k] == pytest.approx(allocation_objective(inst, x), abs=1e-12)
        if is_feasible(inst, x):  # feasible: minus the served value, from the paths
            value = sum(v[3] for v, b in zip(inst.variables, x, strict=True) if b)
            assert energies[k] == pytest.approx(-value, abs=1e-12)


def test_qubo_minimum_is_the_best_feasible_allocation(inst) -> None:  # type: ignore[no-untyped-def]
    """Independent enumeration: one of {none, path 1, path 2, ...} per request, links <= 1."""
    by_request: dict[int, list[int]] = {}
    for i, v in enumerate(inst.variables):
        by_request.setdefault(v[0], []).append(i)
    best = 0.0
    for choice in itertools.product(*[[None, *ids] for ids in by_request.values()]):
        used = [e for i in choice if i is not None for e in inst.variables[i][2]]
        if len(used) == len(set(used)):
            best = max(best, sum(inst.variables[i][3] for i in choice if i is not None))
    assert -allocation_energies(inst).min() == pytest.approx(best, abs=1e-12)


def test_qaoa_expectation_equals_brute_force_for_fixed_angles(small) -> None:  # type: ignore[no-untyped-def]
    inst = small
    gammas, betas = [0.7, 0.3], [0.4, -0.9]
    p = qaoa_allocation_probabilities(inst, gammas, betas)
    energies = allocation_energies(inst)
    assert p.sum() == pytest.approx(1.0)
    assert qaoa_allocation_expectation(inst, gammas, betas) == pytest.approx(p @ energies, abs=1e-9)
    # independent state vector: |+>^n, phases exp(-i g E(z)/s) on the diagonal, RX(2b) mixer
    n, s = inst.n_vars, float(np.abs(inst.Q).max())
    psi = np.full(2**n, 2 ** (-n / 2), dtype=complex)
    for g, b in zip(gammas, betas, strict=True):
        psi = psi * np.exp(-1j * g * energies / s)
        rx = np.array([[np.cos(b), -1j * np.sin(b)], [-1j * np.sin(b), np.cos(b)]])
        mixer = rx
        for _ in range(n - 1):
            mixer = np.kron(mixer, rx)
        psi = mixer @ psi
    assert np.allclose(np.abs(psi) ** 2, p, atol=1e-10)


def test_greedy_is_feasible_and_solver_reports_ratios(inst, small) -> None:  # type: ignore[no-untyped-def]
    assert is_feasible(inst, greedy_allocation(inst))
    inst = small
    out = solve_allocation(
        inst,
        depth=1,
        restarts=1,
        steps=3,
        rng=np.random.default_rng(0),
        device_name="default.qubit",
    )
    assert out["n_qubits"] == inst.n_vars
    assert 0 < out["greedy"]["ratio"] <= 1 + 1e-12
    assert out["qaoa"]["expected_energy_ratio"] <= 1 + 1e-9
    assert 0 <= out["qaoa"]["p_optimal"] <= out["qaoa"]["p_feasible"] <= 1 + 1e-12


def test_bad_instance_is_an_input_error() -> None:
    with pytest.raises(InputError, match="kind"):
        allocation_instance("ring", 6)
    with pytest.raises(InputError, match="penalty_factor"):
        allocation_instance("grid", 6, penalty_factor=0.5)
