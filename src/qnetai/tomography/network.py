"""Network tomography: per-link Werner parameters from end-to-end path measurements.

Pairs delivered over a path of links with ideal swaps are Werner states whose parameter is
the product of the links' (:func:`qnetai.physics.operations.swap`: ``w = w1 w2``), so
``log W_path = A log w`` with ``A`` the path-link incidence matrix. Monitors (the network's
non-repeater nodes) measure each path's pairs in the settings XX, YY, ZZ (the Bell pair's
direct fidelity estimation), ``shots`` each: ``k`` of ``3 shots`` outcomes agree with
``Phi+``, ``k ~ Binomial(3 shots, (1 + W)/2)``, and ``F = (1 + 3 W)/4``.

Estimators of the links (see arXiv 2206.02920 and 2405.11396 for the problem):

* ``lsq``: weighted least squares on ``log W_hat`` (delta-method weights), ``log w <= 0``;
* ``ml``: the binomial maximum likelihood over ``log w <= 0`` (L-BFGS-B from ``lsq``);
* ``learned``: a scikit-learn MLP from the path estimates to the link parameters, trained on
  simulated instances of the same prior on the same paths.

:func:`identifiability` says which links the chosen paths cannot separate (rank of ``A`` and
its null space); fault localisation picks the link of lowest estimated ``w``.

Example:
    >>> prob = network_tomography_problem("metro-6g")
    >>> prob.matrix.shape[1] == len(prob.links)
    True
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from qnetai._optional import require
from qnetai.errors import InputError

#: Estimators of :func:`bench_network_tomography`, in table order.
NETWORK_ESTIMATORS = ("lsq", "ml", "learned")
_W_FLOOR = 1e-3
#: Most paths one problem may measure (bounds time and the path-link matrix).
MAX_PATHS = 20_000


@dataclass(frozen=True)
class NetworkTomography:
    """Links, measured paths (node names) and the path-link matrix ``(paths, links)``."""

    links: tuple[str, ...]
    paths: tuple[tuple[str, ...], ...]
    matrix: NDArray[np.float64]

    def path_werner(self, link_w: NDArray[np.float64]) -> NDArray[np.float64]:
        """Werner parameter of every path: ``prod_l w_l**A[p, l]``, batched over rows."""
        w = np.clip(np.asarray(link_w, dtype=np.float64), 1e-300, None)
        return np.asarray(np.exp(np.log(w) @ self.matrix.T), dtype=np.float64)


def network_tomography_problem(
    scenario: Any,
    *,
    monitors: Sequence[str] | None = None,
    paths_per_pair: int = 3,
) -> NetworkTomography:
    """Paths between monitor pairs (up to ``paths_per_pair`` shortest simple paths each).

    ``scenario``: a built-in name, a scenario file, a ``Scenario`` or a ``networkx`` graph with
    an edge attribute ``name``. Monitors default to every node whose ``kind`` is not
    ``repeater`` (all nodes if the graph has no kinds).
    """
    graph = _graph(scenario)
    if monitors is None:
        kinds = nx.get_node_attributes(graph, "kind")
        monitors = [v for v in graph.nodes if kinds.get(v, "end") != "repeater"]
    monitors = list(monitors)
    for m in monitors:
        if m not in graph:
            raise InputError(f"monitor {m!r} is not a node of the network")
    if len(monitors) < 2:
        raise InputError("network tomography needs at least two monitor nodes")
    if not 1 <= paths_per_pair <= 20:
        raise InputError(f"paths_per_pair must be in [1, 20] (got {paths_per_pair})")
    n_pairs = len(monitors) * (len(monitors) - 1) // 2
    if n_pairs * paths_per_pair > MAX_PATHS:
        raise InputError(
            f"{len(monitors)} monitors x {paths_per_pair} paths per pair would measure "
            f"{n_pairs * paths_per_pair} paths (limit {MAX_PATHS}): pass fewer monitors"
        )
    links = tuple(sorted(str(d.get("name", f"{a}-{b}")) for a, b, d in graph.edges(data=True)))
    col = {name: i for i, name in enumerate(links)}
    paths: list[tuple[str, ...]] = []
    rows: list[NDArray[np.float64]] = []
    for a, b in itertools.combinations(monitors, 2):
        if not nx.has_path(graph, a, b):
            continue
        for path in itertools.islice(nx.shortest_simple_paths(graph, a, b), paths_per_pair):
            row = np.zeros(len(links))
            for u, v in itertools.pairwise(path):
                d = graph.edges[u, v]
                row[col[str(d.get("name", f"{u}-{v}"))]] = 1.0
            paths.append(tuple(str(x) for x in path))
            rows.append(row)
    if not rows:
        raise InputError("no path joins two monitors")
    return NetworkTomography(links, tuple(paths), np.array(rows))


def _graph(scenario: Any) -> nx.Graph:
    if isinstance(scenario, nx.Graph):
        return scenario
    from qnetai.config import load_scenario
    from qnetai.config.models import Scenario
    from qnetai.topology.resolve import to_graph

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(str(scenario))
    return to_graph(sc)


def identifiability(problem: NetworkTomography, *, tol: float = 1e-9) -> dict[str, Any]:
    """Rank of the path-link matrix and the links it cannot separate.

    A link is identifiable when its unit vector lies in the row space of ``A`` (its null-space
    component is zero); ``groups`` lists sets of links that every path uses together.

    Example:
        >>> prob = NetworkTomography(("a", "b"), (("x", "y", "z"),), np.array([[1.0, 1.0]]))
        >>> identifiability(prob)["unidentifiable"]
        ['a', 'b']
    """
    a = problem.matrix
    _, s, vt = np.linalg.svd(a, full_matrices=True)
    rank = int(np.sum(s > tol * max(1.0, float(s.max(initial=0.0)))))
    null = vt[rank:].T  # (links, nullity)
    bad = [problem.links[i] for i in range(a.shape[1]) if np.linalg.norm(null[i]) > 1e-6]
    groups: dict[tuple[float, ...], list[str]] = {}
    for i, name in enumerate(problem.links):
        groups.setdefault(tuple(a[:, i]), []).append(name)
    return {
        "rank": rank,
        "n_links": a.shape[1],
        "n_paths": a.shape[0],
        "unidentifiable": bad,
        "together": [g for g in groups.values() if len(g) > 1],
        "unmeasured": [problem.links[i] for i in range(a.shape[1]) if not a[:, i].any()],
    }


def measure_paths(
    problem: NetworkTomography,
    link_w: NDArray[np.float64],
    *,
    shots: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Agreeing outcomes ``k`` per path (``3 shots`` trials each: XX, YY, ZZ settings)."""
    w_path = problem.path_werner(link_w)
    return rng.binomial(3 * shots, np.clip((1.0 + w_path) / 2.0, 0.0, 1.0)).astype(np.int64)


def path_estimates(k: NDArray[np.int64], shots: int) -> NDArray[np.float64]:
    """Unbiased path Werner parameters ``2 k / (3 shots) - 1``."""
    return np.asarray(2.0 * k / (3.0 * shots) - 1.0, dtype=np.float64)


def estimate_links(
    problem: NetworkTomography,
    k: NDArray[np.int64],
    shots: int,
    *,
    method: str = "ml",
) -> NDArray[np.float64]:
    """Link Werner parameters from path counts ``k`` by ``lsq`` or ``ml``.

    Example:
        >>> prob = NetworkTomography(("a", "b"), (("x", "y"), ("y", "z"), ("x", "y", "z")),
        ...                          np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        >>> k = np.round(3000 * (1 + prob.path_werner(np.array([0.9, 0.8]))) / 2)
        >>> np.round(estimate_links(prob, k.astype(int), 1000), 3).tolist()
        [0.9, 0.8]
    """
    optimize = require("scipy.optimize", extra="core", package="scipy")
    a = problem.matrix
    n = 3.0 * shots
    w_hat = np.clip(path_estimates(k, shots), _W_FLOOR, 1.0)
    var = np.maximum(1.0 - w_hat**2, 1.0 / n) / n / w_hat**2
    sw = 1.0 / np.sqrt(var)
    res = optimize.lsq_linear(a * sw[:, None], np.log(w_hat) * sw, bounds=(-np.inf, 0.0))
    x0 = np.clip(res.x, math.log(_W_FLOOR), 0.0)
    if method == "lsq":
        return np.asarray(np.exp(x0), dtype=np.float64)
    if method != "ml":
        raise InputError(f"method must be lsq or ml (got {method!r})")
    kk = np.asarray(k, dtype=np.float64)

    def nll(x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w = np.exp(a @ x)
        p = np.clip((1.0 + w) / 2.0, 1e-12, 1.0 - 1e-12)
        val = -float(np.sum(kk * np.log(p) + (n - kk) * np.log(1.0 - p)))
        dp = -(kk / p - (n - kk) / (1.0 - p)) * 0.5 * w
        return val, a.T @ dp

    out = optimize.minimize(
        nll,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(math.log(_W_FLOOR), 0.0)] * a.shape[1],
    )
    return np.asarray(np.exp(out.x), dtype=np.float64)


def sample_links(
    count: int,
    n_links: int,
    rng: np.random.Generator,
    *,
    healthy: tuple[float, float] = (0.9, 0.995),
    degraded: tuple[float, float] = (0.6, 0.85),
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """``count`` link states ``(count, n_links)``: healthy uniform, one degraded link each."""
    w = rng.uniform(*healthy, size=(count, n_links))
    bad = rng.integers(0, n_links, size=count)
    w[np.arange(count), bad] = rng.uniform(*degraded, size=count)
    return w, bad


def train_learned_estimator(
    problem: NetworkTomography,
    *,
    shots: int,
    rng: np.random.Generator,
    n_train: int = 3000,
) -> Any:
    """A scikit-learn MLP from path estimates to link parameters, on simulated instances."""
    neural = require("sklearn.neural_network", extra="ai", package="scikit-learn")
    w, _ = sample_links(n_train, len(problem.links), rng)
    k = rng.binomial(3 * shots, (1.0 + problem.path_werner(w)) / 2.0)
    x = path_estimates(k, shots)
    model = neural.MLPRegressor(
        hidden_layer_sizes=(64,),
        max_iter=200,
        early_stopping=True,
        random_state=int(rng.integers(2**31)),
    )
    with warnings.catch_warnings():  # a capped max_iter is the stated budget, not a fault
        warnings.simplefilter("ignore", category=UserWarning)
        return model.fit(x, w)


def bench_network_tomography(
    scenario: Any = "metro-6g",
    *,
    shots: int = 2000,
    trials: int = 20,
    seed: int = 0,
    n_train: int = 3000,
    paths_per_pair: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Errors of each link estimator against the truth and fault-localisation accuracy.

    Each trial draws healthy links (``w`` in [0.9, 0.995]) with one degraded link
    (``w`` in [0.6, 0.85]), measures every path with ``shots`` shots per setting and
    estimates the links. ``rmse_w`` is over identifiable links (95 % CI over trials);
    ``fault_top1`` counts the lowest estimated link being the degraded one, ``fault_group``
    accepts any link the paths cannot separate from it.
    """
    if not 1 <= trials <= 10_000 or not 1 <= shots <= 10**9:
        raise InputError("trials must be in [1, 10000] and shots in [1, 1e9]")
    problem = network_tomography_problem(scenario, paths_per_pair=paths_per_pair)
    ident = identifiability(problem)
    ok = np.array([name not in ident["unidentifiable"] for name in problem.links])
    cols = {name: tuple(problem.matrix[:, i]) for i, name in enumerate(problem.links)}
    rng = np.random.default_rng([seed, 11])
    t0 = time.process_time()
    learned = train_learned_estimator(
        problem, shots=shots, rng=np.random.default_rng([seed, 12]), n_train=n_train
    )
    train_cpu_s = time.process_time() - t0
    truth, bad = sample_links(trials, len(problem.links), rng)
    errors: dict[str, list[float]] = {m: [] for m in NETWORK_ESTIMATORS}
    hits: dict[str, int] = dict.fromkeys(NETWORK_ESTIMATORS, 0)
    group_hits: dict[str, int] = dict.fromkeys(NETWORK_ESTIMATORS, 0)
    cpu: dict[str, float] = dict.fromkeys(NETWORK_ESTIMATORS, 0.0)
    for t in range(trials):
        k = measure_paths(problem, truth[t], shots=shots, rng=rng)
        for m in NETWORK_ESTIMATORS:
            c0 = time.process_time()
            if m == "learned":
                est = np.clip(learned.predict(path_estimates(k, shots)[None])[0], 0.0, 1.0)
            else:
                est = estimate_links(problem, k, shots, method=m)
            cpu[m] += time.process_time() - c0
            if ok.any():
                errors[m].append(float(np.sqrt(np.mean((est[ok] - truth[t][ok]) ** 2))))
            guess = int(np.argmin(est))
            hits[m] += int(guess == bad[t])
            group_hits[m] += int(cols[problem.links[guess]] == cols[problem.links[bad[t]]])
        if progress is not None:
            progress(t + 1, trials)
    rows = []
    for m in NETWORK_ESTIMATORS:
        v = np.array(errors[m]) if errors[m] else np.array([math.nan])
        half = 1.96 * float(v.std(ddof=1)) / math.sqrt(v.size) if v.size > 1 else math.nan
        rows.append(
            {
                "estimator": m,
                "rmse_w": float(v.mean()),
                "rmse_w_ci_low": float(v.mean()) - half,
                "rmse_w_ci_high": float(v.mean()) + half,
                "fault_top1": hits[m] / trials,
                "fault_group": group_hits[m] / trials,
                "cpu_s_per_estimate": cpu[m] / trials,
            }
        )
    return {
        "scenario": str(getattr(scenario, "name", scenario)),
        "n_links": len(problem.links),
        "n_paths": len(problem.paths),
        "shots_per_setting": shots,
        "trials": trials,
        "seed": seed,
        "identifiability": ident,
        "learned_train_cpu_s": round(train_cpu_s, 2),
        "rows": rows,
    }
