"""Benchmark memory allocators on the event engine where memory is the bottleneck.

Scenario :func:`qnetai.control.memory_allocation.bottleneck_scenario`: classes ``A->C`` (two
10 km links, 150 requests/s) and ``B->D`` (two 60 km links, 40 requests/s) share a middle node
with 4 memory qubits; 5 pairs per request, 0.1 s timeout, 1 s simulated. First come, first
served and an equal static partition beside the partition optimised by nevergrad (shares and
memories per class; objective served requests x Jain index) on training seeds of its own;
every allocator is evaluated on the same test seeds: served requests, delivered pairs, mean
fidelity, Jain index over classes (95 % intervals over seeds) and served fraction per class.

Time budget: about 1-3 minutes on one loaded core with the defaults.

Usage:
    .venv/bin/python benchmarks/bench_memory_allocation.py [--seeds 10] [--budget 24] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from qnetai.control.memory_allocation import bench_memory_allocation


def main() -> None:
    """Run the benchmark; print a table (or one JSON document with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="test seeds 0..N-1")
    ap.add_argument("--budget", type=int, default=24)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    out = bench_memory_allocation(seeds=tuple(range(args.seeds)), budget=args.budget)
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    head = (
        f"{'allocator':17s} {'served':>14s} {'pairs':>14s} {'mean F':>15s} {'Jain':>14s} "
        f"{'served A->C / B->D':>19s}"
    )
    print(head)
    print("-" * len(head))
    for r in out["rows"]:
        fr = r["served_fraction"]
        print(
            f"{r['allocator']:17s} {r['served']:7.1f} ± {r['served_ci95']:4.1f} "
            f"{r['pairs_delivered']:7.1f} ± {r['pairs_delivered_ci95']:4.1f} "
            f"{r['mean_fidelity']:.4f} ± {r['mean_fidelity_ci95']:.4f} "
            f"{r['jain']:.3f} ± {r['jain_ci95']:.3f} "
            f"{fr.get('A->C', 0):9.2f} / {fr.get('B->D', 0):.2f}"
        )
    print(f"optimised options: {out['optimised']} (train objective {out['train_objective']:.1f})")
    print(
        f"({args.seeds} test seeds, {out['rows'][0]['requests']:.0f} requests per seed; wall "
        f"{out['wall_s']:.0f} s, CPU {out['cpu_s']:.0f} s, load {out['load_average'][0]:.1f})"
    )


if __name__ == "__main__":
    main()
