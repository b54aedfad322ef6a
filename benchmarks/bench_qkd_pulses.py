"""Benchmark of the pulse-level BB84 simulator and the full pipeline.

Time budget: about 60 s on one core (pulse simulation ~5 s, full 1e8-pulse run < 60 s).
Targets: pulse simulation >= 2e7 pulses/s/core; 1e8 pulses at 25 km from pulses to final key
in < 60 s. Run: ``.venv/bin/python benchmarks/bench_qkd_pulses.py [--pulses 1e8]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qnetai.qkd.attacks import AttackSpec
from qnetai.qkd.pipeline import run_bb84
from qnetai.qkd.pulses import BB84Setup, iter_blocks
from qnetai.qkd.sifting import SiftCounts, block_counts


def bench_pulses(distance_km: float, pulses: int, attack: str | None) -> float:
    setup = BB84Setup.from_distance(distance_km)
    rng = np.random.default_rng(0)
    tot = SiftCounts()
    t0 = time.perf_counter()
    spec = AttackSpec(attack, 0.5 if attack else 0.0)
    for b in iter_blocks(setup, pulses=pulses, rng=rng, attack=spec):
        tot.add(block_counts(b))
    return pulses / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pulses", type=float, default=1e8, help="pulses of the full run")
    ap.add_argument("--sim-pulses", type=float, default=1e8, help="pulses per speed test")
    args = ap.parse_args()
    rows = []
    for dist, att in ((25.0, None), (5.0, None), (25.0, "blinding")):
        rate = bench_pulses(dist, int(args.sim_pulses), att)
        rows.append(
            (
                f"pulse simulation + sifting counts, {dist:g} km, attack={att}",
                f"{rate:.3g} pulses/s",
                ">= 2e7 /s",
                "yes" if rate >= 2e7 else "NO",
            )
        )
    t0 = time.perf_counter()
    r = run_bb84(distance_km=25.0, pulses=int(args.pulses), rng=np.random.default_rng(1))
    wall = time.perf_counter() - t0
    rows.append(
        (
            f"full run {args.pulses:.0e} pulses, 25 km (status {r.status}, "
            f"key {r.final_key_length} bits, identical {r.keys_identical})",
            f"{wall:.1f} s",
            "< 60 s",
            "yes" if wall < 60 else "NO",
        )
    )
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in r.timing_s.items())
    print("| benchmark | measured | target | met |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nstages of the full run: {stages}")


if __name__ == "__main__":
    main()
