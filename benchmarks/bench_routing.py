"""Routing benchmark on Q-CAST slotted instances (wraps ``qnetai bench routing``).

Time budget: the default (50-node Waxman, 10 requests, 30 slots x 3 seeds, fast methods)
takes a few minutes on one core; the MILP and the nevergrad methods dominate.
Usage: ``python benchmarks/bench_routing.py [--slots N] [--nodes N] [--methods a,b]``.
"""

from __future__ import annotations

import argparse
import json
import time

from qnetai.control.slotted_bench import DEFAULT_METHODS
from qnetai.plugins import bench_routing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--topology", default="waxman")
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--slots", type=int, default=30)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = bench_routing(
        topology=args.topology,
        nodes=args.nodes,
        requests=args.requests,
        slots=args.slots,
        seeds=[int(s) for s in args.seeds.split(",")],
        methods=args.methods.split(","),
    )
    out["wall_time_s"] = time.perf_counter() - t0
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
