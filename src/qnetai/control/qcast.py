"""Q-CAST's phase-2 path selection: greedy by EXT with an extended Dijkstra.

For each request and each width ``w`` an extended Dijkstra grows paths from the source,
keeping the survival vector ``S(i) = prod_k P(X_k >= i)`` of the partial path (so the EXT of
any extension is exact) and settling nodes in order of decreasing EXT, as in Shi and Qian
(SIGCOMM 2020, Algorithm 1). EXT never increases when a path is extended, which makes the
best-first search well founded (it is a heuristic: EXT is not isotone, as the paper notes).
The greedy loop then repeatedly picks the (request, path, width) of largest EXT over all
requests, reserves it and repeats until no request can get a path. Capacity only shrinks, so
a request's best path is recomputed only when its cached best lost feasibility.
"""

from __future__ import annotations

import heapq

import numpy as np

from qnetai.control.slotted import Path, SlottedNetwork
from qnetai.control.slotted_policies import Item, Residual, TimedPolicy


def _survival_lists(net: SlottedNetwork) -> list[list[list[float]]]:
    """``table[e][w]`` = ``[P(Bin(w, p_e) >= i) for i in 1..w]`` as Python lists."""
    cached = net.__dict__.get("_surv_lists")
    if cached is None:
        surv = net.survival
        cached = [
            [surv[e, w, :w].tolist() for w in range(surv.shape[1])] for e in range(net.n_edges)
        ]
        object.__setattr__(net, "_surv_lists", cached)
    return cached


def ext_dijkstra(
    res: Residual, s: int, d: int, width: int, *, max_hops: int = 0
) -> tuple[float, Path | None]:
    """Best (EXT, path) of width ``width`` from ``s`` to ``d`` in the residual network."""
    net = res.net
    nf, ef = res.node_free, res.edge_free
    if s == d or nf[s] < width or nf[d] < width:
        return 0.0, None
    table = _survival_lists(net)
    q = net.q_swap
    start = [1.0] * width
    labels: dict[int, tuple[float, list[float], int]] = {s: (float(width), start, 0)}
    parent = {s: -1}
    heap = [(-float(width), s)]
    done: set[int] = set()
    while heap:
        negv, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u == d:
            path = [d]
            while parent[path[-1]] != -1:
                path.append(parent[path[-1]])
            return -negv, tuple(path[::-1])
        _, surv, hops = labels[u]
        if max_hops and hops >= max_hops:
            continue
        qh = q**hops
        for v, e in net.neighbours(u):
            if v in done or ef[e] < width:
                continue
            if v != d and nf[v] < 2 * width:
                continue
            new = [a * b for a, b in zip(surv, table[e][width], strict=True)]
            val = qh * sum(new)
            old = labels.get(v)
            if old is None or val > old[0]:
                labels[v] = (val, new, hops + 1)
                parent[v] = u
                heapq.heappush(heap, (-val, v))
    return 0.0, None


def best_path(
    res: Residual, s: int, d: int, *, max_hops: int = 0
) -> tuple[float, Path | None, int]:
    """The (EXT, path, width) maximising EXT over all widths for request ``(s, d)``."""
    top = min(res.node_free[s], res.node_free[d], res.net.max_channels)
    best: tuple[float, Path | None, int] = (0.0, None, 0)
    for w in range(1, top + 1):
        val, path = ext_dijkstra(res, s, d, w, max_hops=max_hops)
        if path is not None and val > best[0] + 1e-12:
            best = (val, path, w)
    return best


class QCastPolicy(TimedPolicy):
    """Q-CAST (greedy EXT with the extended Dijkstra); ``max_paths`` caps paths per slot."""

    name = "q-cast"

    def __init__(self, max_paths: int = 0, max_hops: int = 0) -> None:
        self.max_paths = max_paths
        self.max_hops = max_hops

    def _decide(
        self, net: SlottedNetwork, requests: np.ndarray, rng: np.random.Generator
    ) -> list[Item]:
        return qcast_items(
            net, requests, Residual(net), max_paths=self.max_paths, max_hops=self.max_hops
        )


def qcast_items(
    net: SlottedNetwork,
    requests: np.ndarray,
    res: Residual,
    *,
    max_paths: int = 0,
    max_hops: int = 0,
) -> list[Item]:
    """Q-CAST's greedy loop on ``res`` (modified in place); returns the chosen items in order."""
    reqs = [(int(s), int(d)) for s, d in np.asarray(requests).reshape(-1, 2)]
    cache = [best_path(res, s, d, max_hops=max_hops) for s, d in reqs]
    items: list[Item] = []
    while True:
        r = max(range(len(reqs)), key=lambda j: cache[j][0], default=None)
        if r is None or cache[r][1] is None or cache[r][0] <= 0:
            break
        _, path, w = cache[r]
        assert path is not None
        res.take(path, w)
        items.append((r, path, w))
        if max_paths and len(items) >= max_paths:
            break
        for j, (_, p, wj) in enumerate(cache):
            if p is not None and res.max_width(p) < wj:
                cache[j] = best_path(res, *reqs[j], max_hops=max_hops)
    return items
