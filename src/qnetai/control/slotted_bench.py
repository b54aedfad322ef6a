"""Benchmark slot policies on the same Q-CAST instances, seeds and link outcomes.

For every seed a network is built (Waxman: the seed is the topology seed; a scenario
topology is the same for all seeds) and ``slots`` slots of ``requests`` requests are drawn.
Every method allocates every slot; the slot is then sampled with the same random numbers for
all methods (common random numbers). Per method:

- ``throughput``: delivered end-to-end pairs per slot (Monte Carlo of link generation and
  swapping; no fidelity model in the slotted model, so every pair counts), mean over the
  ``slots x seeds`` samples with a 95% t-interval (``mean +- t_{0.975, n-1} s / sqrt(n)``);
- ``expected_throughput``: the allocation's total EXT (same interval);
- ``fairness``: Jain's index of the expected pairs of the requests, averaged over slots;
- ``decision_time_ms``: the policy's wall time per slot (and per decision for learned ones);
- ``gap_to_milp``: ``1 - EXT / MILP optimum`` averaged over slots, where the MILP optimum
  is over its candidate set (``k`` best paths per request plus q-cast's paths);
- ``gap_to_union_optimum``: the same against the MILP optimum over that set plus every path
  any benchmarked method chose in the slot (a method whose paths lie outside the MILP's set,
  such as ``ls-rl`` warm-started from the learned policy, can have a negative ``gap_to_milp``
  but never a negative gap to the union optimum, up to the solver's tolerance).

:func:`run_benchmark` takes the policies as objects (``policies={label: SlotPolicy}``); names
are resolved one layer up (:func:`qnetai.plugins.bench_routing` resolves built-ins, learned
``rl:`` models, the user's own policies, import paths and entry points). Without
``policies`` only built-in names are accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from qnetai.control.milp import MilpPolicy, qcast_candidates, solve_milp
from qnetai.control.slotted import (
    SlottedNetwork,
    expected_pairs,
    is_feasible,
    jain_index,
    sample_requests,
    scenario_network,
    simulate_slot,
    waxman_network,
)
from qnetai.control.slotted_policies import SlotPolicy, builtin_slot_policy
from qnetai.errors import InputError

DEFAULT_METHODS: tuple[str, ...] = (
    "shortest-path",
    "widest-path",
    "q-cast",
    "sa",
    "de",
    "ls",
    "milp",
    "rl:waxman-routing",
)


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its t-interval (``level``); a single sample has width 0."""
    x = np.asarray(x, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def bench_network(topology: str, nodes: int, seed: int) -> SlottedNetwork:
    """The benchmark's network for ``seed``."""
    if topology == "waxman":
        return waxman_network(nodes, seed=seed)
    return scenario_network(topology)


def run_benchmark(
    *,
    topology: str = "waxman",
    nodes: int = 50,
    requests: int = 10,
    slots: int = 200,
    seeds: Sequence[int] = (0, 1, 2),
    methods: Sequence[str] = DEFAULT_METHODS,
    milp_reference: bool = True,
    progress: Callable[[int, int], None] | None = None,
    policies: Mapping[str, SlotPolicy] | None = None,
) -> dict[str, Any]:
    """Run every method on the same slots; returns ``{"config": ..., "rows": [...]}``.

    ``policies`` maps each label of ``methods`` to its policy object (built by
    :func:`qnetai.plugins.slot_policy`); without it every method must be a built-in name.
    """
    if slots < 1:
        raise InputError(f"slots must be >= 1 (got {slots})")
    if not seeds:
        raise InputError("seeds must list at least one seed")
    if not methods:
        raise InputError("methods must list at least one method")
    if policies is None:
        policies = {m: builtin_slot_policy(m) for m in methods}
    missing = [m for m in methods if m not in policies]
    if missing:
        raise InputError(f"policies has no policy for method(s) {', '.join(missing)}")
    policies = {m: policies[m] for m in methods}
    milp = policies.get("milp") or (builtin_slot_policy("milp") if milp_reference else None)
    if milp is not None and not isinstance(milp, MilpPolicy):
        raise InputError(
            f"method 'milp' must be a MilpPolicy (the MILP reference solves slots with it; "
            f"got {type(milp).__name__})"
        )
    per: dict[str, dict[str, list[float]]] = {
        m: {"thr": [], "ext": [], "jain": [], "time": [], "step": [], "gap": [], "gap_u": []}
        for m in methods
    }
    total = len(seeds) * slots
    done = 0
    for seed in seeds:
        net = bench_network(topology, nodes, int(seed))
        rng = np.random.default_rng([int(seed), 17])
        for t in range(slots):
            reqs = sample_requests(net, requests, rng)
            opt = None
            if milp is not None:
                sol = milp.solve(net, reqs)
                opt = sol.objective
            allocs = {}
            for m, pol in policies.items():
                alloc = (
                    sol.allocation
                    if (m == "milp" and opt is not None)
                    else pol.allocate(net, reqs, rng=np.random.default_rng([int(seed), t, 3]))
                )
                if not is_feasible(net, alloc):
                    raise RuntimeError(f"method {m} returned an infeasible allocation")
                allocs[m] = alloc
            opt_union = None
            if milp is not None:
                extra = qcast_candidates(net, reqs) + [
                    (int(r), p)
                    for a in allocs.values()
                    for r, p in zip(a.request.tolist(), a.paths, strict=True)
                ]
                opt_union = solve_milp(
                    net,
                    reqs,
                    k=getattr(milp, "k", 4),
                    time_limit_s=getattr(milp, "time_limit_s", 10.0),
                    extra=extra,
                ).objective
            for m, pol in policies.items():
                alloc = allocs[m]
                ext = expected_pairs(net, alloc)
                pairs = simulate_slot(net, alloc, np.random.default_rng([int(seed), t, 5]))
                per_req = np.zeros(len(reqs))
                np.add.at(per_req, alloc.request, ext)
                rec = per[m]
                rec["thr"].append(float(pairs.sum()))
                rec["ext"].append(float(ext.sum()))
                rec["jain"].append(float(jain_index(per_req)))
                rec["time"].append(alloc.decision_time_s * 1e3)
                steps = getattr(pol, "last_steps", 0)
                if steps:
                    rec["step"].append(alloc.decision_time_s * 1e3 / steps)
                if opt is not None and opt > 0:
                    rec["gap"].append(1.0 - float(ext.sum()) / opt)
                if opt_union is not None and opt_union > 0:
                    rec["gap_u"].append(1.0 - float(ext.sum()) / opt_union)
            done += 1
            if progress is not None:
                progress(done, total)
    rows = []
    for m in methods:
        rec = per[m]
        thr = mean_ci(np.array(rec["thr"]))
        ext_ci = mean_ci(np.array(rec["ext"]))
        rows.append(
            {
                "method": m,
                "throughput": thr[0],
                "throughput_ci_low": thr[1],
                "throughput_ci_high": thr[2],
                "expected_throughput": ext_ci[0],
                "expected_ci_low": ext_ci[1],
                "expected_ci_high": ext_ci[2],
                "fairness": float(np.mean(rec["jain"])),
                "decision_time_ms": float(np.mean(rec["time"])),
                "decision_time_ms_per_step": float(np.mean(rec["step"])) if rec["step"] else None,
                "gap_to_milp": float(np.mean(rec["gap"])) if rec["gap"] else None,
                "gap_to_union_optimum": float(np.mean(rec["gap_u"])) if rec["gap_u"] else None,
                "samples": len(rec["thr"]),
            }
        )
    return {
        "config": {
            "topology": topology,
            "nodes": nodes,
            "requests": requests,
            "slots": slots,
            "seeds": list(seeds),
            "methods": list(methods),
            "ci": "95% t-interval over slots x seeds",
            "gap": "1 - EXT/MILP optimum over the MILP candidate set (k=4 + q-cast paths)",
            "gap_union": "1 - EXT/MILP optimum over that set plus every benchmarked "
            "method's paths of the slot",
        },
        "rows": rows,
    }
