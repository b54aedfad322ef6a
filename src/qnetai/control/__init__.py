"""Routing and allocation policies behind one small interface.

Two registries, one per model of the network:

- the **event engine** (:mod:`qnetai.sim`, ``controller.routing`` of a scenario): a
  :class:`RoutingPolicy` has a ``name`` and ``choose_path(graph, source, destination, *,
  state)`` returning a list of node names (source first) or ``None`` when it declines.
  :func:`get_policy` builds one by name: ``shortest-path``, ``widest-path``, ``q-cast``,
  ``milp``, ``ga``, ``pso``, ``de``, ``sa``, ``cma`` and ``rl:NAME`` / ``rl:PATH`` (learned);
  :func:`register_policy` adds more. One request is decided at a time, so the exact solvers
  and metaheuristics reduce there to the exact argmax of EXT over the candidate paths
  (:mod:`qnetai.control.engine_policies`).
- the **time-slotted Q-CAST model** (:mod:`qnetai.control.slotted`, ``qnetai bench``): a
  :class:`SlotPolicy` allocates paths and widths to all requests of a slot;
  :func:`get_slot_policy` builds one by the same names (where the exact and metaheuristic
  solvers differ, since many requests compete), :func:`register_slot_policy` adds more.

Example:
    >>> import networkx as nx
    >>> g = nx.path_graph(["A", "B", "C"])
    >>> get_policy("shortest-path").choose_path(g, "A", "C", state=None)
    ['A', 'B', 'C']
"""

from typing import Any

from qnetai.control.policy import (
    NetworkState,
    RoutingPolicy,
    ShortestPathPolicy,
    available_policies,
    check_policy_name,
    get_policy,
    register_policy,
)

#: Names re-exported lazily (they import numpy/scipy-heavy modules).
_LAZY = {
    "ExtPolicy": "qnetai.control.engine_policies",
    "WidestPathPolicy": "qnetai.control.engine_policies",
    "LearnedRoutingPolicy": "qnetai.control.engine_rl",
    "SlotPolicy": "qnetai.control.slotted_policies",
    "available_slot_policies": "qnetai.control.slotted_policies",
    "get_slot_policy": "qnetai.control.slotted_policies",
    "register_slot_policy": "qnetai.control.slotted_policies",
}


def __getattr__(name: str) -> Any:
    """Import the lazily re-exported names on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qnetai.control' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "ExtPolicy",
    "LearnedRoutingPolicy",
    "NetworkState",
    "RoutingPolicy",
    "ShortestPathPolicy",
    "SlotPolicy",
    "WidestPathPolicy",
    "available_policies",
    "available_slot_policies",
    "check_policy_name",
    "get_policy",
    "get_slot_policy",
    "register_policy",
    "register_slot_policy",
]
