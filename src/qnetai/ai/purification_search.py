"""Search for purification circuits: a genetic algorithm (qevo-style) and CMA-ES.

The search space is :class:`qnetai.physics.purification_circuits.Circuit` on ``registers``
slots using at most ``pairs`` raw pairs; every candidate is simulated exactly
(:func:`~qnetai.physics.purification_circuits.simulate`). The genetic algorithm follows the
approach of Krastanov, Albert and Jiang (Quantum 3, 123, 2019; Krastanov/qevo): a population
of circuits, elites kept, children by point mutation, insertion, deletion, swap of neighbours
and one-point crossover, plus fresh random circuits each generation. The second optimiser is
nevergrad's CMA-ES over a relaxed encoding (``slots x 5`` numbers in ``[0, 1]`` decoded into
operations). :func:`random_search` spends the same number of evaluations at random.

Targets (``SearchProblem.target``): ``"fidelity"`` (subject to a floor on the yield per raw pair),
``"yield"`` (success probability per raw pair, subject to a fidelity floor) and ``"key-rate"``
(asymptotic BB84 key per raw pair). Every search keeps the Pareto front of
(fidelity, yield), so a found circuit can be compared with a textbook protocol at equal
yield. All randomness comes from the ``numpy.random.Generator`` passed in.

Example:
    >>> import numpy as np
    >>> from qnetai.physics.purification_circuits import NoiseModel
    >>> prob = SearchProblem(pairs=2, fidelity=0.9, noise=NoiseModel(0.99, 0.99))
    >>> res = genetic_search(prob, np.random.default_rng(1), population=20, generations=10)
    >>> res.best.fidelity > 0.9
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from qnetai.errors import InputError
from qnetai.physics.purification_circuits import (
    MAX_REGISTERS,
    Circuit,
    CircuitResult,
    Gate,
    Measure,
    NoiseModel,
    Op,
    baseline_circuits,
    simulate,
)

Target = Literal["fidelity", "yield", "key-rate"]
TARGETS: tuple[str, ...] = ("fidelity", "yield", "key-rate")
#: Score cost per operation, so that equal circuits prefer the shorter one.
LENGTH_COST = 1e-7
#: ``progress(method, candidates_done, candidates_total, best_score)``.
Progress = Callable[[str, int, int, float], None]


@dataclass(frozen=True)
class SearchProblem:
    """What to search: raw pairs, noise, registers, target and its constraint.

    ``fidelity``: Werner fidelity of the raw pairs. ``registers``: memory slots the circuit
    may use (default ``min(pairs, 3)``). ``max_ops``: operation limit (default ``4 * pairs``).
    ``min_yield``: floor on the yield per raw pair of the ``"fidelity"`` target;
    ``min_fidelity``: fidelity floor of ``"yield"``.
    """

    pairs: int
    fidelity: float
    noise: NoiseModel = field(default_factory=NoiseModel)
    registers: int | None = None
    target: str = "fidelity"
    min_yield: float = 0.0
    min_fidelity: float = 0.0
    max_ops: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.pairs, bool) or not isinstance(self.pairs, int):
            raise InputError(f"pairs must be an integer (got {self.pairs!r})")
        if not 2 <= self.pairs <= 16:
            raise InputError(f"pairs must be in [2, 16] (got {self.pairs})")
        if not 0.25 <= self.fidelity <= 1.0:
            raise InputError(f"fidelity must be in [0.25, 1] (got {self.fidelity})")
        regs = self.n_registers
        if not 2 <= regs <= min(self.pairs, MAX_REGISTERS["bell"]):
            raise InputError(
                f"registers must be in [2, min(pairs, {MAX_REGISTERS['bell']})] (got {regs})"
            )
        if self.target not in TARGETS:
            raise InputError(f"target must be one of {', '.join(TARGETS)} (got {self.target!r})")
        for name in ("min_yield", "min_fidelity"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"{name} must be in [0, 1] (got {v})")
        if not 2 <= self.op_limit <= 200:
            raise InputError(f"max_ops must be in [2, 200] (got {self.op_limit})")

    @property
    def n_registers(self) -> int:
        """Registers used by the search."""
        return self.registers if self.registers is not None else min(self.pairs, 3)

    @property
    def op_limit(self) -> int:
        """Largest number of operations of a candidate."""
        return self.max_ops if self.max_ops is not None else 4 * self.pairs


@dataclass(frozen=True)
class Evaluated:
    """A circuit with its figures and its score under the problem's target."""

    circuit: Circuit
    fidelity: float
    success_probability: float
    yield_per_pair: float
    key_rate: float
    score: float

    @property
    def depth(self) -> int:
        """Layers of the circuit."""
        return self.circuit.depth

    @property
    def raw_pairs(self) -> int:
        """Raw pairs the circuit consumes."""
        return self.circuit.raw_pairs

    def as_dict(self) -> dict[str, object]:
        """Figures and the circuit as plain data (JSON-ready)."""
        return {
            "fidelity": self.fidelity,
            "success_probability": self.success_probability,
            "yield_per_pair": self.yield_per_pair,
            "key_rate": self.key_rate,
            "depth": self.depth,
            "raw_pairs": self.raw_pairs,
            "gates": self.circuit.n_gates,
            "score": self.score,
            "circuit": self.circuit.to_dict(),
            "description": self.circuit.describe(),
        }


@dataclass
class SearchResult:
    """Outcome of a search: best circuit, Pareto front of (fidelity, yield), history."""

    method: str
    best: Evaluated
    front: list[Evaluated]
    evaluations: int
    history: list[float]

    def best_at_yield(self, min_yield: float) -> Evaluated | None:
        """Highest-fidelity front circuit whose yield per raw pair is ``>= min_yield``."""
        ok = [e for e in self.front if e.yield_per_pair >= min_yield * (1 - 1e-12)]
        return max(ok, key=lambda e: e.fidelity, default=None)


class Evaluator:
    """Simulates and scores circuits for one problem, with a cache and a Pareto front."""

    def __init__(self, problem: SearchProblem, *, cache_size: int = 200_000) -> None:
        self.problem = problem
        self._cache: dict[Circuit, Evaluated] = {}
        self._cache_size = cache_size
        self.evaluations = 0
        self.front: list[Evaluated] = []

    def __call__(self, circuit: Circuit) -> Evaluated:
        """Score ``circuit`` (cached); counts only new simulations as evaluations."""
        hit = self._cache.get(circuit)
        if hit is not None:
            return hit
        r = simulate(circuit, self.problem.fidelity, self.problem.noise, backend="bell")
        ev = score_result(self.problem, circuit, r)
        self.evaluations += 1
        if len(self._cache) < self._cache_size:
            self._cache[circuit] = ev
        self._update_front(ev)
        return ev

    def _update_front(self, ev: Evaluated) -> None:
        if ev.raw_pairs > self.problem.pairs:
            return
        for other in self.front:
            if other.fidelity >= ev.fidelity and other.yield_per_pair >= ev.yield_per_pair:
                return
        self.front = [
            o
            for o in self.front
            if not (ev.fidelity >= o.fidelity and ev.yield_per_pair >= o.yield_per_pair)
        ]
        self.front.append(ev)
        self.front.sort(key=lambda e: e.yield_per_pair)


def score_result(problem: SearchProblem, circuit: Circuit, r: CircuitResult) -> Evaluated:
    """The :class:`Evaluated` of a simulated circuit under ``problem``'s target.

    Example:
        >>> from qnetai.physics.purification_circuits import dejmps_pumping
        >>> prob = SearchProblem(pairs=3, fidelity=0.9)
        >>> c = dejmps_pumping(3)
        >>> round(score_result(prob, c, simulate(c, 0.9)).fidelity, 4)
        0.9565
    """
    f = float(r.fidelity)
    p = float(r.success_probability)
    y = float(r.yield_per_pair)
    k = float(r.key_rate)
    over = max(0, circuit.raw_pairs - problem.pairs)
    if problem.target == "fidelity":
        s, miss = f, max(0.0, problem.min_yield - y)
    elif problem.target == "yield":
        s, miss = y, max(0.0, problem.min_fidelity - f)
    else:
        s, miss = k, 0.0
    if miss > 0 or over > 0:  # infeasible: below every feasible score, nearer is better
        s = -1.0 - miss - over
    s -= LENGTH_COST * len(circuit.ops)
    return Evaluated(circuit, f, p, y, k, s)


# -- random circuits and variation -------------------------------------------------------------


def random_op(rng: np.random.Generator, registers: int) -> Op:
    """A random gate (probability 2/3) or coincidence measurement of a register other than 0."""
    if rng.random() < 2.0 / 3.0:
        c, t = rng.choice(registers, 2, replace=False)
        return Gate(int(c), int(t), int(rng.integers(6)), int(rng.integers(6)))
    return Measure(int(rng.integers(1, registers)), "XYZ"[int(rng.integers(3))])


def _fits(problem: SearchProblem, ops: list[Op]) -> bool:
    return (
        len(ops) <= problem.op_limit
        and Circuit(problem.n_registers, tuple(ops)).raw_pairs <= problem.pairs
    )


def random_circuit(problem: SearchProblem, rng: np.random.Generator) -> Circuit:
    """Random operations appended while the raw-pair budget and the op limit allow."""
    ops: list[Op] = []
    target_len = int(rng.integers(2, problem.op_limit + 1))
    for _ in range(4 * target_len):
        if len(ops) >= target_len:
            break
        op = random_op(rng, problem.n_registers)
        if _fits(problem, [*ops, op]):
            ops.append(op)
    return Circuit(problem.n_registers, tuple(ops))


def _mutate(problem: SearchProblem, ops: list[Op], rng: np.random.Generator) -> list[Op]:
    out = list(ops)
    if not out:
        return [random_op(rng, problem.n_registers)]
    kind = int(rng.integers(5))
    i = int(rng.integers(len(out)))
    regs = problem.n_registers
    if kind == 0:  # point mutation: one field of one operation
        op = out[i]
        if isinstance(op, Gate):
            which = int(rng.integers(3))
            if which == 0:
                out[i] = Gate(op.control, op.target, int(rng.integers(6)), op.perm_target)
            elif which == 1:
                out[i] = Gate(op.control, op.target, op.perm_control, int(rng.integers(6)))
            else:
                c, t = rng.choice(regs, 2, replace=False)
                out[i] = Gate(int(c), int(t), op.perm_control, op.perm_target)
        elif isinstance(op, Measure):
            if rng.random() < 0.5:
                out[i] = Measure(op.register, "XYZ"[int(rng.integers(3))])
            else:
                out[i] = Measure(int(rng.integers(1, regs)), op.basis)
    elif kind == 1:
        out.insert(int(rng.integers(len(out) + 1)), random_op(rng, regs))
    elif kind == 2:
        out.pop(i)
    elif kind == 3 and len(out) > 1:
        j = min(i + 1, len(out) - 1)
        out[i], out[j] = out[j], out[i]
    else:
        out[i] = random_op(rng, regs)
    return out


def _crossover(a: list[Op], b: list[Op], rng: np.random.Generator) -> list[Op]:
    i = int(rng.integers(len(a) + 1))
    j = int(rng.integers(len(b) + 1))
    return a[:i] + b[j:]


def _child(
    problem: SearchProblem,
    parents: list[Evaluated],
    rng: np.random.Generator,
    tournament: int,
) -> Circuit:
    def pick() -> Evaluated:
        idx = rng.integers(len(parents), size=tournament)
        return max((parents[int(k)] for k in idx), key=lambda e: e.score)

    for _ in range(20):
        a = list(pick().circuit.ops)
        ops = _crossover(a, list(pick().circuit.ops), rng) if rng.random() < 0.3 else a
        for _ in range(1 + int(rng.integers(2))):
            if ops:
                ops = _mutate(problem, ops, rng)
        if _fits(problem, ops):
            return Circuit(problem.n_registers, tuple(ops))
    return random_circuit(problem, rng)


# -- optimisers --------------------------------------------------------------------------------


def genetic_search(
    problem: SearchProblem,
    rng: np.random.Generator,
    *,
    population: int = 60,
    generations: int = 60,
    elite_fraction: float = 0.2,
    fresh_fraction: float = 0.1,
    tournament: int = 3,
    progress: Progress | None = None,
) -> SearchResult:
    """qevo-style genetic algorithm; returns the best circuit and the Pareto front.

    Each generation keeps the best ``elite_fraction`` distinct circuits, adds
    ``fresh_fraction`` random circuits and fills the rest with children (tournament
    selection, crossover with probability 0.3, one or two mutations).
    ``progress("genetic", candidates, total, best_score)`` is called after each generation.
    """
    _check_budget("population", population, 4, 10_000)
    _check_budget("generations", generations, 1, 100_000)
    ev = Evaluator(problem)
    pop = [ev(random_circuit(problem, rng)) for _ in range(population)]
    n_elite = max(1, round(elite_fraction * population))
    n_fresh = round(fresh_fraction * population)
    history: list[float] = []
    for gen in range(generations):
        pop.sort(key=lambda e: e.score, reverse=True)
        elites: list[Evaluated] = []
        seen: set[Circuit] = set()
        for e in pop:
            if e.circuit not in seen:
                elites.append(e)
                seen.add(e.circuit)
            if len(elites) == n_elite:
                break
        nxt = list(elites)
        nxt += [ev(random_circuit(problem, rng)) for _ in range(n_fresh)]
        while len(nxt) < population:
            nxt.append(ev(_child(problem, pop, rng, tournament)))
        pop = nxt
        best = max(pop, key=lambda e: e.score)
        history.append(best.score)
        if progress is not None:
            progress("genetic", population * (gen + 2), population * (generations + 1), best.score)
    best = max(pop, key=lambda e: e.score)
    return SearchResult("genetic", best, list(ev.front), ev.evaluations, history)


#: Numbers per operation slot of the relaxed encoding.
GENES = 5


def decode(problem: SearchProblem, x: np.ndarray) -> Circuit:
    """Decode a vector in ``[0, 1]^(slots * 5)`` into a circuit (the relaxed encoding).

    Per slot: ``u0 < 0.5`` gate, ``< 0.75`` measurement, else no operation; ``u1, u2``
    choose registers (or register and basis), ``u3, u4`` the two Bell permutations.
    Operations that would exceed the raw-pair budget are skipped.

    Example:
        >>> prob = SearchProblem(pairs=2, fidelity=0.9)
        >>> decode(prob, np.array([0.1, 0.0, 0.0, 0.3, 0.3, 0.6, 0.0, 0.9, 0, 0])).describe()
        'cnot 0->1 [perm 1,1]; measure 1 Z'
    """
    regs = problem.n_registers
    u = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0 - 1e-12).reshape(-1, GENES)
    ops: list[Op] = []
    for g in u:
        if g[0] < 0.5:
            c = int(g[1] * regs)
            t = int(g[2] * (regs - 1))
            t = t + 1 if t >= c else t
            op: Op = Gate(c, t, int(g[3] * 6), int(g[4] * 6))
        elif g[0] < 0.75:
            op = Measure(1 + int(g[1] * (regs - 1)), "XYZ"[int(g[2] * 3)])
        else:
            continue
        if _fits(problem, [*ops, op]):
            ops.append(op)
    return Circuit(regs, tuple(ops))


def cma_search(
    problem: SearchProblem,
    rng: np.random.Generator,
    *,
    budget: int = 3000,
    progress: Progress | None = None,
) -> SearchResult:
    """Nevergrad CMA-ES over the relaxed encoding of :func:`decode` (``op_limit`` slots)."""
    from qnetai._optional import require

    ng = require("nevergrad", extra="ai")
    _check_budget("budget", budget, 10, 10_000_000)
    ev = Evaluator(problem)
    dim = problem.op_limit * GENES
    param = ng.p.Array(shape=(dim,), lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(int(rng.integers(2**31 - 1)))
    opt = ng.optimizers.CMA(parametrization=param, budget=budget)
    best: Evaluated | None = None
    history: list[float] = []
    for i in range(budget):
        cand = opt.ask()
        e = ev(decode(problem, cand.value))
        opt.tell(cand, -e.score)
        if best is None or e.score > best.score:
            best = e
        if (i + 1) % 100 == 0 or i + 1 == budget:
            history.append(best.score)
            if progress is not None:
                progress("cma-es", i + 1, budget, best.score)
    assert best is not None
    return SearchResult("cma-es", best, list(ev.front), ev.evaluations, history)


def random_search(
    problem: SearchProblem,
    rng: np.random.Generator,
    *,
    budget: int = 3000,
    progress: Progress | None = None,
) -> SearchResult:
    """The same number of random circuits (the search baseline of equal budget)."""
    _check_budget("budget", budget, 1, 10_000_000)
    ev = Evaluator(problem)
    best: Evaluated | None = None
    history: list[float] = []
    for i in range(budget):
        e = ev(random_circuit(problem, rng))
        if best is None or e.score > best.score:
            best = e
        if (i + 1) % 100 == 0 or i + 1 == budget:
            history.append(best.score)
            if progress is not None:
                progress("random", i + 1, budget, best.score)
    assert best is not None
    return SearchResult("random", best, list(ev.front), ev.evaluations, history)


def exhaustive_search(problem: SearchProblem, *, max_ops: int) -> SearchResult:
    """Every gate/measurement sequence of up to ``max_ops`` operations (small cases only).

    Gives the exact optimum over that space, to check the heuristics against.
    """
    _check_budget("max_ops", max_ops, 1, 4)
    regs = problem.n_registers
    gates: list[Op] = [
        Gate(c, t, a, b)
        for c, t in itertools.permutations(range(regs), 2)
        for a in range(6)
        for b in range(6)
    ]
    ops_all = gates + [Measure(r, basis) for r in range(1, regs) for basis in "XYZ"]
    ev = Evaluator(problem)
    best = ev(Circuit(regs))  # no operation: the raw pair
    for n in range(1, max_ops + 1):
        if len(ops_all) ** n > 2_000_000:
            raise InputError(f"exhaustive search over {len(ops_all)}^{n} circuits is too large")
        for seq in itertools.product(ops_all, repeat=n):
            if not _fits(problem, list(seq)):
                continue
            e = ev(Circuit(regs, tuple(seq)))
            if e.score > best.score:
                best = e
    return SearchResult("exhaustive", best, list(ev.front), ev.evaluations, [best.score])


def evaluate_baselines(problem: SearchProblem) -> dict[str, Evaluated]:
    """Textbook schemes at ``problem.pairs`` raw pairs, scored, and the raw pair itself.

    ``none``: no operation (one raw pair); BBPSSW/DEJMPS pumping; recurrence for powers of 2.
    """
    out = {}
    circuits = {"none": Circuit(problem.n_registers), **baseline_circuits(problem.pairs)}
    for name, c in circuits.items():
        r = simulate(c, problem.fidelity, problem.noise)
        out[name] = score_result(problem, c, r)
    return out


def _check_budget(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(f"{name} must be an integer in [{lo}, {hi}] (got {value!r})")


#: Optimisers :func:`optimise_purification` can run, by name.
METHODS: tuple[str, ...] = ("genetic", "cma-es", "random")


def optimise_purification(
    problem: SearchProblem,
    rng: np.random.Generator,
    *,
    methods: tuple[str, ...] = ("genetic", "cma-es"),
    population: int = 60,
    generations: int = 60,
    budget: int | None = None,
    progress: Progress | None = None,
) -> dict[str, object]:
    """Run the optimisers and the textbook baselines on ``problem``; a JSON-ready report.

    ``budget`` (evaluations of CMA-ES and random search) defaults to ``population *
    generations``. Each method draws from its own child of ``rng``. The report holds the
    baselines, each method's best circuit and Pareto front, the overall ``best`` and, for every
    baseline, the highest-fidelity circuit found whose yield per raw pair is at least the
    baseline's (``comparison``).
    """
    for m in methods:
        if m not in METHODS:
            raise InputError(f"method must be among {', '.join(METHODS)} (got {m!r})")
    if not methods:
        raise InputError("give at least one method")
    budget = population * generations if budget is None else budget
    baselines = evaluate_baselines(problem)
    results: dict[str, SearchResult] = {}
    for m, child in zip(methods, rng.spawn(len(methods)), strict=True):
        if m == "genetic":
            results[m] = genetic_search(
                problem, child, population=population, generations=generations, progress=progress
            )
        elif m == "cma-es":
            results[m] = cma_search(problem, child, budget=budget, progress=progress)
        else:
            results[m] = random_search(problem, child, budget=budget, progress=progress)
    best = max((r.best for r in results.values()), key=lambda e: e.score)
    comparison = []
    for name, b in baselines.items():
        row: dict[str, object] = {
            "baseline": name,
            "baseline_fidelity": b.fidelity,
            "baseline_yield": b.yield_per_pair,
        }
        for m, r in results.items():
            found = r.best_at_yield(b.yield_per_pair)
            row[f"{m}_fidelity"] = None if found is None else found.fidelity
            row[f"{m}_yield"] = None if found is None else found.yield_per_pair
        comparison.append(row)
    return {
        "problem": {
            "pairs": problem.pairs,
            "fidelity": problem.fidelity,
            "gate_fidelity": problem.noise.gate_fidelity,
            "measurement_fidelity": problem.noise.measurement_fidelity,
            "step_s": problem.noise.step_s,
            "t_coh_s": problem.noise.t_coh_s,
            "registers": problem.n_registers,
            "target": problem.target,
            "min_yield": problem.min_yield,
            "min_fidelity": problem.min_fidelity,
            "max_ops": problem.op_limit,
        },
        "baselines": {k: v.as_dict() for k, v in baselines.items()},
        "methods": {
            m: {
                "best": r.best.as_dict(),
                "evaluations": r.evaluations,
                "front": [e.as_dict() for e in r.front],
            }
            for m, r in results.items()
        },
        "best": best.as_dict(),
        "comparison": comparison,
    }
