"""Topologies: builders (line, ring, star, grid, Waxman), resolution and graphs.

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
from qnetai.topology.describe import (
    describe_scenario,
    link_figures,
    link_transmittance,
    summarise,
    summary_line,
)
from qnetai.topology.resolve import resolve, to_graph

__all__ = [
    "Built",
    "assemble",
    "build",
    "connect_components",
    "describe_scenario",
    "grid",
    "line",
    "link_figures",
    "link_transmittance",
    "resolve",
    "ring",
    "star",
    "summarise",
    "summary_line",
    "to_graph",
    "waxman",
    "waxman_edges",
]
