"""The routing-policy protocols, the built-in shortest-path policy and the built-in table.

``NetworkState`` and ``RoutingPolicy`` are defined by the engine (:mod:`qnetai.sim.routing`)
and re-exported here. This module holds no registry: :func:`builtin_routing_policies`
returns a fresh table of the built-in factories on every call, and name resolution (built-ins,
learned ``rl:`` models, the user's own policies, import paths, entry points) lives one layer
up, in :func:`qnetai.plugins.routing_policy`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from itertools import pairwise
from typing import Any

import networkx as nx

from qnetai.errors import InputError
from qnetai.sim.routing import NetworkState, RoutingPolicy


class ShortestPathPolicy:
    """Static shortest paths by hop count (``metric="hops"``) or fibre length (``"length_km"``).

    Paths are cached per (graph, source, destination): the graph is treated as
    immutable, which the engine guarantees. Ties are broken deterministically by the
    graph's adjacency order.

    Example:
        >>> import networkx as nx
        >>> g = nx.Graph()
        >>> g.add_edge("A", "B", length_km=10.0)
        >>> g.add_edge("B", "C", length_km=10.0)
        >>> g.add_edge("A", "C", length_km=50.0)
        >>> ShortestPathPolicy("length_km").choose_path(g, "A", "C", state=None)
        ['A', 'B', 'C']
    """

    name = "shortest-path"

    def __init__(self, metric: str = "hops") -> None:
        if metric not in ("hops", "length_km"):
            raise InputError(
                f"controller.path_metric must be 'hops' or 'length_km' (got {metric!r})"
            )
        self.metric = metric
        self._graph_id: int | None = None
        self._cache: dict[tuple[str, str], list[str] | None] = {}
        self._trees: dict[str, Mapping[str, str | None]] = {}
        self._adj: _Adjacency | None = None

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any = None
    ) -> list[str] | None:
        """The shortest path, or ``None`` if the nodes are not connected.

        One shortest-path tree is computed per source (BFS for hops, Dijkstra for length) and
        kept as a parent map, so a network with ``S`` sources costs ``S`` searches in all.
        """
        if id(graph) != self._graph_id:
            self._graph_id = id(graph)
            self._cache = {}
            self._trees = {}
            self._adj = None
        key = (source, destination)
        if key in self._cache:
            return self._cache[key]
        if source not in graph or destination not in graph:
            return None
        tree = self._trees.get(source)
        if tree is None:
            tree = self._trees[source] = self._tree(graph, source)
        path: list[str] | None = None
        if isinstance(tree, _Parents):
            path = tree.path_to(destination)  # the same walk over scipy's array, faster
        elif destination in tree:
            path = [destination]
            node = tree[destination]
            while node is not None:
                path.append(node)
                node = tree[node]
            path.reverse()
        if len(self._cache) < 1_000_000:
            self._cache[key] = path
        return path

    def _tree(self, graph: nx.Graph, source: str) -> Mapping[str, str | None]:
        """Parent of every reachable node on one shortest path from ``source``."""
        parent: dict[str, str | None] = {source: None}
        if self.metric == "hops":
            # breadth-first in C (scipy) over the adjacency in the graph's order: the same
            # first-found parents as a queue scan of ``graph.adjacency()``
            if self._adj is None:
                self._adj = _Adjacency(graph)
            return self._adj.tree(source)
        pred, _ = nx.dijkstra_predecessor_and_distance(graph, source, weight="length_km")
        for v, ps in pred.items():
            if ps:
                parent[v] = ps[0]
        return parent


class _Adjacency:
    """A graph's adjacency as a CSR matrix in ``graph.adjacency()`` order (for scipy BFS)."""

    def __init__(self, graph: nx.Graph) -> None:
        import numpy as np
        from scipy.sparse import csr_array

        self.names = list(graph)
        self.index = {u: i for i, u in enumerate(self.names)}
        nbrs = [[self.index[v] for v in graph.adj[u]] for u in self.names]
        indptr = np.zeros(len(nbrs) + 1, dtype=np.int32)
        indptr[1:] = np.cumsum([len(x) for x in nbrs])
        indices = np.fromiter((v for x in nbrs for v in x), dtype=np.int32, count=int(indptr[-1]))
        n = len(self.names)
        self.matrix = csr_array((np.ones(len(indices)), indices, indptr), shape=(n, n))

    def tree(self, source: str) -> _Parents:
        from scipy.sparse.csgraph import breadth_first_order

        i = self.index[source]
        _, pred = breadth_first_order(self.matrix, i, directed=True, return_predecessors=True)
        return _Parents(self, i, pred)


class _Parents(Mapping[str, "str | None"]):
    """Parent map of one breadth-first tree, read from scipy's predecessor array."""

    def __init__(self, adj: _Adjacency, source: int, pred: Any) -> None:
        self._adj, self._source, self._pred = adj, source, pred

    def path_to(self, node: str) -> list[str] | None:
        """``[source, ..., node]`` along the tree's parents, or ``None`` if not reached."""
        i = self._adj.index.get(node)
        src = self._source
        if i is None:
            return None
        pred = memoryview(self._pred)  # Python ints per item (cheaper than numpy scalars)
        if i != src and pred[i] < 0:
            return None
        names = self._adj.names
        path = [names[i]]
        while i != src:
            i = pred[i]
            path.append(names[i])
        path.reverse()
        return path

    def __contains__(self, node: object) -> bool:
        i = self._adj.index.get(node) if isinstance(node, str) else None
        return i is not None and (i == self._source or self._pred[i] >= 0)

    def __getitem__(self, node: str) -> str | None:
        i = self._adj.index[node]
        p = self._pred[i]
        if p >= 0:
            return self._adj.names[p]
        if i == self._source:
            return None
        raise KeyError(node)  # not reached from the source

    def __iter__(self) -> Iterator[str]:
        return (u for u in self._adj.names if u in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


PolicyFactory = Callable[..., RoutingPolicy]
#: Names the exact solvers and metaheuristics of the slotted model have in the engine.
EXACT_EXT_NAMES: tuple[str, ...] = ("milp", "ga", "pso", "de", "sa", "cma")


def _ext_factory(name: str) -> PolicyFactory:
    def factory(metric: str = "hops", k: int = 6) -> RoutingPolicy:
        from qnetai.control.engine_policies import ExtPolicy

        return ExtPolicy(metric, k=k, name=name)

    factory.__name__ = f"ext_{name.replace('-', '_')}"
    return factory


def _widest(metric: str = "hops") -> RoutingPolicy:
    from qnetai.control.engine_policies import WidestPathPolicy

    return WidestPathPolicy(metric)


def _max_fidelity(metric: str = "hops", k: int = 6) -> RoutingPolicy:
    from qnetai.control.fidelity_routing import MaxFidelityPolicy

    return MaxFidelityPolicy(metric, k=k)


def builtin_routing_policies() -> dict[str, PolicyFactory]:
    """A fresh ``{name: factory}`` table of the built-in engine policies (never shared).

    Every factory takes ``metric`` (``"hops"`` or ``"length_km"``); the EXT ones also ``k``.

    Example:
        >>> sorted(builtin_routing_policies())[:3]
        ['cma', 'de', 'ga']
        >>> builtin_routing_policies()["shortest-path"](metric="hops").name
        'shortest-path'
    """
    table: dict[str, PolicyFactory] = {
        "shortest-path": ShortestPathPolicy,
        "widest-path": _widest,
        "max-fidelity": _max_fidelity,
    }
    for name in ("q-cast", *EXACT_EXT_NAMES):
        table[name] = _ext_factory(name)
    return table


def path_is_valid(graph: nx.Graph, path: list[str] | None, source: str, destination: str) -> bool:
    """Whether ``path`` is a simple path of ``graph`` from ``source`` to ``destination``.

    Example:
        >>> path_is_valid(nx.path_graph(["A", "B", "C"]), ["A", "B", "C"], "A", "C")
        True
    """
    return (
        path is not None
        and len(path) >= 2
        and path[0] == source
        and path[-1] == destination
        and len(set(path)) == len(path)
        and all(graph.has_edge(a, b) for a, b in pairwise(path))
    )


__all__ = [
    "EXACT_EXT_NAMES",
    "NetworkState",
    "PolicyFactory",
    "RoutingPolicy",
    "ShortestPathPolicy",
    "builtin_routing_policies",
    "path_is_valid",
]
