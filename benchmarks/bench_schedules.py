"""Benchmark swap schedules: optimised and learned policies against swap-asap + optimal cut-off.

For every regime of :data:`qnetai.ai.schedule_search.REGIMES` (homogeneous and heterogeneous
chains, one or two memories per node side, coherence comparable to the generation time) every
policy plays the same episode seeds of ``qnetai/RepeaterChain-v0``: swap-asap, swap-asap with
its optimal single cut-off, per-segment cut-offs (searched exactly with the MDP for two
segments, by nevergrad on Monte Carlo for three), the exact MDP optimum (two segments, one
memory) and the shipped learned model where one exists. Reports valid pairs per slot with
95 % CIs, the exact rate where computable and the gain over the optimal single cut-off.

Time budget: about 5-10 minutes on one loaded core with the defaults.

Usage:
    .venv/bin/python benchmarks/bench_schedules.py [--episodes 1000] [--seed 2024]
        [--regimes homogeneous,het-memory] [--models het-memory=het-memory] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from qnetai.ai.schedule_search import DEFAULT_MODELS, DEFAULT_REGIMES, bench_schedules


def main() -> None:
    """Run the benchmark; print a table (or one JSON document with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--search-episodes", type=int, default=200)
    ap.add_argument("--search-budget", type=int, default=30)
    ap.add_argument("--regimes", default=",".join(DEFAULT_REGIMES))
    ap.add_argument("--models", default=",".join(f"{k}={v}" for k, v in DEFAULT_MODELS.items()))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    models = dict(x.split("=", 1) for x in args.models.split(",") if "=" in x)
    t0, c0 = time.perf_counter(), time.process_time()

    def progress(name: str) -> None:
        if not args.json:
            print(f"... {name}", flush=True)

    out = bench_schedules(
        [r for r in args.regimes.split(",") if r],
        episodes=args.episodes,
        seed=args.seed,
        search_episodes=args.search_episodes,
        search_budget=args.search_budget,
        models=models,
        progress=progress,
    )
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    head = (
        f"{'regime':15s} {'policy':26s} {'valid pairs/slot':>19s} {'exact':>8s} "
        f"{'mean F':>7s} {'gain':>7s}"
    )
    print(head)
    print("-" * len(head))
    for r in out["rows"]:
        base = next(
            x for x in out["rows"] if x["regime"] == r["regime"] and "cutoff" in x["policy"]
        )
        ex = r["exact_rate_per_slot"]
        gain = r["delivery_rate_per_slot"] / base["delivery_rate_per_slot"] - 1.0
        print(
            f"{r['regime']:15s} {r['policy']:26s} "
            f"{r['delivery_rate_per_slot']:.4f} ± {r['delivery_rate_ci95']:.4f}  "
            f"{'-' if ex is None else format(ex, '.4f'):>8s} "
            f"{r['mean_delivered_fidelity']:7.3f} {gain:+7.1%}"
        )
    for name, s in out["summary"].items():
        ge = "-" if s["gain_exact"] is None else f"{s['gain_exact']:+.1%}"
        print(
            f"{name}: best single cut-off {s['best_single_cutoff_slots']}, per-segment "
            f"{s['segment_cutoffs']}; gain exact {ge}, MC {s['gain_mc']:+.1%} "
            f"({s['gain_mc_policy']})"
        )
    print(
        f"({args.episodes} episodes per policy, seed {args.seed}; wall {out['wall_s']:.0f} s, "
        f"CPU {out['cpu_s']:.0f} s, load {out['load_average'][0]:.1f})"
    )


if __name__ == "__main__":
    main()
