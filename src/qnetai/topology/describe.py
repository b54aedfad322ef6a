"""Summaries of a scenario and derived link figures (transmittance, heralding, rates).

The link figures use :mod:`qnetai.physics` when it is installed and are left out otherwise.

Example:
    >>> from qnetai.config import builtin_scenario
    >>> summary = summarise(builtin_scenario("metro-6g"))
    >>> summary["nodes"] > 6, summary["free_space_links"]
    (True, 1)
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from typing import Any

from qnetai.config.models import LinkSpec, Scenario


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


def _physics() -> Any | None:
    try:
        return importlib.import_module("qnetai.physics")
    except ImportError:
        return None


def link_transmittance(link: LinkSpec, *, physics: Any | None = None) -> float | None:
    """End-to-end channel transmittance of a link (loss variation at zero).

    None when :mod:`qnetai.physics` is not installed.
    """
    if (physics or _physics()) is None:
        return None
    from qnetai.topology.channels import link_transmittance as channel_transmittance

    return float(channel_transmittance(link))


def link_figures(link: LinkSpec, *, speed_km_per_s: float = 2.0e5) -> dict[str, float] | None:
    """Derived figures of one link, or None if :mod:`qnetai.physics` is missing.

    Keys: ``transmittance``, ``loss_db``, ``p_attempt`` (heralding probability of one mode,
    midpoint station, each arm ``sqrt(transmittance)`` times source and coupling efficiency),
    ``p_success`` (any of the ``multiplexing`` modes), ``herald_fidelity``, ``attempt_rate_hz``
    (given, or one per heralding round trip) and ``rate_hz`` (expected pairs per second while
    memories are free). These are estimates for display; the simulator is the reference.
    """
    phys = _physics()
    if phys is None:
        return None
    try:
        eta = link_transmittance(link, physics=phys)
        assert eta is not None
        arm = math.sqrt(eta) * link.source_efficiency * link.coupling_efficiency
        common = {
            "detector_efficiency": link.detector_efficiency,
            "dark_count_probability": link.dark_count_probability,
            "raw_fidelity": link.raw_fidelity,
        }
        if link.success_probability is not None:  # abstract link: physics overridden
            outcome = None
        elif link.scheme == "double_click":
            outcome = phys.double_click_herald(arm, arm, **common)
        else:
            outcome = phys.single_click_herald(
                arm, arm, bright_state_parameter=link.bright_state_parameter, **common
            )
        if outcome is None:
            p_attempt, herald_fidelity = float(link.success_probability), link.raw_fidelity
        else:
            p_attempt = float(outcome.p_success)
            herald_fidelity = float(outcome.state[..., 0])
        if link.attempt_rate_hz is not None:
            attempt_rate = float(link.attempt_rate_hz)
        else:
            round_trip = float(phys.heralding_round_trip_s(link.length_km, speed_km_per_s))
            attempt_rate = 1.0 / round_trip if round_trip > 0 else math.inf
    except (AttributeError, TypeError, ValueError, AssertionError):
        return None  # a physics module with other signatures: show no derived figures
    p_success = 1.0 - (1.0 - p_attempt) ** link.multiplexing
    return {
        "transmittance": eta,
        "loss_db": -10.0 * math.log10(eta) if eta > 0 else math.inf,
        "p_attempt": p_attempt,
        "p_success": p_success,
        "herald_fidelity": herald_fidelity,
        "attempt_rate_hz": attempt_rate,
        "rate_hz": attempt_rate * p_success,
    }


def describe_scenario(scenario: Scenario, *, resolved: bool = False) -> dict[str, Any]:
    """Everything ``qnetai scenario show`` prints, as plain data.

    Keys: ``summary`` (:func:`summarise`), ``scenario`` (the scenario, resolved if asked, as a
    JSON-compatible dict with every default filled in) and ``links_derived`` (one dict per
    listed link: ``link`` name plus :func:`link_figures`; None when :mod:`qnetai.physics` is
    missing).
    """
    from qnetai.topology.resolve import resolve

    # without topology: resolving only names the links (and checks the references)
    shown = resolve(scenario) if resolved or scenario.topology is None else scenario
    speed = shown.classical.speed_km_per_s
    derived: list[dict[str, Any]] | None = []
    for link in shown.links:
        figures = link_figures(link, speed_km_per_s=speed)
        if figures is None:
            derived = None
            break
        name = link.name or f"{link.endpoints[0]}-{link.endpoints[1]}"
        derived.append({"link": name, **figures})
    return {
        "summary": summarise(scenario),
        "scenario": shown.model_dump(mode="json"),
        "links_derived": derived,
    }
