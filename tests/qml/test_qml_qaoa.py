"""QAOA max-cut: expectation equals the brute-force cut average; topology graphs; solver."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pennylane")

from qnetai.qml.qaoa import (
    cut_values,
    maxcut_graph,
    qaoa_expected_cut,
    qaoa_probabilities,
    solve_maxcut,
)


def test_expectation_equals_brute_force_cut_average_for_fixed_angles() -> None:
    g = maxcut_graph("waxman", 6, seed=2)
    gammas, betas = [0.4, 1.1], [0.3, -0.2]
    p = qaoa_probabilities(g, gammas, betas)
    brute = float(p @ cut_values(g))
    assert p.sum() == pytest.approx(1.0)
    assert qaoa_expected_cut(g, gammas, betas) == pytest.approx(brute, abs=1e-10)
    # PennyLane's own QAOA layers give the same state (up to a global phase)
    assert qaoa_expected_cut(g, gammas, betas, templates=True) == pytest.approx(brute, abs=1e-10)
    lightning = qaoa_expected_cut(g, gammas, betas, device_name="lightning.qubit")
    assert lightning == pytest.approx(brute, abs=1e-7)  # its Hamiltonian expval: ~1e-8 off


def test_zero_angles_give_the_random_cut() -> None:
    g = maxcut_graph("waxman", 5, seed=0)
    assert qaoa_expected_cut(g, [0.0], [0.0]) == pytest.approx(g.number_of_edges() / 2)


def test_p1_closed_form_on_a_triangle_free_graph() -> None:
    """Wang et al. 2018: on a triangle-free graph each edge uv contributes
    1/2 + 1/4 sin(4b) sin(g) (cos^(du-1) g + cos^(dv-1) g) for p = 1 (here b -> -b: the
    mixer convention of RX(2b) = exp(-i b X))."""
    g = maxcut_graph("grid", 6)  # bipartite: no triangles
    gamma, beta = 0.7, 0.35
    deg = dict(g.degree())
    expect = sum(
        0.5
        - 0.25
        * np.sin(4 * beta)
        * np.sin(gamma)
        * (np.cos(gamma) ** (deg[u] - 1) + np.cos(gamma) ** (deg[v] - 1))
        for u, v in g.edges()
    )
    assert qaoa_expected_cut(g, [gamma], [beta]) == pytest.approx(expect, abs=1e-10)


def test_graphs_from_topologies_and_brute_force() -> None:
    import networkx as nx

    g = maxcut_graph("grid", 9)
    assert nx.is_bipartite(g) and int(cut_values(g).max()) == g.number_of_edges()
    w = maxcut_graph("waxman", 8, seed=1)
    assert nx.is_connected(w) and sorted(w.nodes()) == list(range(8))


def test_solver_ratios_bounded_and_reproducible() -> None:
    g = maxcut_graph("waxman", 5, seed=3)
    a = solve_maxcut(g, depth=1, restarts=1, steps=15, rng=np.random.default_rng(0))
    b = solve_maxcut(g, depth=1, restarts=1, steps=15, rng=np.random.default_rng(0))
    assert a["qaoa"]["gammas"] == b["qaoa"]["gammas"]
    assert 0.5 <= a["qaoa"]["expected_ratio"] <= 1.0 + 1e-9
    assert a["local_search"]["ratio"] <= 1.0 and a["product_ansatz"]["expected_ratio"] <= 1 + 1e-9
