"""Topologies: builders (line, ring, star, grid, Waxman), resolution, graphs, run checks.

Example:
    >>> from qnetai.config import builtin_scenario
    >>> graph = to_graph(builtin_scenario("metro-6g"))
    >>> graph.number_of_nodes() == len(resolve(builtin_scenario("metro-6g")).nodes)
    True
"""

from qnetai.topology.builders import (
    Built,
    assemble,
    build,
    connect_components,
    grid,
    line,
    ring,
    star,
    waxman,
    waxman_edges,
)
from qnetai.topology.describe import summarise, summary_line
from qnetai.topology.resolve import resolve, to_graph
from qnetai.topology.runnable import (
    WORK_LIMITS,
    check_topology,
    check_topology_size,
    check_work,
    estimate_topology,
    estimate_work,
)

__all__ = [
    "WORK_LIMITS",
    "Built",
    "assemble",
    "build",
    "check_topology",
    "check_topology_size",
    "check_work",
    "connect_components",
    "estimate_topology",
    "estimate_work",
    "grid",
    "line",
    "resolve",
    "ring",
    "star",
    "summarise",
    "summary_line",
    "to_graph",
    "waxman",
    "waxman_edges",
]
