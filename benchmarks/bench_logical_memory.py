"""Physical vs error-corrected (logical) memories on the same network, seeds and links.

Runs the engine (``qnetai.simulate``: the simulation alone, no key network) on the built-in
``metro-6g-logical`` scenario with every node's memory replaced by one variant:

* ``physical``: a bare qubit on the same hardware, depolarised with probability ``p`` per QEC
  cycle (``t_coh_s = -cycle / (2 ln(1 - 4p/3))``, :func:`qnetai.qec.memory.physical_t_coh_s`);
* ``surface d=D decoder``: a logical qubit of the rotated surface code, its rates per round
  measured with stim and the decoder (``qnetai.qec.memory``), for d = 3, 5 (7 unless
  ``--quick``) and matching, correlated matching, the lookup table (d = 3) and the shipped
  learned decoder (d = 3, 5).

For each variant and seed: pairs delivered per second and their mean fidelity; the table gives
the mean over seeds with a 95 % Student-t interval, the paired difference to ``physical``
(same seeds, same traffic), the measured logical rates per round with Wilson intervals, the
memory's ``t_coh_s`` and the CPU seconds. Budget: about 1 min for ``--quick`` (2 seeds, 3
variants), 5-15 min for the default (5 seeds, 10 variants) on 2 loaded cores.

    .venv/bin/python benchmarks/bench_logical_memory.py --seeds 5
    .venv/bin/python benchmarks/bench_logical_memory.py --quick
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import numpy as np
from scipy import stats

from qnetai.config.models import LogicalMemorySpec, Scenario
from qnetai.errors import InputError
from qnetai.facade import load, simulate
from qnetai.qec.memory import physical_t_coh_s


def with_memory(sc: Scenario, logical: LogicalMemorySpec | None, t_coh_s: float) -> Scenario:
    """``sc`` with every node's memory set to ``logical`` (or a bare one of ``t_coh_s``)."""
    nodes = []
    for n in sc.nodes:
        mem = n.memory.model_copy(update={"logical": logical, "t_coh_s": t_coh_s})
        nodes.append(n.model_copy(update={"memory": mem}))
    return sc.model_copy(update={"nodes": nodes})


def interval(x: np.ndarray) -> list[float]:
    """95 % Student-t interval of the mean of ``x`` (NaN with fewer than two values)."""
    if len(x) < 2:
        return [math.nan, math.nan]
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return [float(x.mean()) - half, float(x.mean()) + half]


def variants(quick: bool) -> list[tuple[str, dict[str, Any] | None]]:
    """``(label, logical settings or None for the physical memory)``."""
    out: list[tuple[str, dict[str, Any] | None]] = [("physical", None)]
    grid = [(3, "matching"), (5, "matching")]
    if not quick:
        grid = [
            (3, "matching"),
            (3, "matching-correlated"),
            (3, "lookup"),
            (3, "neural"),
            (5, "matching"),
            (5, "matching-correlated"),
            (5, "neural"),
            (7, "matching"),
            (7, "matching-correlated"),
        ]
    for d, dec in grid:
        out.append((f"surface d={d} {dec}", {"distance": d, "decoder": dec}))
    return out


def main() -> None:
    """Run every variant on the same seeds and print one JSON document."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 3 variants")
    ap.add_argument("--shots", type=int, default=100_000, help="stim shots per basis")
    ap.add_argument("--scenario", default="metro-6g-logical")
    args = ap.parse_args()
    seeds = list(range(2 if args.quick else args.seeds))
    sc = load(args.scenario)
    base = sc.nodes[0].memory.logical or LogicalMemorySpec()
    base = base.model_copy(update={"shots": args.shots})
    t_phys = physical_t_coh_s(base.physical_error_rate, cycle_time_s=base.cycle_time_s)
    rows: list[dict[str, Any]] = []
    ref: dict[str, np.ndarray] = {}
    for label, settings in variants(args.quick):
        logical = None if settings is None else base.model_copy(update=settings)
        scv = with_memory(sc, logical, t_phys)
        rate, fid = [], []
        t0 = time.process_time()
        mem: dict[str, Any] | None = None
        for seed in seeds:
            print(f"{label}: seed {seed}", file=sys.stderr, flush=True)
            try:
                res = simulate(scv, seed=seed)
            except InputError as exc:  # refused up front (cost, decoder): say so, go on
                rows.append({"memory": label, "refused": str(exc)})
                break
            rate.append(res.summary["pairs_delivered"] / sc.duration_s)
            fid.append(res.summary["mean_fidelity"])
            if logical is not None:
                mem = res.summary["logical_memory"]["memories"][0]
        if len(rate) < len(seeds):
            continue
        r, f = np.asarray(rate), np.asarray(fid)
        if settings is None:
            ref = {"rate": r, "fidelity": f}
        row: dict[str, Any] = {
            "memory": label,
            "t_coh_s": t_phys if mem is None else mem["t_coh_s"],
            "pairs_per_s": float(r.mean()),
            "pairs_per_s_ci": interval(r),
            "fidelity": float(f.mean()),
            "fidelity_ci": interval(f),
            "fidelity_gain_vs_physical_ci": interval(f - ref["fidelity"]),
            "rate_gain_vs_physical_ci": interval(r - ref["rate"]),
            "cpu_s": time.process_time() - t0,
        }
        if mem is not None:
            row.update(
                {k: mem[k] for k in ("r_x", "r_x_ci", "r_z", "r_z_ci", "x_basis", "measure_cpu_s")}
            )
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "scenario": args.scenario,
                "seeds": seeds,
                "physical_error_rate": base.physical_error_rate,
                "cycle_time_s": base.cycle_time_s,
                "shots_per_basis": args.shots,
                "rows": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
