"""What feeding routing estimates instead of truth costs (issue 14 section 3).

A 4x4 grid of 10 km fibre links whose emitted-state fidelities (``raw_fidelity``) are drawn
once, uniformly in [0.85, 0.999] (seeded); the four corners request pairs of each other
(``min_fidelity`` 0.7: pairs below are discarded; memories ``t_coh_s`` 10 s). Every arm
runs the same seeds with the same ``verification.fraction`` (5 % of delivered pairs
measured), so only the routing
information differs:

- ``shortest-path`` (reads no fidelities; the classical baseline that ignores quality),
- ``max-fidelity`` fed the truth (the engine's heralded link fidelities),
- ``max-fidelity`` fed estimates from ``calibration_pairs`` in {10, 100, 1000} pairs per link.

Prints one JSON document: per arm the mean over seeds and 95 % t-interval of pairs given to
the application, the true mean delivered fidelity, the pairs discarded below
``min_fidelity`` and the verified-fidelity estimate's coverage, plus the paired difference
(estimates - truth, same seeds) of pairs and fidelity. Time budget: about 1-2 CPU minutes.

    .venv/bin/python benchmarks/bench_verification.py --seeds 10
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from typing import Any

import numpy as np
from scipy import stats

import qnetai
from qnetai.config.models import Scenario


def grid_scenario(
    layout_seed: int, *, side: int = 4, low: float = 0.85, high: float = 0.999, fmin: float = 0.7
) -> dict[str, Any]:
    """The benchmark network as a scenario dict (explicit nodes and links)."""
    rng = np.random.default_rng(layout_seed)
    name = [[f"n{r}{c}" for c in range(side)] for r in range(side)]
    corners = {name[0][0], name[0][-1], name[-1][0], name[-1][-1]}
    nodes = [
        {
            "name": n,
            "kind": "end_user" if n in corners else "repeater",
            "memory_qubits": 8,
            "memory": {"t_coh_s": 10.0},
        }
        for row in name
        for n in row
    ]
    links = []
    for r in range(side):
        for c in range(side):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < side and c + dc < side:
                    links.append(
                        {
                            "endpoints": [name[r][c], name[r + dr][c + dc]],
                            "length_km": 10.0,
                            "raw_fidelity": float(rng.uniform(low, high)),
                        }
                    )
    cs = sorted(corners)
    requests = [
        {
            "source": a,
            "destination": b,
            "count": 40,
            "pairs_per_request": 3,
            "min_fidelity": fmin,
            "timeout_s": 0.5,
            "arrival": {"process": "poisson", "rate_hz": 80.0},
        }
        for i, a in enumerate(cs)
        for b in cs[i + 1 :]
    ]
    return {
        "name": "verification-grid",
        "duration_s": 1.0,
        "nodes": nodes,
        "links": links,
        "traffic": {"requests": requests},
        "qkd": {"enabled": False},
    }


def _ci(x: list[float]) -> dict[str, float]:
    a = np.asarray(x, dtype=np.float64)
    m = float(a.mean())
    half = float(stats.t.ppf(0.975, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
    return {"mean": m, "ci95": half}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--layout-seed", type=int, default=2026)
    ap.add_argument("--fraction", type=float, default=0.05)
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.process_time()
    base = grid_scenario(args.layout_seed)
    arms: list[tuple[str, str, dict[str, Any]]] = [
        ("shortest-path", "shortest-path", {}),
        ("max-fidelity truth", "max-fidelity", {}),
    ]
    for n in (10, 100, 1000):
        arms.append(
            (
                f"max-fidelity estimates ({n} pairs/link)",
                "max-fidelity",
                {"feed_controllers": True, "calibration_pairs": n},
            )
        )
    per_arm: dict[str, dict[str, list[float]]] = {}
    for label, routing, extra in arms:
        rec: dict[str, list[float]] = {
            "pairs_to_application": [],
            "true_fidelity": [],
            "below_min": [],
            "covered": [],
        }
        for seed in range(args.seeds):
            data = {
                **base,
                "seed": seed,
                "controller": {"routing": routing},
                "verification": {"fraction": args.fraction, **extra},
            }
            run = qnetai.run_scenario(Scenario.model_validate(data))
            s = run.summary
            rec["pairs_to_application"].append(float(s["pairs_to_application"]))
            rec["true_fidelity"].append(float(s["mean_fidelity"]))
            rec["below_min"].append(float(s["pairs_below_min_fidelity"]))
            lo, hi = s["verified_fidelity_low"], s["verified_fidelity_high"]
            rec["covered"].append(float(lo <= s["verified_true_fidelity"] <= hi))
        per_arm[label] = rec
    truth = per_arm["max-fidelity truth"]
    rows = []
    for label, rec in per_arm.items():
        row: dict[str, Any] = {"arm": label}
        for k in ("pairs_to_application", "true_fidelity", "below_min"):
            row[k] = _ci(rec[k])
        row["verified_interval_coverage"] = float(np.mean(rec["covered"]))
        if label != "max-fidelity truth":
            row["pairs_minus_truth"] = _ci(
                list(np.subtract(rec["pairs_to_application"], truth["pairs_to_application"]))
            )
            row["fidelity_minus_truth"] = _ci(
                list(np.subtract(rec["true_fidelity"], truth["true_fidelity"]))
            )
        rows.append(row)
    doc = {
        "seeds": args.seeds,
        "layout_seed": args.layout_seed,
        "fraction": args.fraction,
        "rows": rows,
        "cpu_s": time.process_time() - t0,
        "load_avg_start": load0,
        "load_avg_end": os.getloadavg(),
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
