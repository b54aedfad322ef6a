"""Routing and allocation policies behind one small interface.

A policy has a ``name`` and ``choose_path(graph, source, destination, *, state)``
returning a list of node names (source first) or ``None`` when it declines.
Policies are looked up by name with :func:`get_policy`; new ones are added with
:func:`register_policy`.

Example:
    >>> import networkx as nx
    >>> g = nx.path_graph(["A", "B", "C"])
    >>> get_policy("shortest-path").choose_path(g, "A", "C", state=None)
    ['A', 'B', 'C']
"""

from qnetai.control.policy import (
    NetworkState,
    RoutingPolicy,
    ShortestPathPolicy,
    available_policies,
    get_policy,
    register_policy,
)

__all__ = [
    "NetworkState",
    "RoutingPolicy",
    "ShortestPathPolicy",
    "available_policies",
    "get_policy",
    "register_policy",
]
