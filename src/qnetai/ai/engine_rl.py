"""``rl:NAME`` / ``rl:PATH`` in the event engine: a learned per-candidate scorer picks the path.

The shipped scorers (:mod:`qnetai.ai.models`) were trained on the time-slotted Q-CAST model
(:mod:`qnetai.control.slotted`), where a link's channel succeeds within a slot with
probability ``p``. The engine's network is mapped onto that model once per graph, from the
engine's own link models (:func:`qnetai.control.engine_policies.link_table`): nodes and
edges as they are, widths = the links' ``multiplexing``, ``q`` = the swap success probability,
and per-channel success within a time window ``tau``, ``1 - (1 - p_e)^(tau / attempt_e)``
(``p_e`` per attempt, ``attempt_e`` the attempt period, so faster links count for more), with
``tau`` set so the mean over the links is ``mean_p`` (0.6, the mean of the training networks;
the features are then in the range the scorer was trained on). At each arrival the scorer
sees the request's candidate paths and widths (:func:`qnetai.ai.features.action_features`)
with the nodes' **current free memory** as the residual qubits, and the path of its arg-max
action is taken. When no candidate has free memory now, the choice is made as if the network
were empty (the request then queues for memory).

The scores are computed in numpy (:class:`qnetai.ai.scorer.NumpyScorer`) from the model's
inert files ``MODEL.npz`` (weights) and ``MODEL.json`` (architecture, settings); loading
imports neither torch nor stable-baselines3 and unpickles nothing. A missing extra, an
unknown name, a malformed file or a model of another kind is an
:class:`~qnetai.errors.InputError` naming ``controller.routing``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import networkx as nx
import numpy as np

from qnetai.control.engine_policies import link_table, swap_probability
from qnetai.errors import InputError

_BIG = 1 << 30


def _window_probability(p: np.ndarray, attempt_s: np.ndarray, mean_p: float) -> np.ndarray:
    """Per-channel success within a window ``tau`` whose mean over the links is ``mean_p``."""
    p = np.clip(p, 0.0, 1.0)
    rate = -np.log1p(-np.minimum(p, 1.0 - 1e-15)) / attempt_s  # per second, per channel

    def mean(tau: float) -> float:
        return float(np.mean(-np.expm1(-rate * tau)))

    if mean(1e12) < mean_p:  # dead links dominate: take the window that is long enough
        tau = 1e12
    else:
        lo, hi = 0.0, 1.0
        while mean(hi) < mean_p:
            hi *= 2.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if mean(mid) < mean_p else (lo, mid)
        tau = 0.5 * (lo + hi)
    return np.clip(-np.expm1(-rate * tau), 1e-9, 1.0)


def slotted_view(
    graph: nx.Graph, *, mean_p: float = 0.6, q_swap: float = 1.0, state: Any = None
) -> Any:
    """The engine graph as a :class:`~qnetai.control.slotted.SlottedNetwork` (see module doc).

    ``state`` is the running simulation (its link models give the figures; see
    :func:`~qnetai.control.engine_policies.link_table`). Returns ``(net, names)``: node ``i``
    of ``net`` is ``names[i]``.
    """
    from qnetai.control.slotted import SlottedNetwork

    names = list(graph.nodes)
    index = {n: i for i, n in enumerate(names)}
    figs = link_table(graph, state)
    edges, p, att, chan, length = [], [], [], [], []
    for a, b, data in graph.edges(data=True):
        u, v = sorted((index[a], index[b]))
        f = figs[(a, b)]
        edges.append((u, v))
        p.append(f.p_success)
        att.append(f.attempt_s)
        chan.append(max(int(f.multiplexing), 1))
        length.append(float(data.get("length_km", 0.0)))
    cap = []
    for n in names:
        spec = graph.nodes[n].get("spec")
        cap.append(int(getattr(spec, "memory_qubits", 1)))
    pos = np.array([graph.nodes[n].get("pos") or (0.0, 0.0) for n in names], dtype=float)
    net = SlottedNetwork(
        positions_km=pos.reshape(len(names), 2),
        edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
        length_km=np.array(length),
        p_link=_window_probability(np.array(p), np.array(att), mean_p),
        channels=np.array(chan, dtype=np.int64),
        capacity=np.array(cap, dtype=np.int64),
        q_swap=min(max(q_swap, 1e-9), 1.0),
        name=str(graph.name or "engine"),
    )
    return net, names


def _load_scorer(name_or_path: str) -> Any:
    """The :class:`~qnetai.ai.agents.RLSlotPolicy` of a routing model (InputError otherwise)."""
    from qnetai.ai.agents import load_routing_policy
    from qnetai.control.model_files import routing_model_files

    routing_model_files(name_or_path)
    try:
        return load_routing_policy(name_or_path)
    except InputError as exc:
        raise InputError(f"controller.routing: {exc}") from exc


#: Most decisions :class:`LearnedRoutingPolicy` remembers (then it forgets them all; 0: none).
_MEMO_LIMIT = 8192


class LearnedRoutingPolicy:
    """A learned slot scorer acting as an engine routing policy (``rl:NAME`` / ``rl:PATH``).

    ``metric`` is accepted for the registry and ignored (candidates are the scorer's own:
    :meth:`~qnetai.control.slotted.SlottedNetwork.candidate_paths`). The model is read
    from its inert files and scored in numpy (:func:`qnetai.ai.agents.load_routing_policy`).
    """

    def __init__(self, model: str, metric: str = "hops", *, mean_p: float = 0.6) -> None:
        if not 0.0 < mean_p < 1.0:
            raise InputError(f"mean_p must be in (0, 1) (got {mean_p})")
        self.name = f"rl:{model}"
        self.scorer = _load_scorer(model)
        self.mean_p = mean_p
        self._gid: int | None = None
        self._net: Any = None
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._states: dict[tuple[str, str], Any] = {}
        # decisions by (source, destination, free memory per node): the decision is a pure
        # function of these (same scorer, same static candidate table), and requests meet
        # the same free-memory state often (73 % of metro-6g's); bounded, cleared when full
        self._memo: dict[tuple[Any, ...], list[str]] = {}
        c = self.scorer.config
        from qnetai.ai.routing_env import RoutingParams

        self.params = RoutingParams(
            k=int(c["k"]), w_max=int(c["w_max"]), r_max=1, max_paths=int(c["max_paths"])
        )

    def _bind(self, graph: nx.Graph, state: Any) -> None:
        if self._gid != id(graph):
            self._gid = id(graph)
            self._net, self._names = slotted_view(
                graph, mean_p=self.mean_p, q_swap=swap_probability(graph, state), state=state
            )
            self._index = {n: i for i, n in enumerate(self._names)}
            self._states = {}
            self._memo = {}

    def candidates(
        self, graph: nx.Graph, source: str, destination: str, state: Any = None
    ) -> list[list[str]]:
        """The scorer's candidate paths for a request (node names)."""
        self._bind(graph, state)
        s, d = self._index[source], self._index[destination]
        return [[self._names[i] for i in p] for p in self._net.candidate_paths(s, d, self.params.k)]

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any = None
    ) -> list[str] | None:
        """The path of the scorer's best (candidate, width) action, or ``None``."""
        from qnetai.ai.routing_env import decode_action, routing_observe, routing_reset

        if source not in graph or destination not in graph or source == destination:
            return None
        self._bind(graph, state)
        net, params = self._net, self.params
        key = (source, destination)
        st = self._states.get(key)
        if st is None:  # the candidate table is static: build it once per request pair
            reqs = np.array([[self._index[source], self._index[destination]]], dtype=np.int64)
            st = self._states[key] = routing_reset(net, reqs, params)
        if not st.table.valid[0].any():
            return None
        full = st
        memo_key: tuple[Any, ...] | None = None
        if state is not None and hasattr(state, "free_memory"):
            free = [max(int(state.free_memory(n)), 0) for n in self._names]
            if _MEMO_LIMIT > 0:
                memo_key = (source, destination, *free)
                hit = self._memo.get(memo_key)
                if hit is not None:
                    return list(hit)
            st = replace(st, node_free=np.append(free, _BIG).astype(np.int64))
        obs, mask = routing_observe(st, params)
        j = 0
        if not mask[:-1].any():
            obs, mask = routing_observe(full, params)
        if mask[:-1].any():  # else no width fits even an empty network: shortest candidate
            mask = mask.copy()
            mask[-1] = False
            action = self.scorer.scorer.best_action(obs, mask)
            dec = decode_action(action, params)
            assert dec is not None
            _, j, _ = dec
        path = [self._names[i] for i in st.table.paths[0][j]]
        if memo_key is not None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[memo_key] = path
        return list(path)


__all__ = ["LearnedRoutingPolicy", "slotted_view"]
