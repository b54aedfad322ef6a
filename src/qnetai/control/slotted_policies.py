"""Slot policies for the Q-CAST model: one interface, the built-in table and simple baselines.

A slot policy sees what a controller knows at the start of a slot (the network, its
capacities and the requests, not the link outcomes) and returns an
:class:`~qnetai.control.slotted.Allocation`; every allocation records its decision time.
:func:`builtin_slot_policies` is the table of the built-ins (``"shortest-path"``,
``"widest-path"``, ``"q-cast"``, ``"milp"``, ``"ga"``, ``"pso"``, ``"de"``, ``"sa"``, ``"cma"``,
``"ls"``); learned ``rl:`` models and the user's own policies are resolved by
:func:`qnetai.plugins.slot_policy`.

Example:
    >>> import numpy as np
    >>> from qnetai.control.slotted import waxman_network, sample_requests, is_feasible
    >>> net = waxman_network(30, seed=2)
    >>> reqs = sample_requests(net, 4, np.random.default_rng(0))
    >>> alloc = builtin_slot_policy("shortest-path").allocate(net, reqs)
    >>> is_feasible(net, alloc)
    True
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qnetai.control.slotted import Allocation, Path, SlottedNetwork
from qnetai.errors import InputError

Item = tuple[int, Path, int]


class Residual:
    """Free channels per edge and free qubits per node during a slot's allocation."""

    def __init__(self, net: SlottedNetwork) -> None:
        self.net = net
        self.edge_free = [int(c) for c in net.channels]
        self.node_free = [int(c) for c in net.capacity]

    def copy(self) -> Residual:
        """An independent copy."""
        out = Residual.__new__(Residual)
        out.net = self.net
        out.edge_free = list(self.edge_free)
        out.node_free = list(self.node_free)
        return out

    def max_width(self, path: Path) -> int:
        """The widest allocation ``path`` can still get (0 if none)."""
        if len(path) < 2:
            return 0
        net = self.net
        nf = self.node_free
        w = min(nf[path[0]], nf[path[-1]])
        for v in path[1:-1]:
            w = min(w, nf[v] // 2)
        ef = self.edge_free
        for a, b in itertools.pairwise(path):
            w = min(w, ef[net._edge_id[(a, b)]])
        return max(w, 0)

    def take(self, path: Path, width: int) -> None:
        """Reserve ``width`` channels along ``path`` (caller checked feasibility)."""
        net = self.net
        for a, b in itertools.pairwise(path):
            self.edge_free[net._edge_id[(a, b)]] -= width
            self.node_free[a] -= width
            self.node_free[b] -= width


def merge_items(items: Sequence[Item]) -> list[Item]:
    """Merge allocations of one request on the same path into one wider allocation."""
    merged: dict[tuple[int, Path], int] = {}
    for r, p, w in items:
        if w > 0:
            merged[(r, p)] = merged.get((r, p), 0) + w
    return [(r, p, w) for (r, p), w in merged.items()]


@runtime_checkable
class SlotPolicy(Protocol):
    """Chooses paths and widths for one slot's requests."""

    name: str

    def allocate(
        self, net: SlottedNetwork, requests: np.ndarray, *, rng: np.random.Generator | None = None
    ) -> Allocation:
        """A feasible :class:`Allocation` for ``requests`` ``(r, 2)``."""
        ...


class TimedPolicy:
    """Base class: subclasses implement ``_decide`` returning ``[(request, path, width)]``."""

    name = "base"

    def allocate(
        self, net: SlottedNetwork, requests: np.ndarray, *, rng: np.random.Generator | None = None
    ) -> Allocation:
        """Run the policy and time it."""
        reqs = np.asarray(requests, dtype=np.int64).reshape(-1, 2)
        t0 = time.perf_counter()
        items = self._decide(net, reqs, rng if rng is not None else np.random.default_rng(0))
        items = merge_items(items)
        return Allocation.from_list(items, decision_time_s=time.perf_counter() - t0)

    def _decide(
        self, net: SlottedNetwork, requests: np.ndarray, rng: np.random.Generator
    ) -> list[Item]:
        raise NotImplementedError


def _usable(res: Residual, v: int, endpoint: bool) -> bool:
    return res.node_free[v] >= (1 if endpoint else 2)


def bfs_path(res: Residual, s: int, d: int) -> Path | None:
    """Fewest-hop path of width >= 1 in the residual network (``None`` if none)."""
    if s == d or not _usable(res, s, True) or not _usable(res, d, True):
        return None
    net = res.net
    parent = {s: -1}
    queue = deque([s])
    while queue:
        u = queue.popleft()
        for v, e in net.neighbours(u):
            if v in parent or res.edge_free[e] < 1:
                continue
            if v != d and not _usable(res, v, False):
                continue
            parent[v] = u
            if v == d:
                path = [d]
                while parent[path[-1]] != -1:
                    path.append(parent[path[-1]])
                return tuple(path[::-1])
            queue.append(v)
    return None


def widest_path(res: Residual, s: int, d: int) -> Path | None:
    """Path maximising the residual bottleneck width (ties: fewer hops), or ``None``."""
    if s == d:
        return None
    net = res.net
    cap_s = res.node_free[s]
    if cap_s < 1 or res.node_free[d] < 1:
        return None
    best = {s: (cap_s, 0)}
    parent = {s: -1}
    heap = [(-cap_s, 0, s)]
    done = set()
    while heap:
        negw, hops, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u == d:
            path = [d]
            while parent[path[-1]] != -1:
                path.append(parent[path[-1]])
            return tuple(path[::-1])
        for v, e in net.neighbours(u):
            if v in done:
                continue
            limit = res.node_free[v] if v == d else res.node_free[v] // 2
            w = min(-negw, res.edge_free[e], limit)
            if w < 1:
                continue
            key = (w, -(hops + 1))
            old = best.get(v)
            if old is None or key > (old[0], -old[1]):
                best[v] = (w, hops + 1)
                parent[v] = u
                heapq.heappush(heap, (-w, hops + 1, v))
    return None


class ShortestPathSlotPolicy(TimedPolicy):
    """Per request in arrival order: fewest-hop residual path, allocated at its widest width.

    ``rounds > 1`` repeats the pass over the requests while capacity remains.
    """

    name = "shortest-path"

    def __init__(self, rounds: int = 1) -> None:
        self.rounds = rounds

    def _find(self, res: Residual, s: int, d: int) -> Path | None:
        return bfs_path(res, s, d)

    def _decide(
        self, net: SlottedNetwork, requests: np.ndarray, rng: np.random.Generator
    ) -> list[Item]:
        res = Residual(net)
        items: list[Item] = []
        for _ in range(self.rounds):
            for r, (s, d) in enumerate(requests.tolist()):
                path = self._find(res, s, d)
                if path is None:
                    continue
                w = res.max_width(path)
                if w > 0:
                    res.take(path, w)
                    items.append((r, path, w))
        return items


class WidestPathSlotPolicy(ShortestPathSlotPolicy):
    """Per request in arrival order: the widest residual path, at its full width."""

    name = "widest-path"

    def _find(self, res: Residual, s: int, d: int) -> Path | None:
        return widest_path(res, s, d)


# --------------------------------------------------------------------------- built-in table

SlotPolicyFactory = Callable[..., SlotPolicy]


def builtin_slot_policies() -> dict[str, SlotPolicyFactory]:
    """A fresh ``{name: factory}`` table of the built-in slot policies (never shared).

    ``factory(**options)`` builds one, e.g. ``builtin_slot_policies()["milp"](k=4)``. Learned
    (``rl:``), user and plug-in policies are resolved one layer up, by
    :func:`qnetai.plugins.slot_policy`.

    Example:
        >>> sorted(builtin_slot_policies())
        ['cma', 'de', 'ga', 'ls', 'milp', 'pso', 'q-cast', 'sa', 'shortest-path', 'widest-path']
    """
    from qnetai.control import metaheuristics, milp, qcast

    return {
        "shortest-path": ShortestPathSlotPolicy,
        "widest-path": WidestPathSlotPolicy,
        "q-cast": qcast.QCastPolicy,
        "milp": milp.MilpPolicy,
        **metaheuristics.FACTORIES,
    }


def builtin_slot_policy(name: str, **options: Any) -> SlotPolicy:
    """The built-in slot policy ``name`` (InputError naming the built-ins otherwise).

    Example:
        >>> builtin_slot_policy("q-cast").name
        'q-cast'
    """
    table = builtin_slot_policies()
    factory = table.get(name)
    if factory is None:
        raise InputError(
            f"slot policy must be one of the built-ins {', '.join(sorted(table))} (got "
            f"{name!r}); learned (rl:NAME), import-path and entry-point policies are resolved "
            "by qnetai.plugins.slot_policy"
        )
    return factory(**options)
