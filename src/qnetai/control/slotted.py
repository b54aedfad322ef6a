"""The time-slotted multi-request entanglement routing model of Q-CAST.

Shi and Qian, "Concurrent Entanglement Routing for Quantum Networks: Model and Designs",
SIGCOMM 2020. A network has nodes with a qubit capacity and edges with a number of quantum
channels (its width); a channel of edge ``e`` yields a Bell pair in a slot with probability
``p_e = exp(-alpha * L_e)``; an entanglement swap succeeds with probability ``q``. Each slot:

1. requests (source-destination pairs) arrive;
2. a policy picks paths and widths under capacity (each channel of width ``w`` on an edge uses
   ``w`` channels of that edge and ``w`` qubits at each of its two endpoints);
3. every allocated channel succeeds independently (link generation);
4. nodes swap: a path of ``h`` hops whose hop ``k`` has ``X_k`` successful channels carries
   ``min_k X_k`` parallel chains, each of which needs ``h - 1`` successful swaps.

What is implemented of Q-CAST's phase 4 ("local knowledge"): main paths with their widths,
with channels joined across each hop by the swapping nodes (the ``min`` above); recovery paths
are not modelled (so a failed hop is not bypassed). The expected number of pairs of a path is
then exactly Q-CAST's EXT (:func:`ext`), which :func:`simulate_slot` samples.

Example:
    >>> net = waxman_network(30, seed=1)
    >>> reqs = sample_requests(net, 5, np.random.default_rng(0))
    >>> reqs.shape
    (5, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice, pairwise

import networkx as nx
import numpy as np

from qnetai.errors import InputError


def _binom_sf(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``scipy.stats.binom.sf(k, n, p)`` for ``k >= 0`` without importing scipy.stats (~1 s).

    The same ufunc (``scipy.special``'s Boost binomial survival) that ``binom.sf`` calls,
    with its convention ``sf = 0`` for ``k >= n``; bitwise equal to ``binom.sf``.
    """
    try:
        from scipy.special._ufuncs import _binom_sf as sf
    except ImportError:  # pragma: no cover - private scipy name moved: the public route
        from scipy.stats import binom

        return binom.sf(k, n, p)
    k, n, p = np.broadcast_arrays(k, n, p)
    return np.where(k >= n, 0.0, sf(k, n, p))


Path = tuple[int, ...]


# --------------------------------------------------------------------------- EXT


def ext_reference(p_hops: Sequence[float], widths: Sequence[int], q: float) -> float:
    """Q-CAST's EXT by the paper's recursion (reference implementation, scalar).

    ``Q^k_i = C(W_k, i) p_k^i (1-p_k)^(W_k-i)`` is the chance that exactly ``i`` channels of
    hop ``k`` succeed; ``P^k_i`` the chance that the first ``k`` hops carry exactly ``i``
    chains: ``P^1_i = Q^1_i`` and
    ``P^k_i = P^(k-1)_i * sum_{l>=i} Q^k_l + Q^k_i * sum_{l>i} P^(k-1)_l``.
    ``EXT = q^(h-1) * sum_i i * P^h_i`` (``h - 1`` swaps per chain).

    Example:
        >>> round(ext_reference([0.5], [2], 0.9), 6)
        1.0
    """
    if len(p_hops) != len(widths) or not p_hops:
        raise InputError("p_hops and widths must be non-empty and of equal length")
    w_max = max(int(w) for w in widths)

    def q_dist(p: float, w: int) -> list[float]:
        return [
            math.comb(w, i) * p**i * (1 - p) ** (w - i) if i <= w else 0.0 for i in range(w_max + 1)
        ]

    prev = q_dist(float(p_hops[0]), int(widths[0]))
    for p, w in zip(p_hops[1:], widths[1:], strict=True):
        cur_q = q_dist(float(p), int(w))
        prev = [prev[i] * sum(cur_q[i:]) + cur_q[i] * sum(prev[i + 1 :]) for i in range(w_max + 1)]
    h = len(p_hops)
    return q ** (h - 1) * sum(i * prev[i] for i in range(w_max + 1))


def ext(p_hops: np.ndarray, widths: np.ndarray | int, q: float) -> np.ndarray:
    """EXT of paths, vectorised: ``q^(h-1) * sum_i prod_k P(Bin(W_k, p_k) >= i)``.

    ``p_hops`` has shape ``(..., h)`` (all paths of the batch have ``h`` hops; pad a shorter
    path with ``p = 1`` hops of large width and pass ``q`` accordingly, or call per hop count);
    ``widths`` broadcasts against it. This equals :func:`ext_reference` because
    ``E[min_k X_k] = sum_{i>=1} P(min_k X_k >= i)`` for independent ``X_k``.

    Example:
        >>> float(np.round(ext(np.array([0.5, 0.5]), 2, 1.0), 6))  # 0.75**2 + 0.25**2
        0.625
    """
    p = np.asarray(p_hops, dtype=float)
    w = np.broadcast_to(np.asarray(widths, dtype=np.int64), p.shape)
    h = p.shape[-1]
    w_top = int(w.max()) if w.size else 0
    i = np.arange(1, w_top + 1)
    surv = _binom_sf(i - 1, w[..., None], p[..., None])  # (..., h, W)
    return q ** (h - 1) * surv.prod(axis=-2).sum(axis=-1)


# --------------------------------------------------------------------------- network


@dataclass(frozen=True, eq=False)
class SlottedNetwork:
    """A Q-CAST network: nodes with qubit ``capacity``, edges with ``channels`` and ``p_link``.

    ``edges`` is ``(m, 2)`` with ``u < v``; arrays are per edge / per node. Derived look-ups
    (neighbours, edge ids, candidate-path cache, per-edge survival tables) are built once.
    """

    positions_km: np.ndarray
    edges: np.ndarray
    length_km: np.ndarray
    p_link: np.ndarray
    channels: np.ndarray
    capacity: np.ndarray
    q_swap: float = 0.9
    name: str = "slotted"
    _edge_id: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    _neigh: list[list[tuple[int, int]]] = field(default_factory=list, repr=False)
    _paths: dict[tuple[int, int, int], list[Path]] = field(default_factory=dict, repr=False)
    _ext_cache: dict[Path, np.ndarray] = field(default_factory=dict, repr=False)
    # survival[e, w, i-1] = P(Bin(w, p_e) >= i), set in __post_init__
    survival: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        e = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        n = len(self.capacity)
        if not 0.0 < self.q_swap <= 1.0:
            raise InputError(f"q_swap must be in (0, 1] (got {self.q_swap})")
        if np.any((self.p_link <= 0) | (self.p_link > 1)):
            raise InputError("p_link must be in (0, 1] for every edge")
        if np.any(self.channels < 1) or np.any(self.capacity < 0):
            raise InputError("channels must be >= 1 and capacity >= 0")
        neigh: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for k, (u, v) in enumerate(e.tolist()):
            self._edge_id[(u, v)] = k
            self._edge_id[(v, u)] = k
            neigh[u].append((v, k))
            neigh[v].append((u, k))
        self._neigh.extend(neigh)
        w_top = int(self.channels.max())
        i = np.arange(1, w_top + 1)
        w = np.arange(w_top + 1)
        # survival[e, w, i-1] = P(Bin(w, p_e) >= i)
        object.__setattr__(
            self,
            "survival",
            _binom_sf(i[None, None, :] - 1, w[None, :, None], self.p_link[:, None, None]),
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.capacity)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edges)

    @property
    def max_channels(self) -> int:
        """The largest edge width."""
        return int(self.channels.max())

    def neighbours(self, u: int) -> list[tuple[int, int]]:
        """``[(neighbour, edge id), ...]`` of node ``u``."""
        return self._neigh[u]

    def edge_id(self, u: int, v: int) -> int:
        """The id of edge ``{u, v}`` (KeyError if absent)."""
        return self._edge_id[(u, v)]

    def path_edges(self, path: Path) -> np.ndarray:
        """Edge ids along ``path``."""
        return np.array([self._edge_id[(a, b)] for a, b in pairwise(path)], dtype=np.int64)

    def path_ext(self, path: Path) -> np.ndarray:
        """EXT of ``path`` at widths ``0..W`` (``W`` its narrowest edge), cached."""
        got = self._ext_cache.get(path)
        if got is None:
            e = self.path_edges(path)
            w_max = int(self.channels[e].min())
            table = self.survival[e, : w_max + 1, :w_max].prod(axis=0).sum(axis=-1)
            got = self.q_swap ** (len(e) - 1) * table
            self._ext_cache[path] = got
        return got

    def graph(self) -> nx.Graph[int]:
        """The network as a networkx graph (edge attrs: ``id``, ``cost`` = -ln p - ln q)."""
        g: nx.Graph[int] = nx.Graph()
        g.add_nodes_from(range(self.n_nodes))
        cost = -np.log(self.p_link) - math.log(self.q_swap)
        for k, (u, v) in enumerate(self.edges.tolist()):
            g.add_edge(u, v, id=k, cost=float(cost[k]))
        return g

    def candidate_paths(self, source: int, destination: int, k: int = 4) -> list[Path]:
        """``k`` good, diverse simple paths by width-1 EXT (cost ``-ln p - ln q`` per hop).

        The best ``ceil(k / 2)`` come from Yen's algorithm; the rest from repeated Dijkstra
        runs in which the cost of every edge already used is tripled (so they avoid the
        bottlenecks of the first ones). Cached per ``(source, destination, k)``; reversed
        requests share the cache.
        """
        key = (source, destination, k)
        if key in self._paths:
            return self._paths[key]
        rev = self._paths.get((destination, source, k))
        if rev is not None:
            got = [p[::-1] for p in rev]
        else:
            got = self._search_paths(source, destination, k)
        self._paths[key] = got
        return got

    def _search_paths(self, source: int, destination: int, k: int) -> list[Path]:
        g = self.__dict__.get("_graph")
        if g is None:
            g = self.graph()
            object.__setattr__(self, "_graph", g)
        try:
            gen = nx.shortest_simple_paths(g, source, destination, weight="cost")
            got = [tuple(p) for p in islice(gen, (k + 1) // 2)]
        except nx.NetworkXNoPath:
            return []
        cost = {(u, v): d["cost"] for u, v, d in g.edges(data=True)}
        for p in got:
            for a, b in pairwise(p):
                e = (a, b) if (a, b) in cost else (b, a)
                cost[e] *= 3.0
        tries = 0
        while len(got) < k and tries < 2 * k:
            tries += 1
            p = tuple(
                nx.dijkstra_path(
                    g,
                    source,
                    destination,
                    weight=lambda u, v, _d: cost[(u, v)] if (u, v) in cost else cost[(v, u)],
                )
            )
            for a, b in pairwise(p):
                e = (a, b) if (a, b) in cost else (b, a)
                cost[e] *= 3.0
            if p not in got:
                got.append(p)
        return got


def _tune_alpha(length_km: np.ndarray, mean_p: float) -> float:
    """The ``alpha`` for which the mean of ``exp(-alpha L)`` over the edges is ``mean_p``."""
    lo, hi = 0.0, 50.0 / max(float(length_km.min()), 1e-9)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if np.exp(-mid * length_km).mean() > mean_p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def waxman_network(
    n_nodes: int = 100,
    *,
    avg_degree: float = 6.0,
    area_km: float = 100.0,
    waxman_alpha: float = 0.4,
    mean_p: float = 0.6,
    q_swap: float = 0.9,
    channels: tuple[int, int] = (3, 7),
    capacity: tuple[int, int] = (10, 14),
    seed: int = 0,
) -> SlottedNetwork:
    """A Q-CAST-like Waxman instance (connected), reproducible from ``seed``.

    Nodes are uniform on a square of side ``area_km``; pairs join with probability
    ``beta * exp(-d / (waxman_alpha * D))`` (``D`` the largest distance), ``beta`` set so the
    expected mean degree is ``avg_degree``; components are joined by their shortest links.
    Link success ``p = exp(-alpha L)`` with ``alpha`` tuned so the edges' mean ``p`` is
    ``mean_p``; widths uniform in ``channels``, qubit capacities uniform in ``capacity``
    (inclusive ranges; Q-CAST's defaults are 3-7 channels and 10-14 qubits, q = 0.9).

    Example:
        >>> net = waxman_network(50, seed=3)
        >>> net.n_nodes, bool(abs(2 * net.n_edges / 50 - 6) < 1.5)
        (50, True)
    """
    from qnetai.topology import connect_components

    if n_nodes < 3:
        raise InputError(f"nodes must be >= 3 (got {n_nodes})")
    if not 1.0 <= avg_degree < n_nodes:
        raise InputError(f"avg_degree must be in [1, nodes) (got {avg_degree})")
    if not 0.0 < mean_p <= 1.0:
        raise InputError(f"mean_p must be in (0, 1] (got {mean_p})")
    if not (1 <= channels[0] <= channels[1]) or not (1 <= capacity[0] <= capacity[1]):
        raise InputError("channels and capacity ranges must be (low, high) with 1 <= low <= high")
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0.0, area_km, size=(n_nodes, 2))
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    iu, ju = np.triu_indices(n_nodes, 1)
    w = np.exp(-d[iu, ju] / (waxman_alpha * d.max()))
    prob = np.minimum(1.0, w * (avg_degree * n_nodes / 2) / w.sum())
    keep = rng.random(len(w)) < prob
    edges = np.stack([iu[keep], ju[keep]], axis=1)
    edges = connect_components(pos, edges)
    edges = np.sort(edges, axis=1)
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))]
    length = d[edges[:, 0], edges[:, 1]]
    alpha = _tune_alpha(length, mean_p)
    return SlottedNetwork(
        positions_km=pos,
        edges=edges,
        length_km=length,
        p_link=np.exp(-alpha * length),
        channels=rng.integers(channels[0], channels[1] + 1, size=len(edges)),
        capacity=rng.integers(capacity[0], capacity[1] + 1, size=n_nodes),
        q_swap=q_swap,
        name=f"waxman-{n_nodes}-s{seed}",
    )


def scenario_network(
    name: str = "metro-6g", *, mean_p: float = 0.6, q_swap: float = 0.9
) -> SlottedNetwork:
    """A slotted network from a built-in scenario's topology (e.g. ``metro-6g``).

    Widths are the links' ``multiplexing``, capacities the nodes' ``memory_qubits``;
    ``p = exp(-alpha L)`` with ``alpha`` tuned to ``mean_p`` as in :func:`waxman_network`.
    """
    from qnetai.config import builtin_scenario
    from qnetai.topology import to_graph

    g = to_graph(builtin_scenario(name))
    names = list(g.nodes)
    index = {n: i for i, n in enumerate(names)}
    pos = np.array([g.nodes[n]["pos"] or (0.0, 0.0) for n in names], dtype=float)
    edges, length, chan = [], [], []
    for a, b, data in g.edges(data=True):
        u, v = sorted((index[a], index[b]))
        edges.append((u, v))
        length.append(float(data["length_km"]))
        chan.append(int(data["spec"].multiplexing))
    length_arr = np.array(length)
    alpha = _tune_alpha(length_arr, mean_p)
    return SlottedNetwork(
        positions_km=pos,
        edges=np.array(edges, dtype=np.int64),
        length_km=length_arr,
        p_link=np.exp(-alpha * length_arr),
        channels=np.array(chan, dtype=np.int64),
        capacity=np.array([g.nodes[n]["spec"].memory_qubits for n in names], dtype=np.int64),
        q_swap=q_swap,
        name=name,
    )


def sample_requests(net: SlottedNetwork, n_requests: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_requests, 2)`` source-destination pairs, uniform over ordered pairs ``s != d``."""
    if n_requests < 1:
        raise InputError(f"requests must be >= 1 (got {n_requests})")
    n = net.n_nodes
    s = rng.integers(0, n, size=n_requests)
    d = (s + rng.integers(1, n, size=n_requests)) % n
    return np.stack([s, d], axis=1)


# --------------------------------------------------------------------------- allocations


@dataclass(frozen=True)
class Allocation:
    """Paths and widths chosen for a slot: ``paths[j]`` serves request ``request[j]``.

    ``decision_time_s`` is the policy's wall time to decide it.
    """

    request: np.ndarray
    paths: tuple[Path, ...]
    widths: np.ndarray
    decision_time_s: float = 0.0

    @staticmethod
    def from_list(
        items: Sequence[tuple[int, Path, int]], decision_time_s: float = 0.0
    ) -> Allocation:
        """Build from ``[(request, path, width), ...]`` (zero widths dropped)."""
        items = [it for it in items if it[2] > 0]
        return Allocation(
            request=np.array([it[0] for it in items], dtype=np.int64),
            paths=tuple(tuple(int(x) for x in it[1]) for it in items),
            widths=np.array([it[2] for it in items], dtype=np.int64),
            decision_time_s=decision_time_s,
        )

    def __len__(self) -> int:
        return len(self.paths)


def usage(net: SlottedNetwork, alloc: Allocation) -> tuple[np.ndarray, np.ndarray]:
    """Channels used per edge ``(m,)`` and qubits used per node ``(n,)``."""
    edge_used = np.zeros(net.n_edges, dtype=np.int64)
    node_used = np.zeros(net.n_nodes, dtype=np.int64)
    for path, w in zip(alloc.paths, alloc.widths.tolist(), strict=True):
        e = net.path_edges(path)
        np.add.at(edge_used, e, w)
        np.add.at(node_used, net.edges[e].ravel(), w)
    return edge_used, node_used


def is_feasible(net: SlottedNetwork, alloc: Allocation) -> bool:
    """Whether ``alloc`` respects every edge's channels and every node's qubit capacity."""
    for path in alloc.paths:
        if len(path) < 2 or len(set(path)) != len(path):
            return False
        if any((a, b) not in net._edge_id for a, b in pairwise(path)):
            return False
    edge_used, node_used = usage(net, alloc)
    return bool(np.all(edge_used <= net.channels) and np.all(node_used <= net.capacity))


def expected_pairs(net: SlottedNetwork, alloc: Allocation) -> np.ndarray:
    """EXT of each allocated path at its width, ``(len(alloc),)``."""
    return np.array(
        [net.path_ext(p)[w] for p, w in zip(alloc.paths, alloc.widths.tolist(), strict=True)],
        dtype=float,
    )


def simulate_slot(
    net: SlottedNetwork, alloc: Allocation, rng: np.random.Generator, *, samples: int = 1
) -> np.ndarray:
    """End-to-end pairs delivered by each allocated path, ``(samples, len(alloc))``.

    Link generation draws ``Bin(w, p_e)`` successes per hop; the ``min`` over the hops are
    the chains; each chain survives its ``h - 1`` swaps with probability ``q^(h-1)``.
    """
    k = len(alloc)
    if k == 0:
        return np.zeros((samples, 0), dtype=np.int64)
    hop_edges = [net.path_edges(p) for p in alloc.paths]
    hops = np.array([len(e) for e in hop_edges])
    flat = np.concatenate(hop_edges)
    width_per_hop = np.repeat(alloc.widths, hops)
    ok = rng.binomial(width_per_hop[None, :], net.p_link[flat][None, :], size=(samples, len(flat)))
    starts = np.concatenate([[0], np.cumsum(hops)[:-1]])
    chains = np.minimum.reduceat(ok, starts, axis=1)
    return rng.binomial(chains, net.q_swap ** (hops - 1)[None, :].astype(float))


def pairs_per_request(alloc: Allocation, pairs: np.ndarray, n_requests: int) -> np.ndarray:
    """Sum delivered pairs ``(samples, len(alloc))`` per request -> ``(samples, n_requests)``."""
    out = np.zeros((pairs.shape[0], n_requests), dtype=pairs.dtype)
    if len(alloc):
        np.add.at(out.T, alloc.request, pairs.T)  # out[:, request[j]] += pairs[:, j]
    return out


def jain_index(x: np.ndarray) -> np.ndarray:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` over the last axis (1 when all zero)."""
    x = np.asarray(x, dtype=float)
    num = x.sum(axis=-1) ** 2
    den = x.shape[-1] * (x**2).sum(axis=-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
