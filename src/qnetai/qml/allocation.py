"""QAOA on a path-allocation QUBO from the project's topologies, beside exact and greedy.

The instance: a Waxman or grid topology of :mod:`qnetai.topology`; ``n_requests`` random
(source, destination) pairs, each with its ``n_paths`` shortest simple paths by
``length_km``. Binary variable ``x[r, p] = 1``: request ``r`` is served over its path ``p``.
Each link carries at most one request (capacity 1: one entanglement channel per link).
The value of serving ``r`` over ``p`` is ``1 + T``, ``T`` the path's fibre transmittance
``10**(-0.2 dB/km * length_km / 10)``: every served request counts, shorter paths a little
more (an edge-disjoint-paths problem, where taking the shortest path first can block two).
The allocation problem: maximise the served value
subject to at most one path per request and no link used by two requests.

QUBO (minimised): ``E(x) = -sum v_i x_i + P * (number of chosen pairs that conflict)``,
a pair conflicting when both are paths of one request or share a link. With
``P > max v`` every infeasible ``x`` has a feasible one of lower energy (drop one conflicting
variable: the energy falls by at least ``P - v > 0``), so the QUBO's minimum is the best
allocation. ``x_i = (1 - Z_i) / 2`` maps it to an Ising Hamiltonian for QAOA.

Beside QAOA of depth ``p``: the exact optimum by enumerating all ``2**n`` assignments, a
product-state variational ansatz (the "no entanglement" ablation), and a classical greedy
allocation (highest value first, if feasible) improved by one-flip local search.

Example:
    >>> inst = allocation_instance("grid", 6, n_requests=2, n_paths=2, seed=0)
    >>> inst.n_vars, bool(allocation_energies(inst).min() < 0)
    (4, True)
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qml._backend import check_qubits, device, pennylane, torch
from qnetai.qml.circuits import product_ansatz
from qnetai.qml.qaoa import adam_minimise

__all__ = [
    "AllocationInstance",
    "allocation_energies",
    "allocation_instance",
    "allocation_objective",
    "greedy_allocation",
    "is_feasible",
    "qaoa_allocation_expectation",
    "qaoa_allocation_probabilities",
    "solve_allocation",
]

ATTENUATION_DB_PER_KM = 0.2


@dataclass(frozen=True)
class AllocationInstance:
    """Requests, candidate paths (as link sets) and the QUBO matrix (upper triangular)."""

    requests: list[tuple[int, int]]
    #: ``(request, path nodes, link ids, value)`` per binary variable
    variables: list[tuple[int, tuple[int, ...], frozenset[int], float]]
    penalty: float
    Q: NDArray[np.float64]

    @property
    def n_vars(self) -> int:
        """Number of binary variables (qubits)."""
        return len(self.variables)


def _conflict(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return bool(a[0] == b[0] or a[2] & b[2])


def allocation_instance(
    kind: str,
    n_nodes: int,
    *,
    n_requests: int = 3,
    n_paths: int = 2,
    seed: int = 0,
    penalty_factor: float = 1.5,
) -> AllocationInstance:
    """A random allocation instance on a ``waxman`` or ``grid`` topology of ``n_nodes``.

    Requests are distinct random node pairs (``seed``); a pair with fewer than ``n_paths``
    simple paths keeps those it has. ``penalty = penalty_factor * max value`` (> max value).
    """
    import networkx as nx

    from qnetai.topology import grid, waxman

    if kind not in ("waxman", "grid"):
        raise InputError(f"kind must be 'waxman' or 'grid' (got {kind!r})")
    if n_nodes < 3 or n_requests < 1 or n_paths < 1:
        raise InputError("need n_nodes >= 3, n_requests >= 1 and n_paths >= 1")
    if penalty_factor <= 1.0:
        raise InputError(f"penalty_factor must be > 1 (got {penalty_factor})")
    check_qubits(n_requests * n_paths, name="n_requests x n_paths")
    nodes, links = waxman(n_nodes, rng=seed) if kind == "waxman" else grid(n_nodes)
    index = {node.name: i for i, node in enumerate(nodes)}
    g: Any = nx.Graph()
    for k, link in enumerate(links):
        a, b = link.endpoints
        g.add_edge(index[a], index[b], length_km=link.length_km, link_id=k)
    rng = np.random.default_rng(seed)
    pairs = [(i, j) for i in range(n_nodes) for j in range(i + 1, n_nodes)]
    if n_requests > len(pairs):
        raise InputError(f"n_requests must be <= {len(pairs)} node pairs")
    chosen = rng.choice(len(pairs), size=n_requests, replace=False)
    requests = [pairs[int(c)] for c in chosen]
    variables: list[tuple[int, tuple[int, ...], frozenset[int], float]] = []
    for r, (s, t) in enumerate(requests):
        paths = itertools.islice(nx.shortest_simple_paths(g, s, t, weight="length_km"), n_paths)
        for path in paths:
            hops = list(itertools.pairwise(path))
            length_km = sum(g.edges[u, v]["length_km"] for u, v in hops)
            ids = frozenset(int(g.edges[u, v]["link_id"]) for u, v in hops)
            value = 1.0 + 10 ** (-ATTENUATION_DB_PER_KM * length_km / 10)
            variables.append((r, tuple(int(n) for n in path), ids, float(value)))
    penalty = penalty_factor * max(v[3] for v in variables)
    n = len(variables)
    Q = np.zeros((n, n))
    for i in range(n):
        Q[i, i] = -variables[i][3]
        for j in range(i + 1, n):
            if _conflict(variables[i], variables[j]):
                Q[i, j] = penalty
    return AllocationInstance(requests, variables, penalty, Q)


def allocation_objective(inst: AllocationInstance, x: Any) -> float:
    """The allocation objective of ``x``: minus its served value plus ``P`` per conflict.

    Computed from the paths directly (not from ``Q``): value by request, conflicts by
    counting the requests per link and the paths per request.
    """
    chosen = [inst.variables[i] for i in range(inst.n_vars) if x[i]]
    value = sum(v[3] for v in chosen)
    conflicts = sum(1 for a, b in itertools.combinations(chosen, 2) if _conflict(a, b))
    return -value + inst.penalty * conflicts


def is_feasible(inst: AllocationInstance, x: Any) -> bool:
    """At most one path per request and at most one request per link."""
    per_request: dict[int, int] = {}
    per_link: dict[int, int] = {}
    for i in range(inst.n_vars):
        if x[i]:
            r, _, ids, _ = inst.variables[i]
            per_request[r] = per_request.get(r, 0) + 1
            for e in ids:
                per_link[e] = per_link.get(e, 0) + 1
    return all(c <= 1 for c in per_request.values()) and all(c <= 1 for c in per_link.values())


def _bits(n: int) -> NDArray[np.int64]:
    """Every bit string, index ``sum_i z_i 2**(n-1-i)`` (PennyLane's wire order)."""
    return (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1


def allocation_energies(inst: AllocationInstance) -> NDArray[np.float64]:
    """``x^T Q x`` for every assignment (brute force, PennyLane's bit order)."""
    z = _bits(inst.n_vars).astype(float)
    return np.asarray(np.einsum("ki,ij,kj->k", z, inst.Q, z), dtype=np.float64)


def _ising(
    inst: AllocationInstance,
) -> tuple[float, NDArray[np.float64], dict[tuple[int, int], float]]:
    """``E = c + sum h_i Z_i + sum J_ij Z_i Z_j`` from ``x_i = (1 - Z_i)/2``."""
    n = inst.n_vars
    c, h, J = 0.0, np.zeros(n), {}
    for i in range(n):
        c += inst.Q[i, i] / 2
        h[i] -= inst.Q[i, i] / 2
        for j in range(i + 1, n):
            q = inst.Q[i, j]
            if q:
                c += q / 4
                h[i] -= q / 4
                h[j] -= q / 4
                J[(i, j)] = q / 4
    return c, h, J


def _hamiltonian(inst: AllocationInstance) -> Any:
    qml = pennylane()
    c, h, J = _ising(inst)
    coeffs = [c, *h.tolist(), *list(J.values())]
    ops = [qml.Identity(0)] + [qml.Z(i) for i in range(inst.n_vars)]
    ops += [qml.Z(i) @ qml.Z(j) for i, j in J]
    return qml.Hamiltonian(coeffs, ops)


def _qaoa_qnode(inst: AllocationInstance, depth: int, measure: str, device_name: str) -> Any:
    """QAOA: cost ``exp(-i gamma H / s)`` as RZ(2 gamma h_i / s), IsingZZ(2 gamma J_ij / s).

    ``s = max |Q|`` puts the useful ``gamma`` near 1 on every instance; mixer RX(2 beta).
    """
    qml = pennylane()
    n = inst.n_vars
    _, h, J = _ising(inst)
    s = float(np.abs(inst.Q).max())
    h, J = h / s, {k: v / s for k, v in J.items()}
    ham = _hamiltonian(inst)
    dev, diff = device(device_name, n)

    def circuit(gammas: Any, betas: Any) -> Any:
        for w in range(n):
            qml.Hadamard(wires=w)
        for layer in range(depth):
            for (i, j), jij in J.items():
                qml.IsingZZ(2 * jij * gammas[layer], wires=[i, j])
            for i in range(n):
                qml.RZ(2 * h[i] * gammas[layer], wires=i)
            for w in range(n):
                qml.RX(2 * betas[layer], wires=w)
        if measure == "probs":
            return qml.probs(wires=range(n))
        return qml.expval(ham)

    return qml.QNode(
        circuit, dev, interface="torch", diff_method=diff if measure == "expval" else None
    )


def qaoa_allocation_probabilities(
    inst: AllocationInstance, gammas: Any, betas: Any, *, device_name: str = "default.qubit"
) -> NDArray[np.float64]:
    """QAOA's output distribution over assignments for fixed angles."""
    th = torch()
    fn = _qaoa_qnode(inst, len(gammas), "probs", device_name)
    with th.no_grad():
        p = fn(th.tensor(np.asarray(gammas, float)), th.tensor(np.asarray(betas, float)))
    return np.asarray(p.numpy(), dtype=np.float64)


def qaoa_allocation_expectation(
    inst: AllocationInstance, gammas: Any, betas: Any, *, device_name: str = "default.qubit"
) -> float:
    """``<E>`` of the QAOA state for fixed angles, measured as PennyLane's ``expval(H)``."""
    th = torch()
    fn = _qaoa_qnode(inst, len(gammas), "expval", device_name)
    with th.no_grad():
        e = fn(th.tensor(np.asarray(gammas, float)), th.tensor(np.asarray(betas, float)))
    return float(e)


def greedy_allocation(inst: AllocationInstance) -> NDArray[np.int64]:
    """Highest-value variable first when feasible, then one-flip descent on ``E``."""
    x = np.zeros(inst.n_vars, dtype=np.int64)
    for i in sorted(range(inst.n_vars), key=lambda k: -inst.variables[k][3]):
        x[i] = 1
        if not is_feasible(inst, x):
            x[i] = 0
    improved = True
    while improved:
        improved = False
        for i in range(inst.n_vars):
            y = x.copy()
            y[i] ^= 1
            if y @ inst.Q @ y < x @ inst.Q @ x - 1e-12:
                x, improved = y, True
    return x


def solve_allocation(
    inst: AllocationInstance,
    *,
    depth: int = 2,
    restarts: int = 3,
    steps: int = 60,
    learning_rate: float = 0.1,
    rng: np.random.Generator,
    device_name: str = "lightning.qubit",
) -> dict[str, Any]:
    """QAOA, its product-state ablation, greedy and the exact optimum on one instance.

    Ratios are served value over the optimum's value: ``expected_energy_ratio`` is
    ``<E>/E_min`` (``E_min < 0``; infeasible strings pull it down), ``best_of_state_ratio``
    the value of the most probable string (0 if infeasible), ``p_optimal`` and
    ``p_feasible`` probabilities of optimal and feasible strings.
    """
    th = torch()
    qml = pennylane()
    if depth < 1 or restarts < 1 or steps < 0:
        raise InputError("depth and restarts must be >= 1 and steps >= 0")
    n = inst.n_vars
    energies = allocation_energies(inst)
    e_min = float(energies.min())
    z = _bits(n)
    feasible = np.array([is_feasible(inst, row) for row in z])
    optimal = np.isclose(energies, e_min)
    out: dict[str, Any] = {
        "n_qubits": n,
        "n_requests": len(inst.requests),
        "optimum_value": -e_min,
        "feasible_strings": int(feasible.sum()),
    }
    t0 = time.process_time()
    expval = _qaoa_qnode(inst, depth, "expval", device_name)
    runs = []
    for _ in range(restarts):
        init = [th.tensor(rng.uniform(0, 1.5, depth)), th.tensor(rng.uniform(0, np.pi / 2, depth))]
        runs.append(adam_minimise(expval, init, steps, learning_rate))
    loss, (g, b) = min(runs, key=lambda r: r[0])
    p = qaoa_allocation_probabilities(inst, g.numpy(), b.numpy(), device_name=device_name)
    top = int(np.argmax(p))
    out["qaoa"] = {
        "depth": depth,
        "expected_energy_ratio": loss / e_min,
        "best_of_state_ratio": float(-energies[top] / -e_min) if feasible[top] else 0.0,
        "p_optimal": float(p[optimal].sum()),
        "p_feasible": float(p[feasible].sum()),
        "cpu_s": time.process_time() - t0,
        "n_params": 2 * depth,
    }
    t0 = time.process_time()
    ham = _hamiltonian(inst)
    dev, diff = device(device_name, n)

    def product(weights: Any) -> Any:
        product_ansatz(weights, n_qubits=n, entangling=False)
        return qml.expval(ham)

    prod = qml.QNode(product, dev, interface="torch", diff_method=diff)
    runs = []
    for _ in range(restarts):
        runs.append(adam_minimise(prod, [th.tensor(rng.uniform(0, np.pi, (1, n, 2)))], steps, 0.1))
    loss, _ = min(runs, key=lambda r: r[0])
    out["product_ansatz"] = {
        "expected_energy_ratio": loss / e_min,
        "cpu_s": time.process_time() - t0,
        "n_params": 2 * n,
    }
    t0 = time.process_time()
    x = greedy_allocation(inst)
    out["greedy"] = {
        "ratio": -allocation_objective(inst, x) / -e_min,
        "feasible": is_feasible(inst, x),
        "cpu_s": time.process_time() - t0,
    }
    out["uniform_energy_ratio"] = float(energies.mean() / e_min)
    return out
