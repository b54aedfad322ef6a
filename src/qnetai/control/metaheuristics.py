"""Metaheuristic slot policies (GA, PSO, DE, CMA-ES via nevergrad; simulated annealing).

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

    def __init__(self, optimizer: str = "TwoPointsDE", *, name: str | None = None, k: int = 4,
                 budget: int = 200, warm_start: bool = True) -> None:
        self.optimizer = optimizer
        self.name = name or optimizer
        self.k = k
        self.budget = budget
        self.warm_start = warm_start

    def _decide(self, net: SlottedNetwork, requests: np.ndarray, rng: np.random.Generator
                ) -> list[Item]:
        warm = qcast_items(net, requests, Residual(net)) if self.warm_start else []
        prob = _Problem(net, requests, self.k, warm)
        if prob.dim == 0:
            return []
        x0 = prob.encode(warm) if warm else None
        best_val, best_items = prob.decode(x0) if x0 is not None else (-1.0, [])
        val, items = self._search(prob, x0, rng)
        return items if val > best_val else best_items

    def _search(self, prob: _Problem, x0: np.ndarray | None, rng: np.random.Generator
                ) -> tuple[float, list[Item]]:
        raise NotImplementedError


class NevergradPolicy(MetaheuristicPolicy):
    """A nevergrad optimiser (by registry name) on the encoding, first told q-cast's point."""

    def _search(self, prob: _Problem, x0: np.ndarray | None, rng: np.random.Generator
                ) -> tuple[float, list[Item]]:
        ng = require("nevergrad", extra="ai")
        param = ng.p.Array(shape=(prob.dim,), lower=0.0, upper=1.0)
        param.random_state = np.random.RandomState(int(rng.integers(2**31)))
        opt = ng.optimizers.registry[self.optimizer](parametrization=param, budget=self.budget,
                                                      num_workers=1)
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

    def __init__(self, *, k: int = 4, budget: int = 300, warm_start: bool = True,
                 t0: float = 0.5, step: float = 0.25) -> None:
        super().__init__("SA", name="sa", k=k, budget=budget, warm_start=warm_start)
        self.t0 = t0
        self.step = step

    def _search(self, prob: _Problem, x0: np.ndarray | None, rng: np.random.Generator
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


#: Registered names -> factories (``get_slot_policy`` adds them to its registry).
FACTORIES: dict[str, Callable[..., Any]] = {
    "ga": _ng("GeneticDE", "ga"),
    "pso": _ng("PSO", "pso"),
    "de": _ng("TwoPointsDE", "de"),
    "cma": _ng("CMA", "cma"),
    "sa": SimulatedAnnealingPolicy,
}
