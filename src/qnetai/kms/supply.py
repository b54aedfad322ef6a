"""Key supply of the KMS from the simulated key network of a scenario.

Every SAE is attached to a node of the scenario (its KME). The key network
(:func:`qnetai.qkd.simulate_key_network`) gives each QKD link its secret-key rate; an SAE
pair is served over the shortest path of QKD links between their nodes by trusted-node
relay, so its rate is the bottleneck along the path, where every link's rate is shared
equally among the SAE pairs whose paths use it. A pair with no QKD path gets rate 0 (its
pool stays empty: ``enc_keys`` answers 503).

``key_network`` takes the key network of a full run (``qnetai.facade.run_scenario(...)
.key_network``: the engine, then the key network, as ``qnetai run`` does), so the service
and the dashboard read the same figures; without it only the key network is simulated
(faster start). ``down_links`` names QKD links that are out of service (for example aborted
by the QBER monitor): pairs are routed around them, or get rate 0.

Example:
    >>> plan = supply_plan("metro-6g", {"A": "metro-east", "B": "metro-west"})
    >>> plan.rates_bps[("A", "B")] > 0, plan.paths[("A", "B")][0]
    (True, 'metro-east')
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SupplyPlan", "check_sae_nodes", "supply_plan"]


@dataclass(frozen=True)
class SupplyPlan:
    """Per SAE pair (sorted IDs): rate in simulated bits/s and the node path used."""

    scenario: str
    rates_bps: dict[tuple[str, str], float]
    paths: dict[tuple[str, str], list[str] | None]
    link_rates_bps: dict[str, float]
    pool_capacity_bits: int
    initial_pool_bits: int


def check_sae_nodes(scenario: Any, sae_nodes: Mapping[str, str]) -> None:
    """Raise :class:`qnetai.errors.InputError` if an SAE names a node ``scenario`` lacks."""
    from qnetai import facade
    from qnetai.errors import InputError
    from qnetai.topology import resolve

    sc = resolve(facade.load(scenario))
    names = {n.name for n in sc.nodes}
    for sae, node in sae_nodes.items():
        if node not in names:
            raise InputError(f"SAE {sae!r}: unknown node {node!r} of scenario {sc.name!r}")


def supply_plan(
    scenario: Any,
    sae_nodes: Mapping[str, str],
    *,
    seed: int | None = None,
    key_network: Any = None,
    down_links: Collection[str] = (),
    link_rates_bps: Mapping[str, float] | None = None,
) -> SupplyPlan:
    """The key rate of every pair of SAEs in ``sae_nodes`` (SAE ID -> node name).

    ``scenario``: a Scenario, file path or built-in name (:func:`qnetai.facade.load`);
    ``seed`` overrides its seed; ``key_network``: a
    :class:`~qnetai.qkd.network.KeyNetworkResult` of this scenario to read the link rates
    from (else it is simulated here); ``down_links``: link names to leave out;
    ``link_rates_bps``: current rates (simulated bits/s) of some links, in place of the key
    network's (a fading link's rate now). Raises
    :class:`qnetai.errors.InputError` for an unknown node.
    """
    import numpy as np

    from qnetai import facade, qkd
    from qnetai.errors import InputError
    from qnetai.qkd.network import qkd_path
    from qnetai.topology import resolve

    sc = resolve(facade.with_seed(facade.load(scenario), seed))
    names = {n.name for n in sc.nodes}
    for sae, node in sae_nodes.items():
        if node not in names:
            raise InputError(f"SAE {sae!r}: unknown node {node!r} of scenario {sc.name!r}")
    result = key_network
    if result is None:
        result = qkd.simulate_key_network(
            sc, rng=np.random.default_rng([int(sc.seed), facade.QKD_SEED_TAG])
        )
    all_rows = result.link_key_rates.to_pylist()
    if link_rates_bps:
        unknown = set(link_rates_bps) - {r["link"] for r in all_rows}
        if unknown:
            raise InputError(f"link_rates_bps: unknown QKD links {sorted(unknown)}")
        all_rows = [
            {**r, "key_rate_bps": float(link_rates_bps.get(r["link"], r["key_rate_bps"]))}
            for r in all_rows
        ]
    rows = [r for r in all_rows if r["link"] not in set(down_links)]
    link_rate = {frozenset((r["a"], r["b"])): float(r["key_rate_bps"]) for r in rows}
    import networkx as nx

    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(names)
    for r in rows:
        graph.add_edge(r["a"], r["b"], length_km=float(r["length_km"]))
    paths: dict[tuple[str, str], list[str] | None] = {}
    for a, b in itertools.combinations(sorted(sae_nodes), 2):
        na, nb = sae_nodes[a], sae_nodes[b]
        if na == nb:
            raise InputError(f"SAEs {a!r} and {b!r} are both on node {na!r}: no QKD link")
        paths[(a, b)] = qkd_path(graph, na, nb, sc.qkd.relay.path_metric)
    users: dict[frozenset[str], int] = {}
    for path in paths.values():
        for hop in itertools.pairwise(path or []):
            users[frozenset(hop)] = users.get(frozenset(hop), 0) + 1
    rates: dict[tuple[str, str], float] = {}
    for pair, path in paths.items():
        if path is None:
            rates[pair] = 0.0
        else:
            rates[pair] = min(
                link_rate[frozenset(h)] / users[frozenset(h)] for h in itertools.pairwise(path)
            )
    return SupplyPlan(
        scenario=sc.name,
        rates_bps=rates,
        paths=paths,
        link_rates_bps={r["link"]: float(r["key_rate_bps"]) for r in all_rows},
        pool_capacity_bits=int(sc.qkd.pool_capacity_bits),
        initial_pool_bits=int(sc.qkd.initial_pool_bits),
    )
