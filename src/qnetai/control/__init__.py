"""Routing and allocation policies behind one small interface (heuristic and exact).

Two models of the network, one built-in table each (a fresh dict per call, no registry):

- the **event engine** (:mod:`qnetai.sim`, ``controller.routing`` of a scenario): a
  :class:`RoutingPolicy` has a ``name`` and ``choose_path(graph, source, destination, *,
  state)`` returning a list of node names (source first) or ``None`` when it declines.
  :func:`builtin_routing_policies` lists ``shortest-path``, ``widest-path``, ``q-cast``,
  ``milp``, ``ga``, ``pso``, ``de``, ``sa`` and ``cma``. One request is decided at a time, so
  the exact solvers and metaheuristics reduce there to the exact argmax of EXT over the
  candidate paths (:mod:`qnetai.control.engine_policies`).
- the **time-slotted Q-CAST model** (:mod:`qnetai.control.slotted`, ``qnetai bench``): a
  :class:`SlotPolicy` allocates paths and widths to all requests of a slot;
  :func:`builtin_slot_policies` lists the same names plus ``ls`` (where the exact and
  metaheuristic solvers differ, since many requests compete).

This package never imports :mod:`qnetai.ai`. Names are resolved one layer up, by
:func:`qnetai.plugins.routing_policy` and :func:`qnetai.plugins.slot_policy`: the built-ins,
learned ``rl:NAME`` models (:mod:`qnetai.ai`), the user's own policies passed per call,
``"pkg.module:Class"`` import paths and the ``qnetai.routing_policies`` entry points.

Example:
    >>> import networkx as nx
    >>> g = nx.path_graph(["A", "B", "C"])
    >>> builtin_routing_policies()["shortest-path"]().choose_path(g, "A", "C", state=None)
    ['A', 'B', 'C']
"""

from typing import Any

from qnetai.control.policy import (
    EXACT_EXT_NAMES,
    NetworkState,
    RoutingPolicy,
    ShortestPathPolicy,
    builtin_routing_policies,
    path_is_valid,
)

#: Names re-exported lazily (they import numpy/scipy-heavy modules).
_LAZY = {
    "ExtPolicy": "qnetai.control.engine_policies",
    "LinkFigures": "qnetai.control.engine_policies",
    "WidestPathPolicy": "qnetai.control.engine_policies",
    "engine_link_models": "qnetai.control.engine_policies",
    "link_table": "qnetai.control.engine_policies",
    "SlotPolicy": "qnetai.control.slotted_policies",
    "builtin_slot_policies": "qnetai.control.slotted_policies",
    "builtin_slot_policy": "qnetai.control.slotted_policies",
}


def __getattr__(name: str) -> Any:
    """Import the lazily re-exported names on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qnetai.control' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "EXACT_EXT_NAMES",
    "ExtPolicy",
    "LinkFigures",
    "NetworkState",
    "RoutingPolicy",
    "ShortestPathPolicy",
    "SlotPolicy",
    "WidestPathPolicy",
    "builtin_routing_policies",
    "builtin_slot_policies",
    "builtin_slot_policy",
    "engine_link_models",
    "link_table",
    "path_is_valid",
]
