"""Expand a scenario's ``topology:`` into explicit nodes and links and check the references.

Example:
    >>> from qnetai.config import scenario_from_dict
    >>> s = scenario_from_dict({"topology": {"builder": "line", "nodes": 4}})
    >>> r = resolve(s)
    >>> r.topology is None, [l.name for l in r.links]
    (True, ['n0-n1', 'n1-n2', 'n2-n3'])
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from qnetai.config.errors import input_error_from_lines
from qnetai.config.models import LinkSpec, NodeSpec, Scenario
from qnetai.topology.builders import build

_KNOWN_SHOWN = 12


def _known(names: Iterable[str], count: int) -> str:
    shown: list[str] = []
    for name in names:
        if len(shown) == _KNOWN_SHOWN:
            return ", ".join(shown) + f", ... ({count} nodes)"
        shown.append(name)
    return ", ".join(shown)


def _unknown(name: str, owners: dict[str, str]) -> str:
    return f"unknown node {name!r} (known: {_known(owners, len(owners))})"


def _check_nodes(
    built: list[NodeSpec], explicit: list[NodeSpec], problems: list[str]
) -> dict[str, str]:
    owners: dict[str, str] = {n.name: "topology" for n in built}
    for i, node in enumerate(explicit):
        if node.name in owners:
            other = owners[node.name]
            by = (
                "a node made by the topology builder (topology.node.name is its prefix)"
                if other == "topology"
                else other
            )
            problems.append(f"nodes[{i}].name: duplicate node name {node.name!r} (also {by})")
        else:
            owners[node.name] = f"nodes[{i}]"
    return owners


def _check_links(
    built: list[LinkSpec], explicit: list[LinkSpec], owners: dict[str, str], problems: list[str]
) -> list[LinkSpec]:
    """Check endpoints and duplicates; give unnamed links the name ``a-b``."""
    nb = len(built)
    links = built + explicit
    # built links are correct by construction: distinct named pairs of built nodes
    pairs: dict[frozenset[str], int] = {frozenset(lk.endpoints): i for i, lk in enumerate(built)}
    names: dict[str, int] = {lk.name: i for i, lk in enumerate(built) if lk.name is not None}

    def where(i: int) -> str:
        return "topology" if i < nb else f"links[{i - nb}]"

    for i, link in enumerate(explicit, start=nb):
        a, b = link.endpoints
        if a not in owners or b not in owners:
            for k, end in enumerate(link.endpoints):
                if end not in owners:
                    problems.append(f"{where(i)}.endpoints[{k}]: {_unknown(end, owners)}")
        pair = frozenset(link.endpoints)
        j = pairs.setdefault(pair, i)
        if j != i:
            problems.append(
                f"{where(i)}.endpoints: duplicate link between {a!r} and {b!r} (also {where(j)}); "
                "raise its multiplexing instead"
            )
        if link.name is not None:
            j = names.setdefault(link.name, i)
            if j != i:
                problems.append(
                    f"{where(i)}.name: duplicate link name {link.name!r} (also {where(j)})"
                )
    for i, link in enumerate(explicit, start=nb):
        if link.name is None:
            base = f"{link.endpoints[0]}-{link.endpoints[1]}"
            name, extra = base, 1
            while name in names:
                extra += 1
                name = f"{base}#{extra}"
            names[name] = i
            links[i] = link.model_copy(update={"name": name})
    return links


def _check_traffic(
    scenario: Scenario, nodes: list[NodeSpec], owners: dict[str, str], problems: list[str]
) -> None:
    for i, request in enumerate(scenario.traffic.requests):
        for field in ("source", "destination"):
            name = getattr(request, field)
            if name not in owners:
                problems.append(f"traffic.requests[{i}].{field}: {_unknown(name, owners)}")
    random = scenario.traffic.random
    if random is not None:
        eligible = [n.name for n in nodes if n.kind in random.node_kinds]
        if len(eligible) < 2:
            kinds = ", ".join(random.node_kinds)
            found = f": {eligible[0]!r}" if eligible else ""
            problems.append(
                f"traffic.random.node_kinds: random traffic needs at least two nodes of kinds "
                f"{kinds} (found {len(eligible)}{found}); add such nodes, widen node_kinds or "
                "set topology.end_user_fraction"
            )


def resolve(scenario: Scenario) -> Scenario:
    """The scenario with ``topology`` expanded (built nodes/links first, explicit ones after).

    Checks that node names are unique, that link endpoints and traffic nodes exist, that no two
    links join the same pair, and that random traffic has at least two eligible nodes; all
    problems are reported together in one :class:`~qnetai.errors.InputError` whose lines start
    with the field path. Unnamed links are named ``a-b``. Resolving twice changes nothing.
    """
    built_nodes: list[NodeSpec] = []
    built_links: list[LinkSpec] = []
    if scenario.topology is not None:
        built_nodes, built_links = build(scenario.topology, seed=scenario.seed)
    problems: list[str] = []
    owners = _check_nodes(built_nodes, list(scenario.nodes), problems)
    links = _check_links(built_links, list(scenario.links), owners, problems)
    nodes = built_nodes + list(scenario.nodes)
    _check_traffic(scenario, nodes, owners, problems)
    if problems:
        raise input_error_from_lines(problems, source=repr(scenario.name))
    return scenario.model_copy(update={"topology": None, "nodes": nodes, "links": links})


def to_graph(scenario: Scenario) -> nx.Graph:
    """The resolved network as an undirected graph.

    Node attributes: ``spec`` (NodeSpec), ``kind``, ``pos`` (``position_km`` or None); edge
    attributes: ``spec`` (LinkSpec), ``name``, ``kind``, ``length_km``. ``graph.graph["name"]``
    is the scenario name.
    """
    resolved = resolve(scenario)
    graph: nx.Graph[str] = nx.Graph(name=resolved.name)
    graph.add_nodes_from(
        (n.name, {"spec": n, "kind": n.kind, "pos": n.position_km}) for n in resolved.nodes
    )
    graph.add_edges_from(
        (
            link.endpoints[0],
            link.endpoints[1],
            {"spec": link, "name": link.name, "kind": link.kind, "length_km": link.length_km},
        )
        for link in resolved.links
    )
    return graph
