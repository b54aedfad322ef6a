"""Metaheuristic slot policies (GA, PSO, DE, CMA-ES via nevergrad; SA; discrete local search).

``ls`` (:class:`LocalSearchPolicy`) is a discrete iterated local search over widths per
candidate path (see its docstring); the rest share the continuous encoding below.

Encoding: the candidates are the ``k`` candidate paths of every request (plus, with
``warm_start``, the paths q-cast picks). A vector in ``[0, 1]^(2C)`` holds a priority and a
width fraction per candidate. Decoding visits candidates by decreasing priority and gives
each ``floor(f * (W + 1))`` channels (``W`` its residual maximum width, 0 = skip), so every
decoded allocation is feasible. The objective is the total EXT. With ``warm_start`` the
first point evaluated encodes q-cast's allocation exactly, so the result is never worse than
q-cast on the expected-throughput objective.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from qnetai._optional import require
from qnetai.control.qcast import qcast_items
from qnetai.control.slotted import Path, SlottedNetwork
from qnetai.control.slotted_policies import Item, Residual, TimedPolicy


class _Problem:
    """Candidates, their EXT tables and the decoder."""

    def __init__(self, net: SlottedNetwork, requests: np.ndarray, k: int, warm: list[Item]):
        self.net = net
        cands: list[tuple[int, Path]] = []
        for r, (s, d) in enumerate(requests.tolist()):
            cands.extend((r, p) for p in net.candidate_paths(int(s), int(d), k))
        seen = set(cands)
        for r, p, _ in warm:
            if (r, p) not in seen:
                cands.append((r, p))
                seen.add((r, p))
        self.cands = cands
        self.tables = [net.path_ext(p) for _, p in cands]
        self.index = {c: i for i, c in enumerate(cands)}

    @property
    def dim(self) -> int:
        return 2 * len(self.cands)

    def decode(self, x: np.ndarray) -> tuple[float, list[Item]]:
        c = len(self.cands)
        order = np.argsort(-x[:c], kind="stable")
        frac = x[c:]
        res = Residual(self.net)
        total = 0.0
        items: list[Item] = []
        for i in order.tolist():
            f = float(frac[i])
            if f <= 0.0:
                continue
            r, p = self.cands[i]
            wmax = res.max_width(p)
            if wmax == 0:
                continue
            w = min(wmax, int(f * (wmax + 1)))
            if w == 0:
                continue
            res.take(p, w)
            total += float(self.tables[i][w])
            items.append((r, p, w))
        return total, items

    def encode(self, items: list[Item]) -> np.ndarray:
        """A vector whose decoding reproduces ``items`` (in order) exactly."""
        c = len(self.cands)
        x = np.zeros(2 * c)
        x[:c] = np.linspace(0.0, 0.4, c, endpoint=False)  # non-chosen: low priority, skipped
        res = Residual(self.net)
        for rank, (r, p, w) in enumerate(items):
            i = self.index[(r, p)]
            wmax = res.max_width(p)
            x[i] = 1.0 - 0.5 * rank / max(len(items), 1)
            x[c + i] = (w + 0.5) / (wmax + 1)
            res.take(p, w)
        return x


class MetaheuristicPolicy(TimedPolicy):
    """Shared set-up: candidates, q-cast warm start, keep the best of warm start and search."""

    def __init__(
        self,
        optimizer: str = "TwoPointsDE",
        *,
        name: str | None = None,
        k: int = 4,
        budget: int = 200,
        warm_start: bool = True,
    ) -> None:
        self.optimizer = optimizer
        self.name = name or optimizer
        self.k = k
        self.budget = budget
        self.warm_start = warm_start

    def _decide(
        self, net: SlottedNetwork, requests: np.ndarray, rng: np.random.Generator
    ) -> list[Item]:
        warm = qcast_items(net, requests, Residual(net)) if self.warm_start else []
        prob = _Problem(net, requests, self.k, warm)
        if prob.dim == 0:
            return []
        x0 = prob.encode(warm) if warm else None
        best_val, best_items = prob.decode(x0) if x0 is not None else (-1.0, [])
        val, items = self._search(prob, x0, rng)
        return items if val > best_val else best_items

    def _search(
        self, prob: _Problem, x0: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[float, list[Item]]:
        raise NotImplementedError


class NevergradPolicy(MetaheuristicPolicy):
    """A nevergrad optimiser (by registry name) on the encoding, first told q-cast's point."""

    def _search(
        self, prob: _Problem, x0: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[float, list[Item]]:
        ng = require("nevergrad", extra="ai")
        param = ng.p.Array(shape=(prob.dim,), lower=0.0, upper=1.0)
        param.random_state = np.random.RandomState(int(rng.integers(2**31)))
        opt = ng.optimizers.registry[self.optimizer](
            parametrization=param, budget=self.budget, num_workers=1
        )
        if x0 is not None:
            opt.suggest(x0)
        best: tuple[float, list[Item]] = (-1.0, [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # CMA's internal scaling warnings
            for _ in range(self.budget):
                cand = opt.ask()
                val, items = prob.decode(np.asarray(cand.value))
                opt.tell(cand, -val)
                if val > best[0]:
                    best = (val, items)
        return best


class SimulatedAnnealingPolicy(MetaheuristicPolicy):
    """Simulated annealing on the same encoding (Gaussian moves on a few coordinates)."""

    def __init__(
        self,
        *,
        k: int = 4,
        budget: int = 300,
        warm_start: bool = True,
        t0: float = 0.5,
        step: float = 0.25,
    ) -> None:
        super().__init__("SA", name="sa", k=k, budget=budget, warm_start=warm_start)
        self.t0 = t0
        self.step = step

    def _search(
        self, prob: _Problem, x0: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[float, list[Item]]:
        x = x0.copy() if x0 is not None else rng.random(prob.dim)
        val, items = prob.decode(x)
        best = (val, items)
        for it in range(self.budget):
            temp = self.t0 * (1.0 - it / self.budget) + 1e-6
            y = x.copy()
            idx = rng.integers(0, prob.dim, size=rng.integers(1, 4))
            y[idx] = np.clip(y[idx] + rng.normal(0.0, self.step, size=len(idx)), 0.0, 1.0)
            v, its = prob.decode(y)
            if v >= val or rng.random() < math.exp((v - val) / temp):
                x, val = y, v
                if v > best[0]:
                    best = (v, its)
        return best


def _ng(optimizer: str, name: str) -> Callable[..., NevergradPolicy]:
    def factory(**options: Any) -> NevergradPolicy:
        return NevergradPolicy(optimizer, name=name, **options)

    return factory


#: Built-in names -> factories (see ``slotted_policies.builtin_slot_policies``).
FACTORIES: dict[str, Callable[..., Any]] = {
    "ga": _ng("GeneticDE", "ga"),
    "pso": _ng("PSO", "pso"),
    "de": _ng("TwoPointsDE", "de"),
    "cma": _ng("CMA", "cma"),
    "sa": SimulatedAnnealingPolicy,
}


# --------------------------------------------------------------------------- discrete local search


class _Packing:
    """A discrete allocation over candidate paths: width per candidate, exact residuals, EXT.

    Resources are the edges' channels and the nodes' qubits; candidate ``c`` at width ``w``
    uses ``w`` channels of each of its edges, ``w`` qubits at its two ends and ``2 w`` at each
    inner node. Every change goes through :meth:`_set`, which updates the residuals and the
    total EXT incrementally and records the old width in a journal (for undo).
    """

    def __init__(self, net: SlottedNetwork, cands: list[tuple[int, Path]]) -> None:
        m = net.n_edges
        self.cands = cands
        self.free = [int(c) for c in net.channels] + [int(c) for c in net.capacity]
        self.uses: list[list[tuple[int, int]]] = []
        self.table: list[list[float]] = []
        users: list[list[int]] = [[] for _ in self.free]
        for j, (_, p) in enumerate(cands):
            e = net.path_edges(p).tolist()
            use = [(i, 1) for i in e] + [
                (m + v, 1 if pos in (0, len(p) - 1) else 2) for pos, v in enumerate(p)
            ]
            self.uses.append(use)
            cap = min(self.free[i] // k for i, k in use)
            self.table.append(net.path_ext(p)[: cap + 1].tolist())
            for i, _ in use:
                users[i].append(j)
        self.users = users
        self.weight = [sum(k for _, k in u) for u in self.uses]
        self.neigh = [sorted({d for i, _ in u for d in users[i]}) for u in self.uses]
        self.by_request: dict[int, list[int]] = {}
        for j, (r, _) in enumerate(cands):
            self.by_request.setdefault(r, []).append(j)
        self.w = [0] * len(cands)
        self.value = 0.0
        self.journal: list[tuple[int, int]] = []

    def _set(self, c: int, width: int) -> None:
        delta = width - self.w[c]
        free = self.free
        for i, k in self.uses[c]:
            free[i] -= k * delta
        self.value += self.table[c][width] - self.table[c][self.w[c]]
        self.journal.append((c, self.w[c]))
        self.w[c] = width

    def undo(self, mark: int) -> None:
        """Roll back every change made after journal position ``mark``."""
        while len(self.journal) > mark:
            c, old = self.journal.pop()
            self._set(c, old)
            self.journal.pop()

    def headroom(self, c: int) -> int:
        """How much wider candidate ``c`` can get in the residual network."""
        free = self.free
        h = len(self.table[c]) - 1 - self.w[c]
        for i, k in self.uses[c]:
            h = min(h, free[i] // k)
        return h

    def load(self, widths: list[int]) -> None:
        """Set every width (they must be jointly feasible); clears the journal."""
        for c, w in enumerate(widths):
            if w != self.w[c]:
                self._set(c, w)
        self.journal.clear()

    def fill(self, cset: list[int] | range, locked: set[int]) -> None:
        """Greedily widen candidates of ``cset`` by best EXT gain per resource unit used."""
        table, w, weight = self.table, self.w, self.weight
        while True:
            best, best_d = -1, 1e-12
            best_w = 0
            for c in cset:
                if c in locked:
                    continue
                h = self.headroom(c)
                if h <= 0:
                    continue
                t, w0 = table[c], w[c]
                for dw in range(1, h + 1):
                    d = (t[w0 + dw] - t[w0]) / (dw * weight[c])
                    if d > best_d:
                        best, best_d, best_w = c, d, w0 + dw
            if best < 0:
                return
            self._set(best, best_w)

    def move(self, forced: list[tuple[int, int]]) -> bool:
        """Force widths, repair capacity by narrowing others, refill; keep it if EXT rose.

        Repair narrows, one channel at a time, the unlocked candidate on an over-used
        resource whose narrowing loses the least EXT; the refill widens the candidates that
        share a resource with a narrowed one. Returns whether the move was kept.
        """
        mark, v0 = len(self.journal), self.value
        locked = {c for c, _ in forced}
        narrowed: set[int] = set()
        w, table = self.w, self.table
        for c, target in forced:
            if target < w[c]:
                self._set(c, target)
                narrowed.add(c)
        for c, target in forced:
            need = target - w[c]
            if need <= 0:
                continue
            for i, k in self.uses[c]:
                while self.free[i] < k * need:
                    victim, loss = -1, math.inf
                    for d in self.users[i]:
                        if w[d] > 0 and d not in locked:
                            lo = table[d][w[d]] - table[d][w[d] - 1]
                            if lo < loss:
                                victim, loss = d, lo
                    if victim < 0:
                        self.undo(mark)
                        return False
                    self._set(victim, w[victim] - 1)
                    narrowed.add(victim)
            self._set(c, target)
        cset = sorted({d for c in narrowed for d in self.neigh[c]})
        self.fill(cset, locked)
        if self.value > v0 + 1e-12:
            return True
        self.undo(mark)
        return False


class LocalSearchPolicy(TimedPolicy):
    """Discrete iterated local search over ``k`` candidate paths per request (``"ls"``).

    Start: the best of the warm-start policies' allocations (default: q-cast) and a greedy
    fill from empty, each completed greedily. ``warm`` lists built-in slot-policy names
    (:func:`~qnetai.control.slotted_policies.builtin_slot_policies`) or policy objects; an
    unknown name is an InputError (nothing is skipped). The classical ``ls`` never depends on
    a learned model; :class:`qnetai.ai.learned_slot.LearnedWarmLocalSearch` (``ls-rl``) is the
    variant warm-started from one.
    Neighbourhood (first improvement, random order, each move with exact capacity repair and
    incremental EXT): set a candidate's width to any other value, move a request's width to
    another of its candidate paths, drop a request (its capacity goes to the others). At a
    local optimum a perturbation (drop one or two random requests and force a random path of
    another) restarts the descent; the best allocation is kept, so the result is never below
    any warm start in EXT. ``max_moves`` evaluations in all (deterministic under ``rng``);
    ``time_limit_s`` optionally stops earlier (then the result depends on the machine).
    """

    name = "ls"

    def __init__(
        self,
        *,
        k: int = 4,
        max_moves: int = 3000,
        time_limit_s: float | None = None,
        warm: tuple[Any, ...] = ("q-cast",),
    ) -> None:
        self.k = k
        self.max_moves = max_moves
        self.time_limit_s = time_limit_s
        self.warm = tuple(warm)
        self.last_moves = 0
        self._warm_policies: list[Any] | None = None

    def warm_policies(self) -> list[Any]:
        """The warm-start policies (built-in names are built once; objects used as given)."""
        if self._warm_policies is None:
            from qnetai.control.slotted_policies import builtin_slot_policy

            self._warm_policies = [
                builtin_slot_policy(w) if isinstance(w, str) else w for w in self.warm
            ]
        return self._warm_policies

    def _decide(
        self, net: SlottedNetwork, requests: np.ndarray, rng: np.random.Generator
    ) -> list[Item]:
        t_end = None if self.time_limit_s is None else time.perf_counter() + self.time_limit_s
        starts: list[list[Item]] = []
        for pol in self.warm_policies():
            a = pol.allocate(net, requests, rng=rng)
            starts.append(
                [
                    (int(r), p, int(w))
                    for r, p, w in zip(a.request, a.paths, a.widths.tolist(), strict=True)
                ]
            )
        cands: list[tuple[int, Path]] = []
        for r, (s, d) in enumerate(requests.tolist()):
            cands.extend((r, p) for p in net.candidate_paths(int(s), int(d), self.k))
        seen = set(cands)
        for items in starts:
            for r, p, _ in items:
                if (r, p) not in seen:
                    seen.add((r, p))
                    cands.append((r, p))
        if not cands:
            return []
        pk = _Packing(net, cands)
        index = {c: j for j, c in enumerate(cands)}
        every = range(len(cands))
        best_w, best_v = [0] * len(cands), -1.0
        for items in [*starts, []]:
            widths = [0] * len(cands)
            for r, p, w in items:
                widths[index[(r, p)]] += w
            pk.load(widths)
            pk.fill(every, set())
            if pk.value > best_v + 1e-12:
                best_w, best_v = list(pk.w), pk.value
        pk.load(best_w)
        moves = 0
        requests_ids = sorted(pk.by_request)

        def descend() -> None:
            nonlocal moves
            improved = True
            while improved and moves < self.max_moves:
                improved = False
                for mv in self._neighbourhood(pk, rng):
                    if moves >= self.max_moves or (t_end and time.perf_counter() > t_end):
                        return
                    forced = self._forced(pk, mv)
                    if forced is None:
                        continue
                    moves += 1
                    pk.journal.clear()
                    if pk.move(forced):
                        improved = True

        descend()
        while moves < self.max_moves and not (t_end and time.perf_counter() > t_end):
            if pk.value > best_v + 1e-12:
                best_w, best_v = list(pk.w), pk.value
            else:
                pk.load(best_w)
            # perturb: drop one or two requests, force a random path of another one
            drop = rng.choice(
                requests_ids, size=min(len(requests_ids), int(rng.integers(1, 3))), replace=False
            ).tolist()
            forced = [(c, 0) for r in drop for c in pk.by_request[r]]
            others = [r for r in requests_ids if r not in drop]
            locked = {c for c, _ in forced}
            for c, _ in forced:
                pk._set(c, 0)
            if others:
                r = others[int(rng.integers(len(others)))]
                c = pk.by_request[r][int(rng.integers(len(pk.by_request[r])))]
                h = pk.headroom(c) + pk.w[c]
                if h > 0:
                    pk._set(c, int(rng.integers(1, h + 1)))
            pk.fill(every, locked)
            pk.journal.clear()
            moves += 1
            descend()
        if pk.value > best_v + 1e-12:
            best_w = list(pk.w)
        self.last_moves = moves
        return [(cands[j][0], cands[j][1], w) for j, w in enumerate(best_w) if w > 0]

    @staticmethod
    def _neighbourhood(pk: _Packing, rng: np.random.Generator) -> list[tuple[str, int, int]]:
        """Move descriptors ``(kind, a, b)`` in random order (read against the state later)."""
        mv: list[tuple[str, int, int]] = []
        for c, t in enumerate(pk.table):
            mv.extend(("w", c, w) for w in range(len(t)) if w != pk.w[c])
            if pk.w[c] > 0:
                mv.extend(("swap", c, d) for d in pk.by_request[pk.cands[c][0]] if d != c)
        mv.extend(("drop", r, 0) for r in pk.by_request)
        order = rng.permutation(len(mv))
        return [mv[i] for i in order.tolist()]

    @staticmethod
    def _forced(pk: _Packing, mv: tuple[str, int, int]) -> list[tuple[int, int]] | None:
        kind, a, b = mv
        if kind == "w":
            return None if pk.w[a] == b else [(a, b)]
        if kind == "swap":
            if pk.w[a] == 0:
                return None
            return [(a, 0), (b, min(pk.w[a] + pk.w[b], len(pk.table[b]) - 1))]
        got = [(c, 0) for c in pk.by_request[a]]
        return got if any(pk.w[c] for c, _ in got) else None


FACTORIES["ls"] = LocalSearchPolicy
