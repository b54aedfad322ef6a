"""The routing-policy protocol, the registry and the built-in shortest-path policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import networkx as nx

from qnetai.errors import InputError


@runtime_checkable
class NetworkState(Protocol):
    """What a policy may read of the running network (the engine's ``Simulation`` provides it).

    ``now`` is the simulated time in s; ``free_memory(node)`` the number of
    unreserved memory qubits; ``queued_requests`` the number of requests waiting
    for memory.
    """

    now: float

    def free_memory(self, node: str) -> int:
        """Unreserved memory qubits at ``node``."""
        ...

    @property
    def queued_requests(self) -> int:
        """Requests waiting for memory."""
        ...


@runtime_checkable
class RoutingPolicy(Protocol):
    """Chooses the path of a request; ``None`` declines it (it is then counted unserved)."""

    name: str

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any
    ) -> list[str] | None:
        """A path ``[source, ..., destination]`` of adjacent nodes in ``graph``, or ``None``."""
        ...


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
        self._trees: dict[str, dict[str, str | None]] = {}
        self._adj: dict[str, list[str]] | None = None

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
        cached = self._cache.get(key, False)
        if cached is not False:
            return cached
        if source not in graph or destination not in graph:
            return None
        tree = self._trees.get(source)
        if tree is None:
            tree = self._trees[source] = self._tree(graph, source)
        path: list[str] | None = None
        if destination in tree:
            path = [destination]
            node = tree[destination]
            while node is not None:
                path.append(node)
                node = tree[node]
            path.reverse()
        if len(self._cache) < 1_000_000:
            self._cache[key] = path
        return path

    def _tree(self, graph: nx.Graph, source: str) -> dict[str, str | None]:
        """Parent of every reachable node on one shortest path from ``source``."""
        parent: dict[str, str | None] = {source: None}
        if self.metric == "hops":
            frontier = [source]
            adj = self._adj
            if adj is None:  # plain lists: much faster to scan than networkx views
                adj = self._adj = {u: list(nbrs) for u, nbrs in graph.adjacency()}
            while frontier:
                nxt = []
                for u in frontier:
                    for v in adj[u]:
                        if v not in parent:
                            parent[v] = u
                            nxt.append(v)
                frontier = nxt
            return parent
        pred, _ = nx.dijkstra_predecessor_and_distance(graph, source, weight="length_km")
        for v, ps in pred.items():
            if ps:
                parent[v] = ps[0]
        return parent


PolicyFactory = Callable[..., RoutingPolicy]
_REGISTRY: dict[str, PolicyFactory] = {"shortest-path": ShortestPathPolicy}
#: Names the exact solvers and metaheuristics of the slotted model have in the engine.
EXACT_EXT_NAMES: tuple[str, ...] = ("milp", "ga", "pso", "de", "sa", "cma")


def _ensure_builtins() -> None:
    """Register the engine adapters of :mod:`qnetai.control.engine_policies` (lazily)."""
    if "q-cast" in _REGISTRY:
        return
    from qnetai.control.engine_policies import ExtPolicy, WidestPathPolicy

    def ext_factory(name: str) -> PolicyFactory:
        def factory(metric: str = "hops", k: int = 6) -> RoutingPolicy:
            return ExtPolicy(metric, k=k, name=name)

        return factory

    _REGISTRY.setdefault("widest-path", WidestPathPolicy)
    for name in ("q-cast", *EXACT_EXT_NAMES):
        _REGISTRY.setdefault(name, ext_factory(name))


def register_policy(name: str, factory: PolicyFactory, *, replace: bool = False) -> None:
    """Register a policy factory under ``name`` (keyword options are passed through).

    The factory is called as ``factory(**options)``; it receives ``metric`` when
    the engine builds the policy from a scenario and should accept it. Names starting
    with ``rl:`` are reserved for learned policies.
    """
    _ensure_builtins()
    if not name or name.startswith("rl:"):
        raise InputError(f"policy name must be non-empty and not start with 'rl:' (got {name!r})")
    if name in _REGISTRY and not replace:
        raise InputError(f"policy {name!r} is already registered (pass replace=True)")
    _REGISTRY[name] = factory


def available_policies() -> list[str]:
    """Names of the registered policies, sorted (learned ones: ``rl:NAME`` / ``rl:PATH``)."""
    _ensure_builtins()
    return sorted(_REGISTRY)


def _unknown(name: str) -> InputError:
    return InputError(
        f"controller.routing must be one of {', '.join(available_policies())}, rl:NAME "
        f"(a shipped model) or rl:PATH (unknown policy {name!r})"
    )


def get_policy(name: str, **options: Any) -> RoutingPolicy:
    """A fresh engine routing policy by name.

    Names: ``shortest-path``, ``widest-path``, ``q-cast``, ``milp``, ``ga``, ``pso``, ``de``,
    ``sa``, ``cma`` (:mod:`qnetai.control.engine_policies`), anything added with
    :func:`register_policy`, and ``rl:NAME`` / ``rl:PATH`` for a learned scorer
    (:mod:`qnetai.control.engine_rl`, needs the ``[ai]`` extra). The time-slotted model has
    its own registry: :func:`qnetai.control.get_slot_policy`.

    Example:
        >>> get_policy("shortest-path", metric="length_km").name
        'shortest-path'
    """
    if not isinstance(name, str):
        raise _unknown(repr(name))
    if name.startswith("rl:"):
        if len(name) == 3:
            raise _unknown(name)
        from qnetai.control.engine_rl import LearnedRoutingPolicy

        return LearnedRoutingPolicy(name[3:], **options)
    _ensure_builtins()
    factory = _REGISTRY.get(name)
    if factory is None:
        raise _unknown(name)
    return factory(**options)


def check_policy_name(name: str) -> None:
    """Raise the ``controller.routing`` InputError of :func:`get_policy` without building it.

    Learned ``rl:`` names are checked by reading and validating their model files
    (:func:`learned_routing_model`; no torch import).

    Example:
        >>> check_policy_name("q-cast")
    """
    if not isinstance(name, str) or name == "rl:":
        raise _unknown(repr(name))
    if name.startswith("rl:"):
        learned_routing_model(name[3:])
        return
    _ensure_builtins()
    if name not in _REGISTRY:
        raise _unknown(name)


def learned_routing_model(ref: str) -> Any:
    """The validated :class:`~qnetai.control.model_files.ModelFiles` of ``rl:REF``.

    ``REF`` is a shipped name or a path to ``MODEL.npz`` / ``MODEL.json``; the model must be
    a ``routing`` scorer (its JSON ``kind``). Reads numpy and JSON only (nothing is
    unpickled or imported); every failure is an InputError naming ``controller.routing``.
    """
    from qnetai.control import model_files

    try:
        files = model_files.resolve_model(ref, field=f"controller.routing: rl:{ref}")
    except InputError as exc:
        if ref.endswith(".zip"):
            raise
        names = model_files.shipped_models(("routing",))
        raise InputError(
            f"controller.routing: unknown learned policy rl:{ref} (available: "
            f"{', '.join('rl:' + m for m in names) or 'none'}, or rl:PATH to a MODEL.npz "
            "with MODEL.json beside it)"
        ) from exc
    try:
        kind = model_files.read_kind(files)
        if kind != "routing":
            raise InputError(
                f"rl:{ref} is not a routing scorer (kind {kind!r}; train one "
                "with `qnetai train routing`)"
            )
        model_files.load_model(files, kinds=("routing",))
    except InputError as exc:
        raise InputError(f"controller.routing: {exc}") from exc
    return files


def policy_from_options(name: str, options: Mapping[str, Any]) -> RoutingPolicy:
    """Build a policy, dropping options its factory does not take (e.g. ``metric``)."""
    try:
        return get_policy(name, **dict(options))
    except TypeError:
        return get_policy(name)
