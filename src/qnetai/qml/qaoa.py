"""QAOA and a no-entanglement variational baseline for max-cut on the project's topologies.

The graph is a Waxman or grid topology from :mod:`qnetai.topology` (nodes relabelled
``0..n-1``). The cut of bit string ``z`` is the number of edges whose ends differ; the cost
Hamiltonian is PennyLane's ``qml.qaoa.maxcut`` (``sum_(ij) (Z_i Z_j - 1)/2 = -cut``).
Beside QAOA of depth ``p``: the exact optimum by enumeration (:func:`cut_values`), a product-
state variational ansatz (the "no entanglement" ablation, which can represent every cut), and
networkx's one-exchange local search (a classical heuristic). No SDP solver is installed, so
Goemans-Williamson is not offered.

Example:
    >>> g = maxcut_graph("grid", 4)
    >>> int(cut_values(g).max()), g.number_of_edges()
    (4, 4)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qml._backend import check_qubits, device, pennylane, torch
from qnetai.qml.circuits import product_ansatz

__all__ = [
    "GRAPH_KINDS",
    "cut_values",
    "local_search_cut",
    "maxcut_graph",
    "qaoa_expected_cut",
    "qaoa_probabilities",
    "solve_maxcut",
]

#: Topologies :func:`maxcut_graph` builds.
GRAPH_KINDS = ("waxman", "grid")


def maxcut_graph(kind: str, n_nodes: int, *, seed: int = 0) -> Any:
    """An unweighted ``networkx.Graph`` on nodes ``0..n-1`` from a topology builder."""
    import networkx as nx

    from qnetai.topology import grid, waxman

    if kind not in GRAPH_KINDS:
        raise InputError(f"graph kind must be one of {GRAPH_KINDS} (got {kind!r})")
    check_qubits(n_nodes, name="n_nodes")
    if n_nodes < 2:
        raise InputError(f"n_nodes must be >= 2 (got {n_nodes})")
    nodes, links = waxman(n_nodes, rng=seed) if kind == "waxman" else grid(n_nodes)
    index = {node.name: i for i, node in enumerate(nodes)}
    g: Any = nx.Graph()
    g.add_nodes_from(range(n_nodes))
    g.add_edges_from((index[a], index[b]) for a, b in (link.endpoints for link in links))
    return g


def cut_values(graph: Any) -> NDArray[np.int64]:
    """The cut of every bit string (index ``sum_i z_i 2**(n-1-i)``): brute force."""
    n = graph.number_of_nodes()
    z = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
    return np.asarray((z[:, edges[:, 0]] != z[:, edges[:, 1]]).sum(axis=1), dtype=np.int64)


def _qaoa_circuit(
    graph: Any, depth: int, measure: str, device_name: str, *, templates: bool = False
) -> Any:
    """QAOA QNode.

    Cost layer ``exp(-i gamma H_cost)`` = IsingZZ(gamma) per edge (up to a
    global phase), mixer ``exp(-i beta sum X)`` = RX(2 beta) per qubit; ``templates=True``
    uses PennyLane's ``qaoa.cost_layer`` / ``mixer_layer`` instead (slow under backprop; kept
    as an independent check).
    """
    qml = pennylane()
    n = graph.number_of_nodes()
    cost_h, mixer_h = qml.qaoa.maxcut(graph)
    dev, diff = device(device_name, n)
    edges = list(graph.edges())

    def circuit(gammas: Any, betas: Any) -> Any:
        for w in range(n):
            qml.Hadamard(wires=w)
        for layer in range(depth):
            if templates:
                qml.qaoa.cost_layer(gammas[layer], cost_h)
                qml.qaoa.mixer_layer(betas[layer], mixer_h)
                continue
            for i, j in edges:
                qml.IsingZZ(gammas[layer], wires=[i, j])
            for w in range(n):
                qml.RX(2 * betas[layer], wires=w)
        if measure == "probs":
            return qml.probs(wires=range(n))
        return qml.expval(cost_h)

    # probabilities are never differentiated here (adjoint supports expectation values only)
    return qml.QNode(
        circuit, dev, interface="torch", diff_method=diff if measure == "expval" else None
    )


def qaoa_probabilities(
    graph: Any,
    gammas: Any,
    betas: Any,
    *,
    device_name: str = "default.qubit",
    templates: bool = False,
) -> NDArray[np.float64]:
    """The output distribution of QAOA with the given angles."""
    th = torch()
    fn = _qaoa_circuit(graph, len(gammas), "probs", device_name, templates=templates)
    with th.no_grad():
        p = fn(th.tensor(np.asarray(gammas, float)), th.tensor(np.asarray(betas, float)))
    return np.asarray(p.numpy(), dtype=np.float64)


def qaoa_expected_cut(
    graph: Any,
    gammas: Any,
    betas: Any,
    *,
    device_name: str = "default.qubit",
    templates: bool = False,
) -> float:
    """``<cut>`` of the QAOA state with the given angles: ``-<H_cost>`` measured by PennyLane."""
    th = torch()
    fn = _qaoa_circuit(graph, len(gammas), "expval", device_name, templates=templates)
    with th.no_grad():
        e = fn(th.tensor(np.asarray(gammas, float)), th.tensor(np.asarray(betas, float)))
    return -float(e)


def local_search_cut(graph: Any, *, seed: int) -> int:
    """Networkx's one-exchange local search (from a random partition drawn with ``seed``)."""
    from networkx.algorithms.approximation import one_exchange

    value, _ = one_exchange(graph, seed=seed)
    return int(value)


def adam_minimise(loss_fn: Any, init: list[Any], steps: int, lr: float) -> tuple[float, list[Any]]:
    """Minimise ``loss_fn(*params)`` with Adam from ``init``; the final loss and parameters."""
    th = torch()
    params = [p.clone().requires_grad_(True) for p in init]
    opt = th.optim.Adam(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        opt.step()
    with th.no_grad():
        return float(loss_fn(*params)), [p.detach() for p in params]


def solve_maxcut(
    graph: Any,
    *,
    depth: int = 2,
    restarts: int = 3,
    steps: int = 100,
    learning_rate: float = 0.05,
    rng: np.random.Generator,
    device_name: str = "lightning.qubit",
) -> dict[str, Any]:
    """QAOA, the product-state ablation, local search and the exact optimum on one graph.

    Ratios are to the exact maximum cut: ``expected`` is ``<cut>/max``, ``best_of_state``
    the cut of the most probable string over ``max``, ``p_optimal`` the probability of an
    optimal string. ``lightning.qubit`` with adjoint gradients is the default (about 6x
    faster than ``default.qubit`` with backprop here).
    """
    th = torch()
    qml = pennylane()
    if depth < 1 or restarts < 1 or steps < 0:
        raise InputError("depth and restarts must be >= 1 and steps >= 0")
    n = graph.number_of_nodes()
    cuts = cut_values(graph)
    best = int(cuts.max())
    optimal = cuts == best
    out: dict[str, Any] = {"n_nodes": n, "n_edges": graph.number_of_edges(), "max_cut": best}

    t0 = time.process_time()
    expval = _qaoa_circuit(graph, depth, "expval", device_name)
    runs = []
    for _ in range(restarts):
        init = [th.tensor(rng.uniform(0, np.pi, depth)), th.tensor(rng.uniform(0, np.pi, depth))]
        runs.append(adam_minimise(expval, init, steps, learning_rate))
    loss, (g, b) = min(runs, key=lambda r: r[0])
    p = qaoa_probabilities(graph, g.numpy(), b.numpy(), device_name=device_name)
    out["qaoa"] = {
        "depth": depth,
        "expected_ratio": -loss / best,
        "best_of_state_ratio": float(cuts[int(np.argmax(p))] / best),
        "p_optimal": float(p[optimal].sum()),
        "gammas": g.tolist(),
        "betas": b.tolist(),
        "cpu_s": time.process_time() - t0,
        "n_params": 2 * depth,
    }

    t0 = time.process_time()
    cost_h, _ = qml.qaoa.maxcut(graph)
    dev, diff = device(device_name, n)

    def product(weights: Any) -> Any:
        product_ansatz(weights, n_qubits=n, entangling=False)
        return qml.expval(cost_h)

    prod = qml.QNode(product, dev, interface="torch", diff_method=diff)
    runs = []
    for _ in range(restarts):
        init = [th.tensor(rng.uniform(0, np.pi, (1, n, 2)))]
        runs.append(adam_minimise(prod, init, steps, learning_rate))
    loss, _ = min(runs, key=lambda r: r[0])
    out["product_ansatz"] = {
        "expected_ratio": -loss / best,
        "cpu_s": time.process_time() - t0,
        "n_params": 2 * n,
    }
    t0 = time.process_time()
    seeds = rng.integers(2**31, size=restarts)
    ls = max(local_search_cut(graph, seed=int(s)) for s in seeds)
    out["local_search"] = {"ratio": ls / best, "cpu_s": time.process_time() - t0}
    out["random_cut_ratio"] = graph.number_of_edges() / 2 / best
    return out
