import networkx as nx
import pytest

from qnetai.control import RoutingPolicy, ShortestPathPolicy, builtin_routing_policies
from qnetai.errors import InputError
from qnetai.plugins import available_routing_policies, routing_policy


def get_policy(name, **options):
    return routing_policy(name, options=options)


def _graph():
    g = nx.Graph()
    g.add_edge("A", "B", length_km=10.0)
    g.add_edge("B", "C", length_km=10.0)
    g.add_edge("C", "D", length_km=10.0)
    g.add_edge("A", "D", length_km=100.0)
    g.add_node("Z")
    return g


def test_hops_and_length_metrics():
    g = _graph()
    assert get_policy("shortest-path").choose_path(g, "A", "D", state=None) == ["A", "D"]
    by_len = get_policy("shortest-path", metric="length_km")
    assert by_len.choose_path(g, "A", "D", state=None) == ["A", "B", "C", "D"]
    assert by_len.choose_path(g, "D", "A", state=None) == ["D", "C", "B", "A"]


def test_unreachable_is_none_and_cached():
    g = _graph()
    pol = ShortestPathPolicy()
    assert pol.choose_path(g, "A", "Z", state=None) is None
    p1 = pol.choose_path(g, "A", "C", state=None)
    assert pol.choose_path(g, "A", "C", state=None) is p1  # cached object
    assert pol.choose_path(g, "A", "Q", state=None) is None  # unknown node


def test_protocol_and_per_call_custom_policies():
    assert isinstance(ShortestPathPolicy(), RoutingPolicy)
    assert "shortest-path" in available_routing_policies()
    with pytest.raises(InputError, match=r"controller\.routing must be one of"):
        get_policy("nope")
    with pytest.raises(InputError, match="path_metric"):
        ShortestPathPolicy("hopz")

    class Direct:
        name = "direct-only"

        def __init__(self, **_):
            pass

        def choose_path(self, graph, source, destination, *, state):
            return [source, destination] if graph.has_edge(source, destination) else None

    pol = routing_policy("direct-only", options={"metric": "hops"}, custom={"direct-only": Direct})
    assert pol.choose_path(_graph(), "A", "C", state=None) is None
    # nothing was registered: later calls without custom do not see it
    assert "direct-only" not in available_routing_policies()
    with pytest.raises(InputError, match="unknown policy 'direct-only'"):
        get_policy("direct-only")


def test_builtin_tables_are_fresh_per_call():
    table = builtin_routing_policies()
    table["shortest-path"] = None
    table["mine"] = ShortestPathPolicy
    again = builtin_routing_policies()
    assert again["shortest-path"] is ShortestPathPolicy and "mine" not in again
