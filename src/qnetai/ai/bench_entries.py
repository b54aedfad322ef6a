"""Leaderboard entries of :mod:`qnetai.ai` for ``qnetai bench all``: faults and purification.

Each entry's ``run(quick, methods)`` returns comparisons in the format of
:mod:`qnetai.sweep.suite` (the learned or searched method beside its strongest classical
counterpart on the same instances and seeds). ``quick`` profiles take seconds.

Example:
    >>> [e.name for e in ENTRIES]
    ['faults', 'purification']
"""

from __future__ import annotations

from typing import Any

from qnetai.bench_entry import BenchEntry as Entry


def _side(method: str, value: float, ci: Any, time_ms: float | None = None) -> dict[str, Any]:
    return {
        "method": method,
        "value": float(value),
        "ci": None if ci is None else [float(ci[0]), float(ci[1])],
        "time_ms": time_ms,
    }


def run_faults(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Fault forecasting: learned forecaster vs tuned static thresholds, per fault.

    Precision and recall with 95 % Wilson intervals (episodes as independent trials).
    Episodes: quick 40 training (+ 20 tuning) / 40 test; full 400 training (+ 200 tuning) /
    400 test, fewer than ``qnetai bench faults``'s defaults (1000 training, 500 tuning, 600
    test, the figures in ``benchmarks/README.md``) to keep ``qnetai bench all`` short, so its
    intervals are wider and its point estimates differ from that table's.
    """
    from qnetai.ai.security.faults import bench_faults

    train, test = (40, 40) if quick else (400, 400)
    res = bench_faults(seed=0, train_episodes=train, test_episodes=test)
    by = {(r["method"], r["fault"]): r for r in res["rows"]}
    names = sorted({r["method"] for r in res["rows"]})
    learned_name = next(m for m in names if m.startswith("learned"))
    base_name = next(m for m in names if m != learned_name)
    out = []
    for fault in sorted({r["fault"] for r in res["rows"]}):
        a, b = by[(learned_name, fault)], by[(base_name, fault)]
        for metric in ("precision", "recall"):
            out.append(
                {
                    "instance": f"{fault} at severity {a['severity']}, {test} test episodes, "
                    "seed 0",
                    "metric": metric,
                    "higher_is_better": True,
                    "ai": _side(learned_name, a[metric], a[f"{metric}_ci95"]),
                    "baseline": _side(base_name, b[metric], b[f"{metric}_ci95"]),
                    "note": f"F1 {a['f1']:.3f} vs {b['f1']:.3f}; median lead "
                    f"{a['median_lead_s']:.3g} s vs {b['median_lead_s']:.3g} s",
                }
            )
    return out


def run_purification(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Purification circuits: genetic search vs DEJMPS pumping at the same yield per pair.

    Exact density-matrix figures (no sampling, so no intervals): the fidelity of the best
    circuit the search found whose yield per raw pair is at least DEJMPS's.
    """
    import time

    import numpy as np

    from qnetai.ai.purification_search import SearchProblem, optimise_purification
    from qnetai.physics.purification_circuits import NoiseModel

    pop, gens = (30, 20) if quick else (60, 60)
    out = []
    for pairs, fid in ((3, 0.8),) if quick else ((3, 0.8), (4, 0.85)):
        problem = SearchProblem(pairs=pairs, fidelity=fid, noise=NoiseModel(0.99, 0.99))
        t0 = time.process_time()
        rep: Any = optimise_purification(
            problem,
            np.random.default_rng(0),
            methods=("genetic",),
            population=pop,
            generations=gens,
        )
        cpu_ms = 1e3 * (time.process_time() - t0)
        row = next(r for r in rep["comparison"] if r["baseline"] == "dejmps-pumping")
        ga = row["genetic_fidelity"]
        out.append(
            {
                "instance": f"{pairs} Werner pairs F={fid}, gate/measurement fidelity 0.99, seed 0",
                "metric": "fidelity at >= DEJMPS yield",
                "higher_is_better": True,
                "ai": _side("genetic", ga if ga is not None else 0.0, None, cpu_ms),
                "baseline": _side("dejmps-pumping", row["baseline_fidelity"], None),
                "note": f"exact simulation; GA population {pop} x {gens} generations "
                "(time_ms: whole search, CPU)"
                + ("; GA found no circuit at that yield" if ga is None else ""),
            }
        )
    return out


ENTRIES: tuple[Entry, ...] = (
    Entry("faults", run_faults, "fault forecasting: learned vs tuned static thresholds", "1"),
    Entry("purification", run_purification, "purification circuit search vs DEJMPS", "1"),
)

__all__ = ["ENTRIES", "Entry", "run_faults", "run_purification"]
