"""The built-in metro-6g scenario is valid and physically sensible."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from qnetai.config import builtin_scenario
from qnetai.topology import resolve, to_graph

METRO_KINDS = {"repeater", "qkd_terminal"}


@pytest.fixture(scope="module")
def metro():
    return resolve(builtin_scenario("metro-6g"))


def test_shape_of_the_network(metro):
    kinds = [n.kind for n in metro.nodes]
    assert 6 <= sum(k in METRO_KINDS for k in kinds) <= 8
    assert 4 <= kinds.count("end_user") <= 6
    assert kinds.count("ground_station") == 1
    graph = to_graph(metro)
    assert nx.is_connected(graph)
    core = graph.subgraph(n.name for n in metro.nodes if n.kind in METRO_KINDS)
    assert nx.is_connected(core)
    assert len(nx.cycle_basis(core)) >= 2  # a ring with chords, not a tree


def test_links_are_realistic(metro):
    nodes = {n.name: n for n in metro.nodes}
    for link in metro.links:
        a, b = (nodes[e] for e in link.endpoints)
        straight = math.dist(a.position_km, b.position_km)
        if link.kind == "fibre":
            assert link.attenuation_db_per_km == 0.2
            # fibre runs are no shorter than the straight line and not absurdly longer
            assert straight <= link.length_km <= 1.5 * straight + 1.0
            if a.kind in METRO_KINDS and b.kind in METRO_KINDS:
                assert 5.0 <= link.length_km <= 30.0
        else:
            assert link.length_km == pytest.approx(straight, rel=0.02)
    free_space = [lk for lk in metro.links if lk.kind == "free_space"]
    assert len(free_space) == 1
    fso = free_space[0]
    assert "ground_station" in {nodes[e].kind for e in fso.endpoints}
    assert fso.free_space.loss_variation is not None
    assert fso.free_space.loss_variation.amplitude_db > 0
    schemes = [lk.scheme for lk in metro.links]
    assert schemes.count("double_click") > len(schemes) / 2
    assert sum(lk.qkd for lk in metro.links) >= 2


def test_memories_traffic_and_duration(metro):
    for node in metro.nodes:
        assert 0.1 <= node.memory.t_coh_s <= 1.0
        assert 10 <= node.memory_qubits <= 50
    users = {n.name for n in metro.nodes if n.kind == "end_user"}
    flows = metro.traffic.requests
    assert flows and any(r.source in users and r.destination in users for r in flows)
    for r in flows:
        assert 0.5 <= r.min_fidelity <= 0.7
        assert r.arrival.process == "poisson"
    assert metro.traffic.random is not None
    assert 1.0 <= metro.duration_s <= 2.0
    assert metro.seed > 0
    assert "6G" in metro.description and len(metro.description) > 200


def test_links_can_carry_the_demand(metro):
    from qnetai.control.engine_policies import engine_link_models
    from qnetai.facade import link_figures

    models = engine_link_models(metro)
    rates = {}
    for link in metro.links:
        figures = link_figures(models[link.endpoints])
        assert 0.0 < figures["transmittance"] < 1.0
        assert figures["herald_fidelity"] > 0.9
        rates[link.name] = figures["rate_hz"]
    demand_hz = sum(r.arrival.rate_hz * r.pairs_per_request for r in metro.traffic.requests)
    # every link generates well above the busiest flow's rate; the total demand is hundreds
    # to thousands of pairs over the run
    assert min(rates.values()) > 1000.0
    assert 300 < demand_hz * metro.duration_s < 10_000
