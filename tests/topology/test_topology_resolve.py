"""resolve() and to_graph(): expansion, naming and reference checks."""

from __future__ import annotations

import networkx as nx
import pytest

from qnetai.config import scenario_from_dict
from qnetai.errors import InputError
from qnetai.topology import resolve, summarise, to_graph


def scenario(**fields):
    return scenario_from_dict(fields)


def resolve_error(**fields) -> str:
    with pytest.raises(InputError) as info:
        resolve(scenario(**fields))
    return str(info.value)


def test_topology_and_explicit_entries_are_combined():
    s = scenario(
        topology={"builder": "line", "nodes": 3, "node": {"name": "r"}},
        nodes=[{"name": "extra", "kind": "end_user"}],
        links=[
            {"endpoints": ["r2", "extra"], "length_km": 4},
            {"endpoints": ["r0", "extra"], "name": "spur"},
        ],
        traffic={"requests": [{"source": "r0", "destination": "extra"}]},
    )
    r = resolve(s)
    assert r.topology is None
    assert [n.name for n in r.nodes] == ["r0", "r1", "r2", "extra"]
    assert [lk.name for lk in r.links] == ["r0-r1", "r1-r2", "r2-extra", "spur"]
    assert r.links[2].length_km == 4
    assert resolve(r) == r  # idempotent
    assert r.traffic == s.traffic and r.seed == s.seed


def test_generated_name_avoids_explicit_names():
    r = resolve(
        scenario(
            nodes=[{"name": "A"}, {"name": "B"}, {"name": "C"}],
            links=[{"endpoints": ["B", "C"], "name": "A-B"}, {"endpoints": ["A", "B"]}],
        )
    )
    assert [lk.name for lk in r.links] == ["A-B", "A-B#2"]


def test_waxman_seed_comes_from_scenario_unless_topology_sets_it():
    def links(seed, topo_seed=None):
        topo = {"builder": "waxman", "nodes": 40}
        if topo_seed is not None:
            topo["seed"] = topo_seed
        return resolve(scenario(seed=seed, topology=topo)).links

    assert links(1) == links(1)
    assert links(1) != links(2)
    assert links(1, topo_seed=9) == links(2, topo_seed=9)


def test_unknown_link_endpoint_names_path_and_known_nodes():
    message = resolve_error(nodes=[{"name": "A"}, {"name": "B"}], links=[{"endpoints": ["A", "X"]}])
    assert message == (
        "invalid scenario 'scenario': links[0].endpoints[1]: unknown node 'X' (known: A, B)"
    )


def test_unknown_traffic_node():
    message = resolve_error(
        topology={"builder": "ring", "nodes": 20},
        traffic={"requests": [{"source": "X", "destination": "n1"}]},
    )
    assert "traffic.requests[0].source: unknown node 'X' (known: n0, n1, n2," in message
    assert "... (20 nodes)" in message


def test_duplicate_nodes_and_links_and_all_problems_together():
    message = resolve_error(
        topology={"builder": "line", "nodes": 3},
        nodes=[{"name": "A"}, {"name": "A"}, {"name": "n1"}],
        links=[
            {"endpoints": ["A", "n0"], "name": "x"},
            {"endpoints": ["n0", "A"]},
            {"endpoints": ["n1", "n2"]},
            {"endpoints": ["A", "n2"], "name": "x"},
        ],
        traffic={"requests": [{"source": "A", "destination": "Q"}]},
    )
    lines = message.splitlines()
    assert "6 problems" in lines[0]
    assert "  nodes[1].name: duplicate node name 'A' (also nodes[0])" in lines
    assert any(
        line.startswith(
            "  nodes[2].name: duplicate node name 'n1' (also a node made by the topology builder"
        )
        for line in lines
    )
    assert any(
        line.startswith("  links[1].endpoints: duplicate link between 'n0' and 'A' (also links[0])")
        for line in lines
    )
    assert any(
        line.startswith(
            "  links[2].endpoints: duplicate link between 'n1' and 'n2' (also topology)"
        )
        for line in lines
    )
    assert "  links[3].name: duplicate link name 'x' (also links[0])" in lines
    assert any(
        line.startswith("  traffic.requests[0].destination: unknown node 'Q'") for line in lines
    )


def test_random_traffic_needs_two_eligible_nodes():
    message = resolve_error(
        nodes=[{"name": "A", "kind": "end_user"}, {"name": "B"}],
        links=[{"endpoints": ["A", "B"]}],
        traffic={"random": {"node_kinds": ["end_user"]}},
    )
    assert (
        "traffic.random.node_kinds: random traffic needs at least two nodes of kinds "
        "end_user (found 1: 'A')" in message
    )
    ok = scenario(
        topology={"builder": "grid", "nodes": 9, "end_user_fraction": 0.3},
        traffic={"random": {"node_kinds": ["end_user"]}},
    )
    assert sum(n.kind == "end_user" for n in resolve(ok).nodes) == 3


def test_to_graph_attributes():
    s = scenario(topology={"builder": "star", "nodes": 5, "spacing_km": 7.0})
    g = to_graph(s)
    assert g.graph["name"] == "scenario"
    assert nx.is_connected(g) and g.number_of_edges() == 4
    data = g.edges["n0", "n3"]
    assert data["length_km"] == pytest.approx(7.0)
    assert data["spec"].endpoints == ("n0", "n3") and data["name"] == "n0-n3"
    assert g.nodes["n0"]["spec"].name == "n0" and g.nodes["n0"]["kind"] == "repeater"
    assert g.nodes["n2"]["pos"] == g.nodes["n2"]["spec"].position_km


def test_summary_counts():
    s = scenario(
        topology={"builder": "ring", "nodes": 6, "spacing_km": 10.0},
        traffic={
            "requests": [{"source": "n0", "destination": "n3", "count": 4}],
            "random": {"count": 10, "node_kinds": ["repeater"]},
        },
    )
    summary = summarise(s)
    assert (summary["nodes"], summary["links"], summary["requests"]) == (6, 6, 14)
    assert summary["fibre_km"] == pytest.approx(60.0)
    assert summary["topology"] == "ring"
