"""Counts and one-line summaries of a scenario (no physics, no engine).

The derived link figures of ``qnetai scenario show`` are the engine's own link models and
live above the engine: :func:`qnetai.describe_scenario`.

Example:
    >>> from qnetai.config import builtin_scenario
    >>> summary = summarise(builtin_scenario("metro-6g"))
    >>> summary["nodes"] > 6, summary["free_space_links"]
    (True, 1)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from qnetai.config.models import Scenario


def summarise(scenario: Scenario) -> dict[str, Any]:
    """Counts of a scenario: nodes (by kind), links, fibre km, request flows and requests.

    A scenario with ``topology:`` is resolved first (so the counts are those simulated).
    """
    from qnetai.topology.resolve import resolve

    resolved = resolve(scenario)
    traffic = resolved.traffic
    random_count = traffic.random.count if traffic.random is not None else 0
    return {
        "name": resolved.name,
        "topology": scenario.topology.builder if scenario.topology is not None else None,
        "nodes": len(resolved.nodes),
        "node_kinds": dict(Counter(n.kind for n in resolved.nodes)),
        "memory_qubits": sum(n.memory_qubits for n in resolved.nodes),
        "links": len(resolved.links),
        "fibre_links": sum(link.kind == "fibre" for link in resolved.links),
        "free_space_links": sum(link.kind == "free_space" for link in resolved.links),
        "qkd_links": sum(link.qkd for link in resolved.links),
        "fibre_km": round(sum(lk.length_km for lk in resolved.links if lk.kind == "fibre"), 6),
        "request_flows": len(traffic.requests),
        "requests": sum(r.count for r in traffic.requests) + random_count,
        "random_requests": random_count,
        "duration_s": resolved.duration_s,
        "seed": resolved.seed,
    }


def summary_line(summary: dict[str, Any]) -> str:
    """One line such as ``metro-6g: 13 nodes, 18 links, 1,100 requests (4 flows + random)``."""
    flows = summary["request_flows"]
    parts = [f"{flows} flow{'s' if flows != 1 else ''}"] if flows else []
    if summary["random_requests"]:
        parts.append("random")
    requests = summary["requests"]
    traffic = f" ({' + '.join(parts)})" if parts else ""
    return (
        f"{summary['name']}: {summary['nodes']} nodes, {summary['links']} links, "
        f"{requests:,} request{'s' if requests != 1 else ''}{traffic}, "
        f"{summary['duration_s']:g} s simulated"
    )
