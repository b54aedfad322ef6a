"""Topology builders: counts, degrees, lengths, connectivity, reproducibility."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from qnetai.config import LinkSpec, MemorySpec, NodeSpec
from qnetai.errors import InputError
from qnetai.topology import connect_components, grid, line, ring, star, waxman, waxman_edges


def as_graph(nodes, links) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(n.name for n in nodes)
    g.add_edges_from(lk.endpoints for lk in links)
    return g


def assert_lengths_are_distances(nodes, links):
    pos = {n.name: n.position_km for n in nodes}
    for lk in links:
        a, b = lk.endpoints
        assert lk.length_km == pytest.approx(math.dist(pos[a], pos[b]), abs=2e-6)
        assert lk.name == f"{a}-{b}"


def test_line():
    nodes, links = line(5, spacing_km=12.5)
    g = as_graph(nodes, links)
    assert [n.name for n in nodes] == ["n0", "n1", "n2", "n3", "n4"]
    assert len(links) == 4 and nx.is_connected(g)
    assert sorted(d for _, d in g.degree()) == [1, 1, 2, 2, 2]
    assert [lk.length_km for lk in links] == [12.5] * 4
    assert [n.kind for n in nodes] == ["end_user", "repeater", "repeater", "repeater", "end_user"]
    assert_lengths_are_distances(nodes, links)


@pytest.mark.parametrize("n", [3, 4, 7, 12])
def test_ring(n):
    nodes, links = ring(n, spacing_km=10.0)
    g = as_graph(nodes, links)
    assert len(links) == n and nx.is_connected(g)
    assert all(d == 2 for _, d in g.degree())
    assert [lk.length_km for lk in links] == pytest.approx([10.0] * n, abs=2e-6)
    assert_lengths_are_distances(nodes, links)


def test_ring_of_two_is_one_link():
    _, links = ring(2, spacing_km=10.0)
    assert len(links) == 1 and links[0].length_km == pytest.approx(10.0)


def test_star():
    nodes, links = star(6, spacing_km=8.0, end_user_fraction=0.5)
    g = as_graph(nodes, links)
    assert g.degree("n0") == 5 and all(g.degree(f"n{i}") == 1 for i in range(1, 6))
    assert [lk.length_km for lk in links] == pytest.approx([8.0] * 5, abs=2e-6)
    assert nodes[0].kind == "repeater"  # the hub stays a repeater
    assert sum(n.kind == "end_user" for n in nodes) == 3
    assert_lengths_are_distances(nodes, links)


@pytest.mark.parametrize(("n", "rows", "edges"), [(12, 3, 17), (9, None, 12), (10, None, 13)])
def test_grid(n, rows, edges):
    nodes, links = grid(n, rows=rows, spacing_km=5.0)
    g = as_graph(nodes, links)
    assert len(nodes) == n and len(links) == edges and nx.is_connected(g)
    assert max(d for _, d in g.degree()) <= 4
    assert [lk.length_km for lk in links] == [5.0] * edges
    assert_lengths_are_distances(nodes, links)


def test_templates_are_copied():
    node = NodeSpec(name="r", kind="qkd_terminal", memory_qubits=33, memory=MemorySpec(t_coh_s=0.3))
    link = LinkSpec(endpoints=("x", "y"), multiplexing=7, qkd=True, name="ignored")
    nodes, links = ring(4, node=node, link=link, end_user_fraction=0.5)
    assert [n.name for n in nodes] == ["r0", "r1", "r2", "r3"]
    assert {n.kind for n in nodes} == {"qkd_terminal", "end_user"}
    assert all(n.memory_qubits == 33 and n.memory.t_coh_s == 0.3 for n in nodes)
    assert all(lk.multiplexing == 7 and lk.qkd for lk in links)
    # the fast copies equal fully validated models
    for spec in [*nodes, *links]:
        assert type(spec).model_validate(spec.model_dump()) == spec


def test_waxman_is_reproducible_and_connected():
    kwargs = {"area_km": 200.0, "alpha": 0.05, "beta": 0.3, "end_user_fraction": 0.2}
    nodes, links = waxman(300, rng=11, **kwargs)
    again = waxman(300, rng=np.random.default_rng(11), **kwargs)
    other = waxman(300, rng=12, **kwargs)
    assert (nodes, links) == again
    assert links != other[1]
    g = as_graph(nodes, links)
    assert g.number_of_nodes() == 300 and nx.is_connected(g)
    assert_lengths_are_distances(nodes, links)
    xy = np.array([n.position_km for n in nodes])
    assert xy.min() >= 0 and xy.max() <= 200.0
    # end users are the nodes of lowest degree
    users = [n.name for n in nodes if n.kind == "end_user"]
    assert len(users) == 60
    assert max(g.degree(u) for u in users) <= min(
        g.degree(n.name) for n in nodes if n.kind != "end_user"
    )


def test_connect_components_adds_the_shortest_joins():
    pos = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0], [30.0, 0.0]])
    edges = connect_components(pos, np.array([[0, 1], [2, 3]]))
    assert sorted(map(tuple, edges.tolist())) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_sparse_waxman_needs_and_gets_joins():
    gen = np.random.default_rng(3)
    pos = gen.uniform(0, 500.0, size=(400, 2))
    raw = waxman_edges(pos, alpha=0.02, beta=0.3, rng=gen)
    g = nx.Graph()
    g.add_nodes_from(range(400))
    g.add_edges_from(raw.tolist())
    assert nx.number_connected_components(g) > 1
    g.add_edges_from(connect_components(pos, raw).tolist())
    assert nx.is_connected(g)


def test_waxman_edge_count_matches_the_probability_law():
    gen = np.random.default_rng(5)
    n, alpha, beta = 400, 0.1, 0.5
    pos = gen.uniform(0, 100.0, size=(n, 2))
    edges = waxman_edges(pos, alpha=alpha, beta=beta, rng=gen)
    assert np.all(edges[:, 0] < edges[:, 1])
    assert len({tuple(e) for e in edges.tolist()}) == len(edges)
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    iu = np.triu_indices(n, 1)
    p = beta * np.exp(-d[iu] / (alpha * d.max()))
    mean, sd = p.sum(), math.sqrt((p * (1 - p)).sum())
    assert abs(len(edges) - mean) < 4 * sd
    # and the short links are over-represented as the law says
    lengths = d[edges[:, 0], edges[:, 1]]
    expected_mean_length = (p * d[iu]).sum() / p.sum()
    assert lengths.mean() == pytest.approx(expected_mean_length, rel=0.05)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: line(1), "number of nodes must be an integer >= 2"),
        (lambda: ring(4, spacing_km=0.0), "spacing_km must be > 0"),
        (lambda: grid(4, rows=0), "rows must be an integer >= 1"),
        (lambda: waxman(10, beta=1.5), r"beta must be in \(0, 1\]"),
        (lambda: star(5, end_user_fraction=2.0), r"end_user_fraction must be in \[0, 1\]"),
    ],
)
def test_bad_parameters(call, message):
    with pytest.raises(InputError, match=message):
        call()
