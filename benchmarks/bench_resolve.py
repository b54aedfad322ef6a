"""Resolving a large generated topology: a 1,000-node Waxman scenario with random traffic.

Time budget: under 10 s of wall time on a 2-core machine (about 0.5 s on one free core).
Formerly a timed unit test (``test_large_waxman_resolves_quickly``); wall-clock limits live
here, not in the test suite. Exits 1 when over budget.

Usage:
    .venv/bin/python benchmarks/bench_resolve.py [--nodes 1000] [--budget-s 10]
"""

from __future__ import annotations

import argparse
import sys
import time

from qnetai.config import scenario_from_dict
from qnetai.topology import resolve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--budget-s", type=float, default=10.0)
    args = ap.parse_args(argv)
    s = scenario_from_dict(
        {
            "topology": {"builder": "waxman", "nodes": args.nodes, "end_user_fraction": 0.1},
            "traffic": {"random": {}},
        }
    )
    start = time.perf_counter()
    r = resolve(s)
    elapsed = time.perf_counter() - start
    ok = len(r.nodes) == args.nodes and len(r.links) > args.nodes and elapsed < args.budget_s
    print(
        f"waxman {args.nodes} nodes: {len(r.links)} links resolved in {elapsed:.2f} s "
        f"(budget {args.budget_s:g} s): {'ok' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
