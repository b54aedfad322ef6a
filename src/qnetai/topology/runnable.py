"""The topology-level checks that a scenario can run: references, size and the work it implies.

:func:`check_topology` resolves the topology, refuses a network of fewer than two nodes and
estimates the work of the run (:func:`estimate_work`). An estimate above its limit is
refused, with the estimate, the limit and the override in the message, unless
``allow_large=True`` (``--allow-large`` on the command line). The topology's size is
estimated *before* it is built. The full check that ``qnetai scenario validate`` and
``qnetai run`` both make, :func:`qnetai.check_runnable`, adds the engine's link and request
checks, the routing policy (built-in, learned or plug-in) and the ``qkd`` section; it lives
above the engine, since this layer imports neither the engine, the policies nor QKD.

Limits (upper estimates of what one run makes; each about 10-100x the built-in scenarios):

=====================  ==============  ====================================================
estimate               limit           what it counts
=====================  ==============  ====================================================
``nodes``              100,000         nodes after the topology is built
``links``              250,000         links (Waxman: expected count from ``n^2`` pairs)
``waxman_pairs``       50,000,000      node pairs the Waxman builder draws, ``n (n-1) / 2``
``requests``           1,000,000       entanglement requests arriving within ``duration_s``
``engine_events``      50,000,000      arrivals, ends and link heralds the engine processes
``delivered_pairs``    5,000,000       end-to-end pairs recorded (one row each)
``relay_steps``        5,000,000       key-relay steps, ``duration_s / qkd.time_step_s``
``relay_requests``     1,000,000       key-relay requests arriving within ``duration_s``
``pool_samples``       5,000,000       key-pool rows, ``duration_s / record_interval_s``
                                       times the QKD links
``qkd_pulses``         2,000,000,000   pulses simulated (``qkd.mode: simulate``)
=====================  ==============  ====================================================

Link heralds are bounded by both supply (every link attempting for the whole run, one herald
per attempt round) and demand (each requested pair taking one herald per link of a long
path, :func:`path_hops_bound`: twice an upper bound on the hop diameter, at most
``nodes - 1``; doubled per purification round).

Example:
    >>> from qnetai.config import scenario_from_dict
    >>> s = scenario_from_dict({"topology": {"builder": "line", "nodes": 3}, "duration_s": 1e9})
    >>> estimate_work(s)["relay_steps"]
    1000000000000
    >>> len(check_topology(s, allow_large=True).nodes)
    3
"""

from __future__ import annotations

import functools
import math

import numpy as np

from qnetai.config.models import Scenario, TopologySpec
from qnetai.errors import InputError

#: Largest estimate of each kind accepted without ``allow_large`` (see the module doc).
WORK_LIMITS: dict[str, int] = {
    "nodes": 100_000,
    "links": 250_000,
    "waxman_pairs": 50_000_000,
    "requests": 1_000_000,
    "engine_events": 50_000_000,
    "delivered_pairs": 5_000_000,
    "relay_steps": 5_000_000,
    "relay_requests": 1_000_000,
    "pool_samples": 5_000_000,
    "qkd_pulses": 2_000_000_000,
}

_WHAT = {
    "nodes": "nodes in the network",
    "links": "links in the network",
    "waxman_pairs": "node pairs drawn by the Waxman builder (topology.nodes squared / 2)",
    "requests": "entanglement requests within duration_s (traffic)",
    "engine_events": "simulation events (arrivals and link heralds over duration_s)",
    "delivered_pairs": "end-to-end pairs delivered and recorded",
    "relay_steps": "QKD relay steps (duration_s / qkd.time_step_s)",
    "relay_requests": "QKD relay requests within duration_s (qkd.relay.requests)",
    "pool_samples": "QKD key-pool samples (duration_s / qkd.record_interval_s x QKD links)",
    "qkd_pulses": "simulated QKD pulses (qkd.simulate blocks x block_pulses x QKD links)",
}


@functools.lru_cache(maxsize=32)
def _waxman_link_share(alpha: float) -> float:
    """Mean of ``exp(-d / (alpha L))`` over uniform pairs in a square (``L`` its diagonal)."""
    rng = np.random.default_rng(12345)  # fixed sample: the same estimate every time
    a, b = rng.random((2, 20_000, 2))
    d = np.hypot(*(a - b).T) / math.sqrt(2.0)
    return float(np.exp(-d / alpha).mean())


def _built_size(topo: TopologySpec) -> tuple[int, float, int]:
    """Nodes, expected links and Waxman pairs of a topology, without building it."""
    n = int(topo.nodes)
    pairs = n * (n - 1) // 2
    if topo.builder == "waxman":
        expected = pairs * topo.waxman_beta * _waxman_link_share(topo.waxman_alpha) + n
        return n, expected, pairs
    links = {"line": n - 1, "ring": n, "star": n - 1, "grid": 2 * n}[topo.builder]
    return n, float(links), 0


def estimate_topology(scenario: Scenario) -> dict[str, float]:
    """``nodes``, ``links`` and ``waxman_pairs`` of ``scenario`` (before building it)."""
    nodes, links, pairs = len(scenario.nodes), float(len(scenario.links)), 0
    if scenario.topology is not None:
        n, expected, pairs = _built_size(scenario.topology)
        nodes, links = nodes + n, links + expected
    return {"nodes": nodes, "links": links, "waxman_pairs": pairs}


def _arrivals(process: str, count: int | None, rate_hz: float, span_s: float) -> float:
    """Requests of one flow arriving within ``span_s`` after its start (expected)."""
    if span_s < 0:
        return 0.0
    if process == "at_once":
        n = math.inf
    elif process == "periodic":
        n = math.floor(span_s * rate_hz) + 1.0
    else:
        n = span_s * rate_hz
    return float(min(n, count)) if count is not None else float(n)


#: Speed of light in vacuum (km/s) for free-space round trips (the value of
#: ``qnetai.sim.linklayer.C_VACUUM_KM_PER_S``; a test keeps them equal).
C_VACUUM_KM_PER_S = 299_792.458


def attempt_periods_s(resolved: Scenario) -> np.ndarray:
    """Attempt period of each link, as the engine computes it (see :mod:`qnetai.sim.linklayer`).

    A link of zero period (``length_km: 0`` without ``attempt_rate_hz``) gives 0 here; the
    engine refuses it, and :func:`qnetai.check_runnable` with it.
    """
    if not resolved.links:
        return np.zeros(0)
    fibre = resolved.classical.speed_km_per_s
    length = np.array([lk.length_km for lk in resolved.links], dtype=float)
    speed = np.array(
        [C_VACUUM_KM_PER_S if lk.kind == "free_space" else fibre for lk in resolved.links]
    )
    rate = np.array([lk.attempt_rate_hz or math.inf for lk in resolved.links], dtype=float)
    return np.maximum(length / speed, 1.0 / rate)


def path_hops_bound(resolved: Scenario) -> int:
    """Links on the longest path a request is expected to take, bounded from above.

    Twice the bound ``2 e(v)`` on the hop diameter of each connected part (``e(v)``: the
    eccentricity of its first node, one breadth-first search per part), so that a policy may
    route around busy nodes over paths up to twice as long as the longest shortest path; and
    never more than a simple path can have (``nodes - 1``, ``links``).

    Example:
        >>> from qnetai.config import scenario_from_dict
        >>> from qnetai.topology.resolve import resolve
        >>> def bound(topology):
        ...     return path_hops_bound(resolve(scenario_from_dict({"topology": topology})))
        >>> bound({"builder": "line", "nodes": 9}), bound({"builder": "grid", "nodes": 400})
        (8, 152)
    """
    names = [n.name for n in resolved.nodes]
    adj: dict[str, list[str]] = {n: [] for n in names}
    for link in resolved.links:
        a, b = link.endpoints
        if a in adj and b in adj:
            adj[a].append(b)
            adj[b].append(a)
    seen: set[str] = set()
    longest = 0  # the largest eccentricity found (of each part's first node)
    for root in names:
        if root in seen:
            continue
        seen.add(root)
        frontier, level = [root], 0
        while frontier:
            nxt = []
            for u in frontier:
                for v in adj[u]:
                    if v not in seen:
                        seen.add(v)
                        nxt.append(v)
            if nxt:
                level += 1
            frontier = nxt
        longest = max(longest, level)
    return max(min(len(names) - 1, len(resolved.links), 4 * longest), 1)


def estimate_work(scenario: Scenario) -> dict[str, float]:
    """Upper estimates of the work of one run of ``scenario`` (resolved here if needed).

    Keys are those of :data:`WORK_LIMITS`. The topology is built to count its links, so call
    :func:`estimate_topology` first for a large one (as :func:`check_runnable` does).
    """
    from qnetai.topology.resolve import resolve

    resolved = resolve(scenario) if scenario.topology is not None else scenario
    out: dict[str, float] = estimate_topology(resolved)
    out["waxman_pairs"] = estimate_topology(scenario)["waxman_pairs"]
    duration = float(resolved.duration_s)
    flows: list[tuple[float, int]] = []  # (requests, pairs each)
    for r in resolved.traffic.requests:
        n = _arrivals(r.arrival.process, r.count, r.arrival.rate_hz, duration - r.arrival.start_s)
        flows.append((n, r.pairs_per_request))
    rnd = resolved.traffic.random
    if rnd is not None:
        flows.append(
            (_arrivals("poisson", rnd.count, rnd.rate_hz, duration), rnd.pairs_per_request)
        )
    requests = sum(n for n, _ in flows)
    demand = sum(n * p for n, p in flows)
    periods = attempt_periods_s(resolved)
    with np.errstate(divide="ignore"):
        supply = float(duration * np.sum(1.0 / periods)) if periods.size else 0.0
    rounds = resolved.operations.purification.rounds
    if resolved.operations.purification.protocol == "none":
        rounds = 0
    hops = path_hops_bound(resolved)
    heralds = min(supply, demand * hops * 2.0**rounds)
    out["requests"] = requests
    out["delivered_pairs"] = min(demand, supply)
    out["engine_events"] = 2 * requests + heralds + out["delivered_pairs"]
    qkd = resolved.qkd
    steps = max(math.ceil(duration / qkd.time_step_s - 1e-9), 1)
    rec_every = max(round(qkd.record_interval_s / qkd.time_step_s), 1)
    qkd_links = sum(lk.qkd for lk in resolved.links) if qkd.enabled else 0
    out["relay_steps"] = steps
    out["pool_samples"] = (steps // rec_every + 2) * max(qkd_links, 1)
    out["relay_requests"] = (
        sum(
            _arrivals(r.process, r.count, r.rate_hz, duration - r.start_s)
            for r in qkd.relay.requests
        )
        if qkd.enabled
        else 0
    )
    simulated = qkd.enabled and qkd.mode == "simulate"
    out["qkd_pulses"] = (
        qkd_links * qkd.simulate.blocks * qkd.simulate.block_pulses if simulated else 0
    )
    return out


def _refuse(estimates: dict[str, float], *, source: str, allow_large: bool) -> None:
    if allow_large:
        return
    over = [k for k, v in estimates.items() if k in WORK_LIMITS and v > WORK_LIMITS[k]]
    if not over:
        return
    lines = [f"{_WHAT[k]}: about {estimates[k]:,.0f} > limit {WORK_LIMITS[k]:,}" for k in over]
    body = "\n".join(f"  {line}" for line in lines)
    raise InputError(
        f"scenario {source} is too large to run safely:\n{body}\n"
        "  reduce it, or pass --allow-large (allow_large=True) to run it anyway "
        "(limits: qnetai.topology.runnable.WORK_LIMITS)"
    )


def check_topology_size(scenario: Scenario, *, allow_large: bool = False) -> None:
    """Refuse a topology above the ``nodes``/``links``/``waxman_pairs`` limits before building.

    Example:
        >>> from qnetai.config import scenario_from_dict
        >>> s = scenario_from_dict({"topology": {"builder": "waxman", "nodes": 20_000}})
        >>> try:
        ...     check_topology_size(s)
        ... except InputError as exc:
        ...     print(str(exc).splitlines()[1])
          links in the network: about 17,458,349 > limit 250,000
    """
    _refuse(estimate_topology(scenario), source=repr(scenario.name), allow_large=allow_large)


def check_work(resolved: Scenario, *, allow_large: bool = False) -> None:
    """Refuse a resolved scenario whose :func:`estimate_work` exceeds :data:`WORK_LIMITS`."""
    _refuse(estimate_work(resolved), source=repr(resolved.name), allow_large=allow_large)


def check_topology(scenario: Scenario, *, allow_large: bool = False, work: bool = True) -> Scenario:
    """The topology-level checks of a run; returns the resolved scenario.

    Raises :class:`~qnetai.errors.InputError` (the CLI exits with code 2) for a topology or
    workload above :data:`WORK_LIMITS` (unless ``allow_large``; the workload only with
    ``work``), unresolvable references or a network of fewer than two nodes.
    :func:`qnetai.check_runnable` makes these and the engine-, policy- and QKD-level checks.
    """
    from qnetai.topology.resolve import resolve

    source = repr(scenario.name)
    check_topology_size(scenario, allow_large=allow_large)
    resolved = resolve(scenario)
    if len(resolved.nodes) < 2:
        raise InputError(
            f"scenario {source} is empty: it has {len(resolved.nodes)} node(s); a network "
            "needs at least two (list them under nodes: or set topology:)"
        )
    if work:
        check_work(resolved, allow_large=allow_large)
    return resolved
