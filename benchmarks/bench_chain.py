"""Samples per second of ``qnetai.sim.chain.simulate_chain``.

Time budget: under 60 s in all (each configuration gets about ``--seconds`` of sampling, 1.5 s
by default, plus a short warm-up that sizes the run). Prints a markdown table.

    .venv/bin/python benchmarks/bench_chain.py [--seconds 1.5] [--json]

Parameters: p_gen = 0.1, attempt_s = 1e-4 s, F = 0.95, t_coh_s = 0.1 s; "swap" is p_swap = 0.9,
"cut-off" is cutoff_s = 50 rounds (5e-3 s). The plain case uses the direct sampler; the others
the event-wise one.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from qnetai.sim.chain import simulate_chain

MODES = {
    "plain": {},
    "p_swap=0.9": {"p_swap": 0.9},
    "cut-off 50 rounds": {"cutoff_s": 5e-3},
    "p_swap=0.9 + cut-off": {"p_swap": 0.9, "cutoff_s": 5e-3},
}
SEGMENTS = (2, 4, 8, 16)
PARAMS = {"p_gen": 0.1, "attempt_s": 1e-4, "fidelity": 0.95, "t_coh_s": 0.1}


def _time(segments: int, samples: int, mode: dict, seed: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU time is robust on a shared machine."""
    t0, c0 = time.perf_counter(), time.process_time()
    simulate_chain(
        segments=segments, samples=samples, rng=np.random.default_rng(seed), **PARAMS, **mode
    )
    return time.perf_counter() - t0, time.process_time() - c0


def measure(segments: int, mode: dict, seconds: float) -> tuple[int, float, float]:
    """Return (samples, samples per wall second, samples per CPU second) for ~``seconds``."""
    probe = 20_000 if not mode else 2_000
    dt, _ = _time(segments, probe, mode, 0)
    samples = int(min(5_000_000, max(probe, probe * seconds / max(dt, 1e-6))))
    dt, cpu = _time(segments, samples, mode, 1)
    return samples, samples / dt, samples / max(cpu, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.5, help="target time per configuration")
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = ap.parse_args()
    start = time.perf_counter()
    rows = []
    for n in SEGMENTS:
        for name, mode in MODES.items():
            samples, rate, cpu_rate = measure(n, mode, args.seconds)
            rows.append(
                {
                    "segments": n,
                    "mode": name,
                    "samples": samples,
                    "samples_per_s": rate,
                    "samples_per_cpu_s": cpu_rate,
                }
            )
    total = time.perf_counter() - start
    if args.json:
        print(json.dumps({"rows": rows, "total_s": total}, indent=2))
        return
    print(
        f"qnetai chain benchmark ({platform.processor() or platform.machine()}, "
        f"numpy {np.__version__}); total {total:.1f} s\n"
    )
    print("| segments | mode | samples | samples/s (wall) | samples/s (CPU) |")
    print("|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['segments']} | {r['mode']} | {r['samples']:,} | {r['samples_per_s']:,.0f} "
            f"| {r['samples_per_cpu_s']:,.0f} |"
        )


if __name__ == "__main__":
    main()
