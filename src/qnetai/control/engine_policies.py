"""Event-engine routing policies beyond shortest paths: widest path, Q-CAST's EXT, exact argmax.

These are :class:`~qnetai.control.policy.RoutingPolicy` adapters: the engine calls
``choose_path(graph, source, destination, state=sim)`` once per arriving request. They read
only what a controller knows: the static link figures (per-attempt, per-channel success
probability ``p``, the number of channels ``multiplexing`` and the attempt period, read from
the engine's own link models; see :func:`link_table`), the swap success probability of the
scenario,
and the dynamic :class:`~qnetai.control.policy.NetworkState` (free memory per node, queue
length). They never see link outcomes or stored pairs.

- ``widest-path``: the exact shortest-widest path. Its bottleneck is the number of free
  memory qubits a request can still reserve along the path, ``min(free(s), free(d),
  min_inner free(v) // 2)``, maximised over all simple paths; ties go to the larger
  bottleneck of the links' round success probability ``1 - (1 - p)^m``, then to the shortest
  path by ``metric`` (hops or length).
- ``q-cast``: Q-CAST's EXT (:func:`qnetai.control.slotted.ext`) of one synchronised
  attempt round, widths = the links' multiplexing, ``q`` = ``operations.swap_success_probability``,
  maximised over ``k`` shortest candidate paths; candidates whose nodes lack free memory for
  the request (1 qubit at the ends, 2 inside) rank after those that have it; ties go to fewer
  hops, then shorter length.
- ``milp``, ``ga``, ``pso``, ``de``, ``sa``, ``cma``: with one request decided at a time the
  path choice is a discrete problem over ``k`` candidates that is solved exactly by
  enumeration, so in the event engine these reduce to the exact argmax of EXT over the
  candidate set (the same choice as ``q-cast`` with the same ``k``). Their distinct value
  shows in the slotted benchmark (:mod:`qnetai.control.slotted_bench`), where many requests
  compete for channels and qubits in one slot.

Example:
    >>> import networkx as nx
    >>> g = nx.Graph()
    >>> g.add_edge("A", "B", p_success=0.5, multiplexing=2, length_km=1.0)
    >>> g.add_edge("B", "C", p_success=0.5, multiplexing=2, length_km=1.0)
    >>> g.add_edge("A", "C", p_success=0.1, multiplexing=1, length_km=1.0)
    >>> ExtPolicy().choose_path(g, "A", "C", state=None)
    ['A', 'B', 'C']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Any

import networkx as nx
import numpy as np

from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.sim.linklayer import LinkModel, build_link_model


@dataclass(frozen=True)
class LinkFigures:
    """Static figures of one link: success per attempt and channel, channels, attempt period."""

    p_success: float
    multiplexing: int
    attempt_s: float

    @property
    def round_success(self) -> float:
        """Probability that one attempt round (all channels) heralds at least one pair."""
        p = min(max(self.p_success, 0.0), 1.0)
        return 1.0 if p >= 1.0 else -math.expm1(self.multiplexing * math.log1p(-p))


def engine_link_models(scenario: Scenario) -> dict[tuple[str, str], LinkModel]:
    """The engine's link models of ``scenario``, keyed by both orientations of each link.

    Built by :func:`qnetai.sim.linklayer.build_link_model` with the scenario's
    ``classical.speed_km_per_s`` and ``processing_delay_s`` and the endpoints' node specs
    (memory efficiency included), exactly as :class:`qnetai.sim.Simulation` builds its own;
    the scenario is resolved first. A time-varying free-space link is taken at ``t = 0``.

    Example:
        >>> from qnetai.config import builtin_scenario
        >>> models = engine_link_models(builtin_scenario("metro-6g"))
        >>> all(m.attempt_s > 0 for m in models.values())
        True
    """
    from qnetai.topology import resolve

    sc = resolve(scenario)
    nodes = {n.name: n for n in sc.nodes}
    out: dict[tuple[str, str], LinkModel] = {}
    for i, spec in enumerate(sc.links):
        a, b = spec.endpoints
        lm = build_link_model(
            i,
            spec,
            nodes[a],
            nodes[b],
            speed_km_per_s=float(sc.classical.speed_km_per_s),
            processing_delay_s=float(sc.classical.processing_delay_s),
        )
        out[(a, b)] = out[(b, a)] = lm
    return out


def _figures(lm: LinkModel) -> LinkFigures:
    return LinkFigures(float(lm.p_success), int(lm.multiplexing), float(lm.attempt_s))


def link_table(graph: nx.Graph, state: Any = None) -> dict[tuple[str, str], LinkFigures]:
    """``{(a, b): LinkFigures}`` for both orientations of every edge of ``graph``.

    The one source of these figures is the engine's link models: the running engine's own
    (``state.links``, the :class:`~qnetai.sim.linklayer.LinkModel` list of a
    :class:`qnetai.sim.Simulation`), else those the engine would build for ``state.scenario``
    (:func:`engine_link_models`). A graph without a running engine may instead carry the
    figures as edge attributes ``p_success`` (and optionally ``multiplexing``,
    ``attempt_s``), as the doctests and the slotted model do. Anything else is an
    :class:`~qnetai.errors.InputError` (no default figures are guessed).
    """
    models: dict[tuple[str, str], LinkModel] = {}
    links = getattr(state, "links", None)
    if links is not None:
        for lm in links:
            models[(lm.a, lm.b)] = models[(lm.b, lm.a)] = lm
    elif isinstance(getattr(state, "scenario", None), Scenario):
        models = engine_link_models(state.scenario)
    out: dict[tuple[str, str], LinkFigures] = {}
    for a, b, data in graph.edges(data=True):
        lm = models.get((a, b))
        if lm is not None:
            fig = _figures(lm)
        elif "p_success" in data:
            fig = LinkFigures(
                float(data["p_success"]),
                int(data.get("multiplexing", 1)),
                float(data.get("attempt_s", 1.0)),
            )
        else:
            raise InputError(
                f"link {a}-{b}: no link figures; pass the running simulation (or an object "
                "with its scenario) as state, or give the edge a p_success attribute"
            )
        out[(a, b)] = out[(b, a)] = fig
    return out


def swap_probability(graph: nx.Graph, state: Any) -> float:
    """``operations.swap_success_probability`` (graph attribute, else the state's scenario)."""
    if "swap_success_probability" in graph.graph:
        return float(graph.graph["swap_success_probability"])
    sc = getattr(state, "scenario", None)
    ops = getattr(sc, "operations", None)
    return float(getattr(ops, "swap_success_probability", 1.0))


def path_length_km(graph: nx.Graph, path: list[str]) -> float:
    """Sum of the edges' ``length_km`` (0 where absent)."""
    return float(sum(graph.edges[a, b].get("length_km", 0.0) for a, b in pairwise(path)))


def memory_need(path: list[str]) -> list[int]:
    """Qubits one request reserves per path node: 1 at the ends, 2 inside."""
    return [1] + [2] * (len(path) - 2) + [1]


def has_memory(path: list[str], state: Any) -> bool:
    """Whether every node of ``path`` has the free memory to admit a request now."""
    if state is None or not hasattr(state, "free_memory"):
        return True
    return all(state.free_memory(v) >= n for v, n in zip(path, memory_need(path), strict=True))


def path_ext(figs: dict[tuple[str, str], LinkFigures], path: list[str], q_swap: float) -> float:
    """Q-CAST's EXT of ``path`` for one attempt round (widths = multiplexing)."""
    from qnetai.control.slotted import ext

    hops = list(pairwise(path))
    p = np.array([[min(max(figs[e].p_success, 0.0), 1.0) for e in hops]])
    w = np.array([[figs[e].multiplexing for e in hops]])
    return float(ext(p, w, q_swap)[0])


class _GraphCache:
    """Per-graph caches (the engine's graph is immutable while it runs)."""

    def __init__(self, metric: str, k: int) -> None:
        if metric not in ("hops", "length_km"):
            raise InputError(
                f"controller.path_metric must be 'hops' or 'length_km' (got {metric!r})"
            )
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"k (candidate paths) must be an integer >= 1 (got {k!r})")
        self.metric = metric
        self.k = k
        self._graph_id: int | None = None
        self._figs: dict[tuple[str, str], LinkFigures] | None = None
        self._cands: dict[tuple[str, str], list[list[str]]] = {}

    def bind(self, graph: nx.Graph) -> bool:
        """Reset the caches for a new graph; whether it was new."""
        if id(graph) == self._graph_id:
            return False
        self._graph_id = id(graph)
        self._figs = None
        self._cands = {}
        return True

    def figures(self, graph: nx.Graph, state: Any) -> dict[tuple[str, str], LinkFigures]:
        """The link figures of ``graph`` (:func:`link_table`, computed once per graph)."""
        self.bind(graph)
        if self._figs is None:
            self._figs = link_table(graph, state)
        return self._figs

    def candidates(self, graph: nx.Graph, source: str, destination: str) -> list[list[str]]:
        """The ``k`` shortest simple paths by ``metric`` (cached; reversed requests share)."""
        key = (source, destination)
        got = self._cands.get(key)
        if got is not None:
            return got
        rev = self._cands.get((destination, source))
        if rev is not None:
            got = [p[::-1] for p in rev]
        elif source not in graph or destination not in graph or source == destination:
            got = []
        else:
            weight = None if self.metric == "hops" else "length_km"
            try:
                got = [
                    list(p)
                    for p in islice(
                        nx.shortest_simple_paths(graph, source, destination, weight=weight), self.k
                    )
                ]
            except nx.NetworkXNoPath:
                got = []
        self._cands[key] = got
        return got


class ExtPolicy:
    """The max-EXT path among ``k`` shortest candidates (``q-cast`` and the exact solvers).

    Ranking: candidates whose nodes all have free memory for the request first, then larger
    EXT, fewer hops, shorter length. ``name`` is the registered name it is built under.
    """

    name = "q-cast"

    def __init__(self, metric: str = "hops", *, k: int = 6, name: str | None = None) -> None:
        self._cache = _GraphCache(metric, k)
        if name is not None:
            self.name = name
        self._ext: dict[tuple[str, ...], float] = {}
        self._q: float | None = None
        self._ext_graph: int | None = None

    @property
    def k(self) -> int:
        """Number of candidate paths."""
        return self._cache.k

    def candidates(self, graph: nx.Graph, source: str, destination: str) -> list[list[str]]:
        """The candidate paths of a request."""
        self._cache.bind(graph)
        return self._cache.candidates(graph, source, destination)

    def link_figures(
        self, graph: nx.Graph, state: Any = None
    ) -> dict[tuple[str, str], LinkFigures]:
        """The static link figures this policy ranks by (:func:`link_table`; cached per graph).

        Example:
            >>> g = nx.Graph()
            >>> g.add_edge("A", "B", p_success=0.5, multiplexing=2)
            >>> round(ExtPolicy().link_figures(g)[("A", "B")].round_success, 2)
            0.75
        """
        return self._cache.figures(graph, state)

    def ext(self, graph: nx.Graph, path: list[str], state: Any = None) -> float:
        """EXT of ``path`` (cached per path)."""
        figs = self._cache.figures(graph, state)
        if self._ext_graph != id(graph):
            self._ext_graph = id(graph)
            self._ext = {}
            self._q = swap_probability(graph, state)
        key = tuple(path)
        got = self._ext.get(key)
        if got is None:
            assert self._q is not None
            got = self._ext[key] = path_ext(figs, path, self._q)
        return got

    def score(self, graph: nx.Graph, path: list[str], state: Any) -> tuple[float, ...]:
        """The ranking key of a candidate (larger is better)."""
        return (
            float(has_memory(path, state)),
            self.ext(graph, path, state),
            -float(len(path)),
            -path_length_km(graph, path),
        )

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any = None
    ) -> list[str] | None:
        """The best candidate, or ``None`` when the nodes are not connected."""
        cands = self.candidates(graph, source, destination)
        if not cands:
            return None
        keys = [self.score(graph, p, state) for p in cands]
        return list(cands[max(range(len(cands)), key=keys.__getitem__)])


def _connected(adj: dict[str, list[str]], ok: Any, source: str, destination: str) -> bool:
    """BFS from ``source`` to ``destination`` over nodes/edges accepted by ``ok(u, v)``."""
    seen = {source}
    frontier = [source]
    while frontier:
        nxt = []
        for u in frontier:
            for v in adj[u]:
                if v not in seen and ok(u, v):
                    if v == destination:
                        return True
                    seen.add(v)
                    nxt.append(v)
        frontier = nxt
    return False


class WidestPathPolicy:
    """The exact shortest-widest path (see the module docstring for the bottleneck).

    For each level of the memory bottleneck (and then of the links' round success) it checks
    by BFS whether the endpoints stay connected through nodes and links at that level; the
    shortest path by ``metric`` in the widest connected subgraph is returned.
    """

    name = "widest-path"

    def __init__(self, metric: str = "hops") -> None:
        self._cache = _GraphCache(metric, 1)
        self._adj: dict[str, list[str]] = {}
        self._gid: int | None = None

    @staticmethod
    def memory_bottleneck(path: list[str], state: Any) -> float:
        """``min(free(s), free(d), min_inner free(v) // 2)`` (``inf`` without a state)."""
        if state is None or not hasattr(state, "free_memory"):
            return math.inf
        return float(
            min(state.free_memory(v) // n for v, n in zip(path, memory_need(path), strict=True))
        )

    def link_bottleneck(self, graph: nx.Graph, path: list[str], state: Any = None) -> float:
        """The smallest round success probability of the path's links."""
        figs = self._cache.figures(graph, state)
        return min(figs[e].round_success for e in pairwise(path))

    def _bind(self, graph: nx.Graph) -> None:
        if self._gid != id(graph):
            self._gid = id(graph)
            self._adj = {u: list(nbrs) for u, nbrs in graph.adjacency()}

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any = None
    ) -> list[str] | None:
        """The shortest-widest path, or ``None`` when the nodes are not connected."""
        if source not in graph or destination not in graph or source == destination:
            return None
        self._bind(graph)
        adj, figs = self._adj, self._cache.figures(graph, state)
        if not _connected(adj, lambda u, v: True, source, destination):
            return None
        use_mem = state is not None and hasattr(state, "free_memory")
        cap: dict[str, float] = {}
        if use_mem:
            cap = {v: float(state.free_memory(v) // 2) for v in adj}
            cap[source] = float(state.free_memory(source))
            cap[destination] = float(state.free_memory(destination))
        ends = min(cap[source], cap[destination]) if use_mem else math.inf

        def best_level(levels: list[float], accept: Any) -> float:
            lo, hi = 0, len(levels) - 1  # levels sorted ascending; levels[0] always connects
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if _connected(
                    adj, lambda u, v, t=levels[mid]: accept(u, v, t), source, destination
                ):
                    lo = mid
                else:
                    hi = mid - 1
            return levels[lo]

        mem_level = -math.inf
        if use_mem:
            levels = sorted({min(c, ends) for c in cap.values()} | {-math.inf})
            mem_level = best_level(levels, lambda u, v, t: v == destination or cap[v] >= t)

        def mem_ok(v: str) -> bool:
            return not use_mem or v == destination or v == source or cap[v] >= mem_level

        link_levels = sorted({f.round_success for f in figs.values()} | {-math.inf})
        link_level = best_level(
            link_levels, lambda u, v, t: mem_ok(v) and figs[(u, v)].round_success >= t
        )
        sub = nx.subgraph_view(
            graph,
            filter_node=mem_ok,
            filter_edge=lambda u, v: figs[(u, v)].round_success >= link_level,
        )
        weight = None if self._cache.metric == "hops" else "length_km"
        return list(nx.shortest_path(sub, source, destination, weight=weight))
