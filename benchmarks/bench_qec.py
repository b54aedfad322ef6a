"""Decoder benchmark: logical error rates (95 % Wilson) and CPU throughput, same shots.

Runs ``qnetai.qec.bench_qec`` on the rotated surface code memory (rounds = d, uniform
depolarising noise by default, ``--noise si1000`` for SI1000) for d = 3 and d = 5 (``--distances``)
and prints one JSON document. Time budget: about
2-4 CPU minutes at the default shots (BP+OSD decodes only ``--bposd-shots`` shots).

    .venv/bin/python benchmarks/bench_qec.py --shots 200000 --p 0.005 --seed 2026
"""

from __future__ import annotations

import argparse
import json
import os
import time

from qnetai.qec import MemoryExperiment, bench_qec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--distances", default="3,5")
    ap.add_argument("--p", type=float, default=0.005)
    ap.add_argument("--noise", default="depolarizing", help="depolarizing or si1000")
    ap.add_argument("--decoders", default="", help="comma-separated (default: all that apply)")
    ap.add_argument("--shots", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--bposd-shots", type=int, default=2_000)
    ap.add_argument("--lookup-train-shots", type=int, default=2_000_000)
    ap.add_argument("--model-dir", default=None, help="Use DIR/qec-surface-dD.npz models.")
    args = ap.parse_args()
    results = []
    for d in (int(x) for x in args.distances.split(",")):
        exp = MemoryExperiment(code="surface", distance=d, rounds=d, p=args.p, noise=args.noise)
        model = os.path.join(args.model_dir, f"qec-surface-d{d}.npz") if args.model_dir else None
        t = time.process_time()
        out = bench_qec(
            exp,
            shots=args.shots,
            seed=args.seed,
            bposd_shots=args.bposd_shots,
            lookup_train_shots=args.lookup_train_shots,
            model=model,
            decoders=[x for x in args.decoders.split(",") if x] or None,
        )
        out["config"]["total_cpu_s"] = time.process_time() - t
        out["config"]["loadavg"] = os.getloadavg()
        results.append(out)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
