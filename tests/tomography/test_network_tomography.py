"""Network tomography: path products, identifiability, estimates against the truth."""

import networkx as nx
import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics.bell import werner, werner_parameter
from qnetai.physics.operations import swap
from qnetai.tomography.network import (
    NetworkTomography,
    bench_network_tomography,
    estimate_links,
    identifiability,
    measure_paths,
    network_tomography_problem,
)


def _line(n):
    g = nx.path_graph(n)
    for a, b in g.edges:
        g.edges[a, b]["name"] = f"l{a}"
    return g


def test_path_product_matches_chained_swaps():
    g = _line(4)
    prob = network_tomography_problem(g, monitors=[0, 3], paths_per_pair=1)
    w = np.array([0.9, 0.8, 0.95])
    fids = (1 + 3 * w) / 4
    state = werner(fids[0])
    for f in fids[1:]:
        state = swap(state, werner(f))
    assert np.isclose(prob.path_werner(w)[0], werner_parameter(state[0]))


def test_identifiability_of_a_line_and_a_ring():
    line = network_tomography_problem(_line(4), monitors=[0, 3])
    ident = identifiability(line)
    assert ident["rank"] == 1 and sorted(ident["unidentifiable"]) == ["l0", "l1", "l2"]
    assert ident["together"] == [["l0", "l1", "l2"]]
    everyone = network_tomography_problem(_line(4))  # all nodes monitor
    assert identifiability(everyone)["unidentifiable"] == []
    ring = nx.cycle_graph(5)
    for a, b in ring.edges:
        ring.edges[a, b]["name"] = f"r{a}{b}"
    prob = network_tomography_problem(ring, monitors=[0, 2], paths_per_pair=2)
    assert identifiability(prob)["rank"] == 2


def test_estimates_converge_to_truth():
    prob = network_tomography_problem(_line(5))
    truth = np.array([0.95, 0.7, 0.9, 0.85])
    k = measure_paths(prob, truth, shots=200_000, rng=np.random.default_rng(0))
    for method in ("lsq", "ml"):
        est = estimate_links(prob, k, 200_000, method=method)
        assert np.abs(est - truth).max() < 0.01
    with pytest.raises(InputError, match="method"):
        estimate_links(prob, k, 10, method="magic")


def test_bench_runs_and_refuses_bad_input():
    pytest.importorskip("sklearn")
    out = bench_network_tomography(_line(4), shots=500, trials=3, seed=1, n_train=200)
    assert [r["estimator"] for r in out["rows"]] == ["lsq", "ml", "learned"]
    assert out["identifiability"]["unidentifiable"] == []
    with pytest.raises(InputError, match="monitor"):
        network_tomography_problem(_line(3), monitors=[0])
    with pytest.raises(InputError, match="trials"):
        bench_network_tomography(_line(3), trials=0)
    single = NetworkTomography(("a",), (("x", "y"),), np.ones((1, 1)))
    assert identifiability(single)["unidentifiable"] == []
