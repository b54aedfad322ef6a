"""QKD on the network: link key pools, trusted-node key relay and entanglement-based QKD.

:func:`simulate_key_network` reads the scenario's ``qkd:`` section
(:class:`qnetai.config.models.QKDNetworkSpec`) and

1. gives every link with ``qkd: true`` a decoy-BB84 secret-key rate
   (:mod:`qnetai.qkd.network_links`: analytic or pulse-level) feeding a key pool of
   ``pool_capacity_bits`` (:mod:`qnetai.qkd.key_pool`);
2. serves the relay request flows (``qkd.relay.requests``) over the shortest path of
   the subgraph of QKD links, one-time-padding the key hop by hop with real bit
   arrays (:mod:`qnetai.qkd.relay`; the intermediate nodes are trusted);
3. measures the entangled pairs delivered by the network simulator (``sim_result``)
   BBM92-style, per user pair (:mod:`qnetai.qkd.network_entanglement`).

Tables of :class:`KeyNetworkResult` (pyarrow; schemas in :data:`QKD_SCHEMAS`):

- ``link_key_rates``: link, a, b, kind, length_km, loss_db, mode, key_rate_per_pulse,
  pulse_rate_hz, key_rate_bps, qber, mu, nu, status, bits_generated, bits_consumed,
  bits_overflow, bits_left, pool_capacity_bits, pool_mean_bits, pool_min_bits, pool_max_bits
- ``pool_levels``: time_s, link, level_bits, generated_bits, consumed_bits, overflow_bits
- ``relay``: source, destination, path, hops, path_length_km, key_bits_per_request, requests,
  served, blocked, blocked_no_route, pending, delivered_bits, key_rate_bps, mean_wait_s,
  p95_wait_s, max_wait_s, keys_matched
- ``entanglement_qkd``: source, destination, pairs_delivered, mean_fidelity, sifted_bits,
  expected_sifted_bits, errors, qber_z, qber_x, expected_qber, key_bits_sampled,
  key_bits_expected, key_rate_bps_sampled, key_rate_bps_expected

Example:
    >>> import numpy as np
    >>> from qnetai.config import builtin_scenario
    >>> r = simulate_key_network(builtin_scenario("metro-6g"), rng=np.random.default_rng(1))
    >>> r.summary["pools_conserved"], r.link_key_rates.num_rows > 0
    (True, True)
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from qnetai.errors import InputError
from qnetai.qkd.key_pool import KeyPools
from qnetai.qkd.network_entanglement import entanglement_key
from qnetai.qkd.network_links import KeySupply, link_key_rates
from qnetai.qkd.relay import RelayFlow, request_arrivals, simulate_relay

if TYPE_CHECKING:
    import networkx as nx

    from qnetai.config.models import QKDNetworkSpec, Scenario
    from qnetai.qkd.network_links import LinkKeyRate
    from qnetai.qkd.relay import RelayOutcome
    from qnetai.sim.result import SimulationResult

__all__ = [
    "QKD_SCHEMAS",
    "QKD_TABLE_NAMES",
    "KeyNetworkResult",
    "check_key_network",
    "qkd_path",
    "simulate_key_network",
]

_F, _I, _S = pa.float64(), pa.int64(), pa.string()
QKD_SCHEMAS: dict[str, pa.Schema] = {
    "link_key_rates": pa.schema(
        [
            ("link", _S),
            ("a", _S),
            ("b", _S),
            ("kind", _S),
            ("length_km", _F),
            ("loss_db", _F),
            ("mode", _S),
            ("key_rate_per_pulse", _F),
            ("pulse_rate_hz", _F),
            ("key_rate_bps", _F),
            ("qber", _F),
            ("mu", _F),
            ("nu", _F),
            ("status", _S),
            ("bits_generated", _I),
            ("bits_consumed", _I),
            ("bits_overflow", _I),
            ("bits_left", _I),
            ("pool_capacity_bits", _I),
            ("pool_mean_bits", _F),
            ("pool_min_bits", _I),
            ("pool_max_bits", _I),
        ]
    ),
    "pool_levels": pa.schema(
        [
            ("time_s", _F),
            ("link", _S),
            ("level_bits", _I),
            ("generated_bits", _I),
            ("consumed_bits", _I),
            ("overflow_bits", _I),
        ]
    ),
    "relay": pa.schema(
        [
            ("source", _S),
            ("destination", _S),
            ("path", _S),
            ("hops", _I),
            ("path_length_km", _F),
            ("key_bits_per_request", _I),
            ("requests", _I),
            ("served", _I),
            ("blocked", _I),
            ("blocked_no_route", _I),
            ("pending", _I),
            ("delivered_bits", _I),
            ("key_rate_bps", _F),
            ("mean_wait_s", _F),
            ("p95_wait_s", _F),
            ("max_wait_s", _F),
            ("keys_matched", _I),
        ]
    ),
    "entanglement_qkd": pa.schema(
        [
            ("source", _S),
            ("destination", _S),
            ("pairs_delivered", _I),
            ("mean_fidelity", _F),
            ("sifted_bits", _I),
            ("expected_sifted_bits", _F),
            ("errors", _I),
            ("qber_z", _F),
            ("qber_x", _F),
            ("expected_qber", _F),
            ("key_bits_sampled", _F),
            ("key_bits_expected", _F),
            ("key_rate_bps_sampled", _F),
            ("key_rate_bps_expected", _F),
        ]
    ),
}
QKD_TABLE_NAMES: tuple[str, ...] = tuple(QKD_SCHEMAS)


@dataclass(frozen=True)
class KeyNetworkResult:
    """Tables and summary of :func:`simulate_key_network` (see the module doc for columns)."""

    summary: dict[str, Any]
    link_key_rates: pa.Table
    pool_levels: pa.Table
    relay: pa.Table
    entanglement_qkd: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        """The four tables by name, in :data:`QKD_TABLE_NAMES` order."""
        return {name: getattr(self, name) for name in QKD_TABLE_NAMES}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: summary, links, pool statistics, relay and entanglement rows."""
        pool_cols = (
            "link",
            "bits_left",
            "pool_mean_bits",
            "pool_min_bits",
            "pool_max_bits",
            "pool_capacity_bits",
        )
        return {
            "summary": self.summary,
            "links": self.link_key_rates.to_pylist(),
            "pools": self.link_key_rates.select(list(pool_cols)).to_pylist(),
            "relay": self.relay.to_pylist(),
            "entanglement": self.entanglement_qkd.to_pylist(),
        }


def _table(name: str, columns: dict[str, Any]) -> pa.Table:
    schema = QKD_SCHEMAS[name]
    return pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in schema}, schema=schema)


def _qkd_graph(scenario: Scenario) -> nx.Graph[str]:
    import networkx as nx

    g: nx.Graph[str] = nx.Graph()
    g.add_nodes_from(n.name for n in scenario.nodes)
    for i, link in enumerate(lk for lk in scenario.links if lk.qkd):
        a, b = link.endpoints
        g.add_edge(a, b, index=i, length_km=float(link.length_km))
    return g


def qkd_path(
    graph: nx.Graph[str], source: str, destination: str, metric: str = "hops"
) -> list[str] | None:
    """Shortest path between two nodes over QKD links only (None if there is none)."""
    import networkx as nx

    try:
        return list(
            nx.shortest_path(
                graph, source, destination, weight=None if metric == "hops" else "length_km"
            )
        )
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None


def check_key_network(scenario: Scenario) -> None:
    """Check the ``qkd`` section against the (resolved) network's node names.

    Raises :class:`InputError` with one ``qkd.<field path>: ...`` line per problem.
    """
    from qnetai.config.errors import input_error_from_lines

    names = {n.name for n in scenario.nodes}
    problems = []
    for i, r in enumerate(scenario.qkd.relay.requests):
        for fld in ("source", "destination"):
            if getattr(r, fld) not in names:
                problems.append(f"qkd.relay.requests[{i}].{fld}: unknown node {getattr(r, fld)!r}")
    for i, pair in enumerate(scenario.qkd.entanglement.pairs):
        for j, name in enumerate(pair):
            if name not in names:
                problems.append(f"qkd.entanglement.pairs[{i}][{j}]: unknown node {name!r}")
        if pair[0] == pair[1]:
            problems.append(
                f"qkd.entanglement.pairs[{i}]: the two nodes must differ (got {pair[0]!r} twice)"
            )
    if problems:
        raise input_error_from_lines(problems, source=repr(scenario.name))


def _pool_tables(
    links: list[LinkKeyRate], pools: KeyPools, out: RelayOutcome, spec: QKDNetworkSpec, mode: str
) -> tuple[pa.Table, pa.Table]:
    names = [lk.link for lk in links]
    nt, nl = out.record_times_s.size, len(links)
    lv = out.record_levels.reshape(nt, nl)
    levels = {
        "time_s": np.repeat(out.record_times_s, nl),
        "link": names * nt,
        "level_bits": lv.reshape(-1),
        "generated_bits": out.record_generated.reshape(-1),
        "consumed_bits": out.record_consumed.reshape(-1),
        "overflow_bits": out.record_overflow.reshape(-1),
    }
    rates = {
        "link": names,
        "a": [lk.a for lk in links],
        "b": [lk.b for lk in links],
        "kind": [lk.kind for lk in links],
        "length_km": [lk.length_km for lk in links],
        "loss_db": [lk.loss_db for lk in links],
        "mode": [mode] * nl,
        "key_rate_per_pulse": [lk.key_rate_per_pulse for lk in links],
        "pulse_rate_hz": [spec.pulse_rate_hz] * nl,
        "key_rate_bps": [lk.key_rate_bps for lk in links],
        "qber": [lk.qber for lk in links],
        "mu": [lk.mu for lk in links],
        "nu": [lk.nu for lk in links],
        "status": [lk.status for lk in links],
        "bits_generated": pools.generated,
        "bits_consumed": pools.consumed,
        "bits_overflow": pools.overflow,
        "bits_left": pools.levels,
        "pool_capacity_bits": [pools.capacity_bits] * nl,
        "pool_mean_bits": lv.mean(axis=0) if nt else [np.nan] * nl,
        "pool_min_bits": lv.min(axis=0) if nt else [0] * nl,
        "pool_max_bits": lv.max(axis=0) if nt else [0] * nl,
    }
    return _table("link_key_rates", rates), _table("pool_levels", levels)


def _relay_table(
    flows: list[RelayFlow],
    paths: list[list[str] | None],
    lengths: list[float],
    out: RelayOutcome,
    duration_s: float,
) -> pa.Table:
    rows: dict[str, list[Any]] = {f.name: [] for f in QKD_SCHEMAS["relay"]}
    for i, f in enumerate(flows):
        w = np.asarray(out.waits_s[i], dtype=float)
        delivered = int(out.served[i]) * f.key_bits
        path = paths[i]
        vals = {
            "source": f.source,
            "destination": f.destination,
            "path": ">".join(path) if path else "",
            "hops": len(f.pools),
            "path_length_km": lengths[i],
            "key_bits_per_request": f.key_bits,
            "requests": int(f.arrivals_s.size),
            "served": int(out.served[i]),
            "blocked": int(out.blocked[i]),
            "blocked_no_route": int(out.blocked_no_route[i]),
            "pending": int(out.pending[i]),
            "delivered_bits": delivered,
            "key_rate_bps": delivered / duration_s,
            "mean_wait_s": float(w.mean()) if w.size else np.nan,
            "p95_wait_s": float(np.quantile(w, 0.95)) if w.size else np.nan,
            "max_wait_s": float(w.max()) if w.size else np.nan,
            "keys_matched": int(out.keys_matched[i]),
        }
        for k, v in vals.items():
            rows[k].append(v)
    return _table("relay", rows)


def _merge_flows(
    scenario: Scenario, graph: nx.Graph[str], duration_s: float, rng: np.random.Generator
) -> tuple[list[RelayFlow], list[list[str] | None], list[float]]:
    """One flow per configured request flow (same pair and settings are kept apart)."""
    flows, paths, lengths = [], [], []
    spec = scenario.qkd.relay
    for r in spec.requests:
        path = qkd_path(graph, r.source, r.destination, spec.path_metric)
        hops = list(itertools.pairwise(path)) if path else []
        pools = tuple(int(graph.edges[a, b]["index"]) for a, b in hops)
        arrivals = request_arrivals(
            rate_hz=r.rate_hz,
            start_s=r.start_s,
            end_s=duration_s,
            process=r.process,
            count=r.count,
            rng=rng,
        )
        flows.append(RelayFlow(r.source, r.destination, r.key_bits, arrivals, pools, r.max_wait_s))
        paths.append(path)
        lengths.append(float(sum(graph.edges[a, b]["length_km"] for a, b in hops)))
    return flows, paths, lengths


def _entanglement_table(
    scenario: Scenario,
    sim_result: SimulationResult | None,
    duration_s: float,
    rng: np.random.Generator,
) -> pa.Table:
    spec = scenario.qkd.entanglement
    empty: dict[str, list[Any]] = {f.name: [] for f in QKD_SCHEMAS["entanglement_qkd"]}
    if sim_result is None or not spec.enabled:
        return _table("entanglement_qkd", empty)
    d = sim_result.deliveries
    src = [str(x) for x in d.column("source").to_pylist()]
    dst = [str(x) for x in d.column("destination").to_pylist()]
    fid = d.column("fidelity").to_numpy(zero_copy_only=False).astype(float)
    groups: dict[frozenset[str], int] = {}
    shown: list[tuple[str, str]] = []
    for a, b in spec.pairs:
        if frozenset((a, b)) not in groups:
            groups[frozenset((a, b))] = len(shown)
            shown.append((a, b))
    fixed = bool(spec.pairs)
    gidx = np.full(len(src), -1, dtype=np.int64)
    for k, (a, b) in enumerate(zip(src, dst, strict=True)):
        key = frozenset((a, b))
        if key not in groups:
            if fixed:
                continue
            groups[key] = len(shown)
            shown.append((a, b))
        gidx[k] = groups[key]
    keep = (gidx >= 0) & np.isfinite(fid)
    stats = entanglement_key(
        np.clip(fid[keep], 0.0, 1.0), gidx[keep], len(shown), p_z=spec.p_z, f_ec=spec.f_ec, rng=rng
    )
    cols = {
        "source": [a for a, _ in shown],
        "destination": [b for _, b in shown],
        "pairs_delivered": stats.pairs,
        "mean_fidelity": stats.mean_fidelity,
        "sifted_bits": stats.sifted_bits,
        "expected_sifted_bits": stats.expected_sifted_bits,
        "errors": stats.errors,
        "qber_z": stats.qber_z,
        "qber_x": stats.qber_x,
        "expected_qber": stats.expected_qber,
        "key_bits_sampled": stats.key_bits_sampled,
        "key_bits_expected": stats.key_bits_expected,
        "key_rate_bps_sampled": stats.key_bits_sampled / duration_s,
        "key_rate_bps_expected": stats.key_bits_expected / duration_s,
    }
    return _table("entanglement_qkd", cols)


def _children(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in rng.integers(0, 2**63 - 1, size=n)]


def simulate_key_network(
    scenario: Scenario, sim_result: SimulationResult | None = None, *, rng: np.random.Generator
) -> KeyNetworkResult:
    """Run the key network of ``scenario`` over its ``duration_s`` (see the module doc).

    Args:
        scenario: a :class:`qnetai.config.models.Scenario` (resolved here if needed).
        sim_result: a :class:`qnetai.sim.SimulationResult` whose delivered pairs feed
            entanglement-based QKD; None leaves the ``entanglement_qkd`` table empty.
        rng: the only source of randomness (link simulation, request arrivals, relayed
            key bits and BBM92 measurement draw from independent child generators).

    Returns:
        :class:`KeyNetworkResult`; with ``qkd.enabled: false`` all tables are empty.
    """
    from qnetai.topology import resolve

    t0 = time.perf_counter()
    sc = resolve(scenario)
    check_key_network(sc)
    spec = sc.qkd
    duration = float(sc.duration_s)
    if sim_result is not None and sim_result.summary.get("simulated_s"):
        duration = float(sim_result.summary["simulated_s"])
    if not duration > 0:
        raise InputError(f"duration_s must be > 0 (got {duration})")
    r_links, r_arrivals, r_relay, r_ent = _children(rng, 4)
    links_spec = [lk for lk in sc.links if lk.qkd] if spec.enabled else []
    links = link_key_rates(links_spec, spec, rng=r_links)
    rates = np.array([lk.key_rate_bps for lk in links], dtype=float)
    if spec.mode == "simulate" and links:
        supply = KeySupply(
            rates,
            pulse_rate_hz=spec.pulse_rate_hz,
            chunks_bits=np.array([lk.chunks_bits for lk in links]),
            block_pulses=spec.simulate.block_pulses,
        )
    else:
        supply = KeySupply(rates, pulse_rate_hz=spec.pulse_rate_hz)
    pools = KeyPools(
        len(links), capacity_bits=spec.pool_capacity_bits, initial_bits=spec.initial_pool_bits
    )
    graph = _qkd_graph(sc)
    flows, paths, lengths = (
        _merge_flows(sc, graph, duration, r_arrivals) if spec.enabled else ([], [], [])
    )
    out = simulate_relay(
        flows,
        pools,
        supply,
        duration_s=duration,
        time_step_s=spec.time_step_s,
        record_interval_s=spec.record_interval_s,
        rng=r_relay,
    )
    link_table, levels = _pool_tables(links, pools, out, spec, spec.mode)
    relay = _relay_table(flows, paths, lengths, out, duration)
    ent = (
        _entanglement_table(sc, sim_result, duration, r_ent)
        if spec.enabled
        else _table("entanglement_qkd", {f.name: [] for f in QKD_SCHEMAS["entanglement_qkd"]})
    )
    served = int(out.served.sum())
    delivered = int(sum(int(s) * f.key_bits for s, f in zip(out.served, flows, strict=True)))
    ks = np.asarray(ent.column("key_bits_sampled").to_numpy(), dtype=float)
    ke = np.asarray(ent.column("key_bits_expected").to_numpy(), dtype=float)
    summary = {
        "enabled": spec.enabled,
        "mode": spec.mode,
        "duration_s": duration,
        "qkd_links": len(links),
        "pulse_rate_hz": spec.pulse_rate_hz,
        "link_key_rate_bps_total": float(rates.sum()),
        "bits_generated": int(pools.generated.sum()),
        "bits_consumed": int(pools.consumed.sum()),
        "bits_left": int(pools.levels.sum()),
        "bits_overflow": int(pools.overflow.sum()),
        "pools_conserved": pools.conserved(),
        "relay_flows": len(flows),
        "relay_requests": int(sum(f.arrivals_s.size for f in flows)),
        "relay_served": served,
        "relay_blocked": int(out.blocked.sum()),
        "relay_pending": int(out.pending.sum()),
        "relay_delivered_bits": delivered,
        "relay_key_rate_bps": delivered / duration,
        "relay_keys_matched": int(out.keys_matched.sum()),
        "relay_keys_all_match": bool(int(out.keys_matched.sum()) == served),
        "entanglement_user_pairs": ent.num_rows,
        "entanglement_pairs_measured": int(np.sum(ent.column("pairs_delivered").to_numpy())),
        "entanglement_key_bits_sampled": float(ks.sum()),
        "entanglement_key_bits_expected": float(ke.sum()),
        "entanglement_key_rate_bps_sampled": float(ks.sum()) / duration,
        "entanglement_key_rate_bps_expected": float(ke.sum()) / duration,
        "wall_time_s": time.perf_counter() - t0,
    }
    return KeyNetworkResult(
        summary=summary,
        link_key_rates=link_table,
        pool_levels=levels,
        relay=relay,
        entanglement_qkd=ent,
    )
