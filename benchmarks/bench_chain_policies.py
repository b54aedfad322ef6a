"""Benchmark repeater-chain policies: learned MaskablePPO against swap-asap and friends.

Every policy plays the same episode seeds of ``qnetai/RepeaterChain-v0`` (the shipped model's
config unless overridden); cut-offs are searched on other seeds. Reports the valid delivery
rate (valid deliveries per slot = 1 / mean slots to a valid delivery), the mean delivered
fidelity, the fraction of deliveries that are valid and the decision time per step, with 95% CIs.

Time budget: about 2-4 minutes on one core with the defaults (1000 episodes per policy).

Usage:
    .venv/bin/python benchmarks/bench_chain_policies.py [--episodes 1000] [--seed 2024]
        [--model n3-short] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import time

from qnetai.ai.chain_training import bench_chain_policies


def _fmt(x: float, ci: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f} ± {ci:.{digits}f}"


def main() -> None:
    """Run the benchmark and print a table (or one JSON document with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--cutoff-episodes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--model", default="n3-short")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = bench_chain_policies(
        model=args.model,
        episodes=args.episodes,
        seed=args.seed,
        cutoff_episodes=args.cutoff_episodes,
    )
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"rows": rows, "wall_s": wall}, indent=2))
        return
    head = (
        f"{'policy':28s} {'rate/slot':>16s} {'slots to valid':>16s} {'mean F':>16s} "
        f"{'frac valid':>14s} {'trunc':>5s} {'ms/step':>7s}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['policy']:28s} "
            f"{_fmt(r['delivery_rate_per_slot'], r['delivery_rate_ci95']):>16s} "
            f"{_fmt(r['mean_slots_to_valid'], r['mean_slots_ci95'], 2):>16s} "
            f"{_fmt(r['mean_delivered_fidelity'], r['mean_delivered_fidelity_ci95']):>16s} "
            f"{_fmt(r['fraction_valid'], r['fraction_valid_ci95'], 2):>14s} "
            f"{r['truncated']:5d} {r['decision_ms_mean']:7.3f}"
        )
    print(f"({args.episodes} episodes per policy, seed {args.seed}, {wall:.0f} s)")


if __name__ == "__main__":
    main()
