"""``max-fidelity``: an engine routing policy that reads link fidelities (true or estimated).

Among the ``k`` shortest candidate paths (by ``metric``), it picks the one with the highest
predicted end-to-end fidelity, ``F = (1 + 3 prod_i w_i) / 4`` with the links' Werner
parameters ``w_i = (4 F_i - 1) / 3`` (ideal swaps, no memory decoherence: a ranking, not a
prediction of the delivered value); candidates whose nodes lack free memory rank last, ties
go to fewer hops, then shorter length.

The link fidelities come from ``state.link_fidelity(a, b)`` when the state offers it (a run
with ``verification.feed_controllers`` hands the policy *estimates* this way, see
:class:`qnetai.tomography.in_simulator.EstimatedLinks`), else the truth: the heralded
fidelity of the running engine's link models (``state.links``), else an edge attribute
``fidelity``.

Example:
    >>> import networkx as nx
    >>> g = nx.Graph()
    >>> g.add_edge("A", "C", fidelity=0.80)
    >>> g.add_edge("A", "B", fidelity=0.97)
    >>> g.add_edge("B", "C", fidelity=0.97)
    >>> MaxFidelityPolicy().choose_path(g, "A", "C", state=None)
    ['A', 'B', 'C']
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import networkx as nx

from qnetai.control.engine_policies import _GraphCache, has_memory, path_length_km
from qnetai.errors import InputError


def path_fidelity(link_fidelities: list[float]) -> float:
    """Fidelity of swapping Werner pairs of the given fidelities with ideal operations.

    Example:
        >>> round(path_fidelity([0.9, 0.9]), 4)
        0.8133
    """
    w = 1.0
    for f in link_fidelities:
        w *= (4.0 * f - 1.0) / 3.0
    return (1.0 + 3.0 * w) / 4.0


class MaxFidelityPolicy:
    """The candidate path of highest predicted fidelity (see the module)."""

    name = "max-fidelity"

    def __init__(self, metric: str = "hops", k: int = 6) -> None:
        self._cache = _GraphCache(metric, k)
        self._truth: dict[tuple[str, str], float] | None = None
        self._truth_graph: int | None = None

    def _true_fidelities(self, graph: nx.Graph, state: Any) -> dict[tuple[str, str], float]:
        if self._truth is not None and self._truth_graph == id(graph):
            return self._truth
        out: dict[tuple[str, str], float] = {}
        for lm in getattr(state, "links", None) or []:
            out[(lm.a, lm.b)] = out[(lm.b, lm.a)] = float(lm.state[0])
        for a, b, data in graph.edges(data=True):
            if (a, b) in out:
                continue
            if "fidelity" not in data:
                raise InputError(
                    f"link {a}-{b}: no fidelity; pass the running simulation as state or "
                    "give the edge a fidelity attribute"
                )
            out[(a, b)] = out[(b, a)] = float(data["fidelity"])
        self._truth, self._truth_graph = out, id(graph)
        return out

    def link_fidelity(self, graph: nx.Graph, a: str, b: str, state: Any) -> float:
        """The fidelity the policy uses for link ``a``-``b`` (estimate if offered, else truth)."""
        read = getattr(state, "link_fidelity", None)
        if callable(read):
            return float(read(a, b))
        return self._true_fidelities(graph, state)[(a, b)]

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any = None
    ) -> list[str] | None:
        """The best candidate path, or ``None`` if the nodes are not connected."""
        self._cache.bind(graph)
        cands = self._cache.candidates(graph, source, destination)
        if not cands:
            return None

        def score(path: list[str]) -> tuple[float, ...]:
            fids = [self.link_fidelity(graph, a, b, state) for a, b in pairwise(path)]
            return (
                float(has_memory(path, state)),
                path_fidelity(fids),
                -float(len(path)),
                -path_length_km(graph, path),
            )

        return max(cands, key=score)
