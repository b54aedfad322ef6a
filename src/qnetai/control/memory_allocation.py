"""Memory allocation across competing requests on the event engine, and its optimisation.

Allocators (the :class:`qnetai.sim.allocation.MemoryAllocator` seam):

* :class:`FirstComeFirstServed` (``fcfs``): every request holds what it asks for as soon as
  it is free (the engine's behaviour without an allocator, event for event);
* :class:`StaticPartition` (``static-partition``): each request *class* (its source and
  destination, ``"A->B"``) may hold at most ``shares[class]`` of every node's memory qubits
  (at least one request's worth), and ``memories[class]`` qubits per node side per request.

:func:`optimise_partition` searches the share vector and per-class memories with nevergrad on
training seeds; :func:`bench_memory_allocation` compares allocators on other seeds of
:func:`bottleneck_scenario` (a shared middle node with few qubits) by served requests,
delivered pairs, fidelity and Jain fairness over classes, with 95 % intervals over seeds.

Example:
    >>> from qnetai.control.memory_allocation import bottleneck_scenario, evaluate_allocator
    >>> row = evaluate_allocator(bottleneck_scenario(), "fcfs", seeds=[1])  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.sim.allocation import MemoryAllocator

__all__ = [
    "FirstComeFirstServed",
    "StaticPartition",
    "bench_memory_allocation",
    "bottleneck_scenario",
    "builtin_allocators",
    "evaluate_allocator",
    "jain_index",
    "optimise_partition",
    "request_class",
]


def request_class(request: Any) -> str:
    """The class of a request: ``"source->destination"``."""
    return f"{request.src_name}->{request.dst_name}"


def jain_index(values: Sequence[float]) -> float:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` (1 = equal; nan for all zeros).

    Example:
        >>> jain_index([1.0, 1.0]), jain_index([1.0, 0.0])
        (1.0, 0.5)
    """
    x = np.asarray(values, dtype=float)
    den = x.size * float(np.sum(x * x))
    return float(np.sum(x) ** 2 / den) if den > 0 else math.nan


@dataclass
class FirstComeFirstServed:
    """Hold what is asked for, whenever it is free (no quota, no preemption)."""

    name: str = "fcfs"

    def grant(self, state: Any, request: Any, route: Any) -> int:
        """The memories the request asked for."""
        return int(request.mem)

    def admit(self, state: Any, reservation: Any) -> bool:
        """Always."""
        return True

    def release(self, state: Any, reservation: Any) -> None:
        """Nothing to forget."""


@dataclass
class StaticPartition:
    """Per-class quotas: class ``c`` holds at most ``shares[c]`` of each node's qubits.

    ``shares`` maps classes (``"A->B"``) to fractions in [0, 1] (they may sum to more than 1:
    the quotas then overlap and free memory is still first come, first served); a class
    not listed gets ``default_share``. A quota is never below one request's need, so every
    class can be served. ``memories`` optionally overrides the qubits per node side of a
    class's requests.
    """

    shares: Mapping[str, float]
    memories: Mapping[str, int] = field(default_factory=dict)
    default_share: float = 1.0
    name: str = "static-partition"
    _held: dict[tuple[str, int], int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for key, v in self.shares.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                raise InputError(f"shares.{key} must be a number in [0, 1] (got {v!r})")
        for key, m in self.memories.items():
            if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                raise InputError(f"memories.{key} must be an integer >= 1 (got {m!r})")
        if not 0.0 <= float(self.default_share) <= 1.0:
            raise InputError(f"default_share must be in [0, 1] (got {self.default_share!r})")

    def grant(self, state: Any, request: Any, route: Any) -> int:
        """The class's memories per node side, else what was asked for."""
        return int(self.memories.get(request_class(request), request.mem))

    def _quota(self, state: Any, cls: str, node: int, need: int) -> int:
        share = float(self.shares.get(cls, self.default_share))
        return max(need, math.floor(share * state.capacity[node] + 1e-9))

    def admit(self, state: Any, reservation: Any) -> bool:
        """Whether every node of the path has room within the class's quota."""
        req, route = reservation.req, reservation.route
        cls = request_class(req)
        for n, need in zip(route.nodes, route.need, strict=True):
            q = need * req.mem
            if self._held.get((cls, n), 0) + q > self._quota(state, cls, n, q):
                return False
        for n, need in zip(route.nodes, route.need, strict=True):
            self._held[(cls, n)] = self._held.get((cls, n), 0) + need * req.mem
        return True

    def release(self, state: Any, reservation: Any) -> None:
        """Return the reservation's qubits to its class's quota."""
        req, route = reservation.req, reservation.route
        cls = request_class(req)
        for n, need in zip(route.nodes, route.need, strict=True):
            self._held[(cls, n)] -= need * req.mem


def builtin_allocators() -> dict[str, Callable[..., MemoryAllocator]]:
    """Built-in allocators by name (factories taking their options as keywords)."""
    return {"fcfs": FirstComeFirstServed, "static-partition": StaticPartition}


def bottleneck_scenario(
    *,
    middle_qubits: int = 4,
    duration_s: float = 1.0,
    fast_rate_hz: float = 150.0,
    slow_rate_hz: float = 40.0,
    pairs_per_request: int = 5,
    timeout_s: float = 0.1,
) -> Scenario:
    """Two request classes through one middle node ``M`` whose few qubits are the bottleneck.

    ``A->C`` crosses two 10 km links (fast), ``B->D`` two 60 km links (slow, holding memory
    long); end nodes have plenty of memory, ``M`` has ``middle_qubits``. Requests want
    ``pairs_per_request`` pairs above fidelity 0.5 and expire after ``timeout_s``.
    """
    node = {"memory_qubits": 40, "memory": {"t_coh_s": 0.5}}
    flows = [
        ("A", "C", fast_rate_hz),
        ("B", "D", slow_rate_hz),
    ]
    return Scenario.model_validate(
        {
            "name": "memory-bottleneck",
            "duration_s": duration_s,
            "nodes": [{"name": n, "kind": "end_user", **node} for n in "ABCD"]
            + [{"name": "M", "memory_qubits": middle_qubits, "memory": {"t_coh_s": 0.5}}],
            "links": [
                {"endpoints": ["A", "M"], "length_km": 10},
                {"endpoints": ["M", "C"], "length_km": 10},
                {"endpoints": ["B", "M"], "length_km": 60},
                {"endpoints": ["M", "D"], "length_km": 60},
            ],
            "traffic": {
                "requests": [
                    {
                        "source": s,
                        "destination": d,
                        "count": max(1, int(rate * duration_s * 2)),
                        "pairs_per_request": pairs_per_request,
                        "arrival": {"rate_hz": rate},
                        "min_fidelity": 0.5,
                        "timeout_s": timeout_s,
                    }
                    for s, d, rate in flows
                ]
            },
        }
    )


def _run(scenario: Scenario, allocator: MemoryAllocator | None, seed: int) -> dict[str, Any]:
    from qnetai.control.policy import ShortestPathPolicy
    from qnetai.sim.engine import Simulation
    from qnetai.sim.state import SERVED

    sim = Simulation(scenario, seed=seed, policy=ShortestPathPolicy(), allocator=allocator)
    sim.run()
    summary = sim.result().summary
    per: dict[str, list[int]] = {}
    for r in sim.requests:
        if r.arrival > sim.duration_s:
            continue
        tot = per.setdefault(request_class(r), [0, 0])
        tot[0] += 1
        tot[1] += int(r.status == SERVED)
    fractions = {c: s / n for c, (n, s) in sorted(per.items()) if n}
    return {
        "served": int(sum(s for _, s in per.values())),
        "requests": int(sum(n for n, _ in per.values())),
        "pairs_delivered": int(summary["pairs_delivered"]),
        "mean_fidelity": float(summary["mean_fidelity"]),
        "served_fraction": fractions,
        "jain": jain_index(list(fractions.values())),
    }


def _ci(x: Sequence[float]) -> tuple[float, float]:
    a = np.asarray([v for v in x if not math.isnan(v)], dtype=float)
    if a.size == 0:
        return math.nan, math.nan
    half = 1.959963984540054 * float(a.std(ddof=1)) / math.sqrt(a.size) if a.size > 1 else 0.0
    return float(a.mean()), half


def evaluate_allocator(
    scenario: Scenario,
    allocator: str | MemoryAllocator | Callable[[], MemoryAllocator],
    *,
    seeds: Sequence[int],
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Mean and 95 % half-width over ``seeds`` of served requests, pairs, fidelity, Jain.

    ``allocator`` is a name (resolved by :func:`qnetai.plugins`-style built-ins with
    ``options``), an allocator factory (a fresh one per seed) or an allocator object (used
    for one seed only: quotas keep state).
    """
    if not seeds:
        raise InputError("seeds must not be empty")
    runs = []
    for s in seeds:
        if isinstance(allocator, str):
            table = builtin_allocators()
            if allocator not in table:
                raise InputError(f"allocator must be one of {', '.join(table)} (got {allocator!r})")
            alloc: MemoryAllocator = table[allocator](**dict(options or {}))
        elif isinstance(allocator, MemoryAllocator):
            if len(seeds) > 1:
                raise InputError("pass a factory, not an allocator object, for several seeds")
            alloc = allocator
        else:
            alloc = allocator()
        runs.append(_run(scenario, alloc, int(s)))
    out: dict[str, Any] = {"seeds": list(seeds)}
    for key in ("served", "pairs_delivered", "mean_fidelity", "jain"):
        out[key], out[f"{key}_ci95"] = _ci([float(r[key]) for r in runs])
    out["requests"] = float(np.mean([r["requests"] for r in runs]))
    classes = sorted({c for r in runs for c in r["served_fraction"]})
    out["served_fraction"] = {
        c: float(np.mean([r["served_fraction"].get(c, 0.0) for r in runs])) for c in classes
    }
    return out


def _objective(row: Mapping[str, Any]) -> float:
    """Served requests weighted by fairness (Jain index over classes)."""
    jain = row["jain"] if not math.isnan(row["jain"]) else 0.0
    return float(row["served"]) * jain


def optimise_partition(
    scenario: Scenario,
    *,
    seeds: Sequence[int] = (101, 102),
    budget: int = 24,
    max_memories: int = 2,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], float]:
    """Search per-class shares and memories (nevergrad ``NGOpt``) on ``seeds``.

    The objective is served requests times Jain's index over classes (mean over ``seeds``).
    Returns ``(options for StaticPartition, objective)``; evaluate the result on other seeds.
    """
    from qnetai._optional import require

    ng = require("nevergrad", extra="ai")
    classes = sorted({f"{r.source}->{r.destination}" for r in scenario.traffic.requests})
    if not classes:
        raise InputError("scenario.traffic.requests must name at least one flow")
    if budget < 1:
        raise InputError(f"budget must be >= 1 (got {budget})")
    param = ng.p.Instrumentation(
        shares=ng.p.Array(shape=(len(classes),), lower=0.0, upper=1.0),
        memories=ng.p.TransitionChoice(list(range(1, max_memories + 1)), repetitions=len(classes)),
    )
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.NGOpt(parametrization=param, budget=budget)
    best: tuple[float, dict[str, Any]] = (-math.inf, {})
    for k in range(budget):
        cand = opt.ask()
        kw = cand.kwargs
        options = {
            "shares": {c: float(v) for c, v in zip(classes, kw["shares"], strict=True)},
            "memories": {c: int(m) for c, m in zip(classes, kw["memories"], strict=True)},
        }
        row = evaluate_allocator(scenario, "static-partition", seeds=seeds, options=options)
        value = _objective(row)
        opt.tell(cand, -value)
        if value > best[0]:
            best = (value, options)
        if progress is not None:
            progress(k + 1, budget)
    return best[1], best[0]


def bench_memory_allocation(
    scenario: Scenario | None = None,
    *,
    seeds: Sequence[int] = tuple(range(10)),
    train_seeds: Sequence[int] = (101, 102),
    budget: int = 24,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """FCFS, equal static partition and the optimised partition on equal seeds.

    The partition is optimised on ``train_seeds`` and every allocator is evaluated on
    ``seeds``; rows carry :func:`evaluate_allocator`'s figures.
    """
    sc = scenario or bottleneck_scenario()
    classes = sorted({f"{r.source}->{r.destination}" for r in sc.traffic.requests})
    if progress is not None:
        progress("optimising the partition")
    best, train_value = optimise_partition(sc, seeds=train_seeds, budget=budget)
    candidates: list[tuple[str, str, dict[str, Any]]] = [
        ("fcfs", "fcfs", {}),
        ("static-equal", "static-partition", {"shares": {c: 1 / len(classes) for c in classes}}),
        ("static-optimised", "static-partition", best),
    ]
    rows = []
    for label, name, options in candidates:
        if progress is not None:
            progress(label)
        row = evaluate_allocator(sc, name, seeds=seeds, options=options)
        row["allocator"] = label
        row["options"] = options
        rows.append(row)
    return {
        "scenario": sc.name,
        "rows": rows,
        "optimised": best,
        "train_objective": train_value,
        "train_seeds": list(train_seeds),
    }
