"""Tomography benchmark: state estimators vs shots, and network tomography on metro-6g.

Prints one JSON document: ``state_2q`` (network pairs, every estimator incl. the neural one
trained first and qiskit-experiments' linear inversion on the same counts), ``state_nq``
(GHZ state, classical estimators), ``network`` (link estimates from path measurements with 3
and 1 paths per monitor pair) and ``summary`` (speed ratio ML/neural, infidelity ratios),
with the load average at start and end. Time budget: about 3-6 CPU minutes.

    .venv/bin/python benchmarks/bench_tomography.py --seed 2026
"""

from __future__ import annotations

import argparse
import json
import os
import time

from qnetai.tomography.bench import bench_state_tomography
from qnetai.tomography.network import bench_network_tomography


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--shots", default="100,1000,10000")
    ap.add_argument("--ghz-qubits", type=int, default=4)
    ap.add_argument("--network-trials", type=int, default=20)
    args = ap.parse_args()
    shots = [int(s) for s in args.shots.split(",")]
    load0 = os.getloadavg()
    t = time.process_time()
    two = bench_state_tomography(n_qubits=2, shots=shots, trials=args.trials, seed=args.seed)
    many = bench_state_tomography(
        n_qubits=args.ghz_qubits,
        shots=shots[:2],
        trials=3,
        seed=args.seed,
        estimators=("linear", "ml", "qiskit-linear", "dfe"),
    )
    nets = [
        bench_network_tomography(
            "metro-6g", shots=2000, trials=args.network_trials, seed=args.seed, paths_per_pair=k
        )
        for k in (3, 1)
    ]
    by = {(r["estimator"], r["shots_per_setting"]): r for r in two["rows"]}
    summary = {}
    for s in shots:
        ml, nn, bayes = by[("ml", s)], by[("neural", s)], by[("bayes", s)]
        summary[str(s)] = {
            "neural_over_ml_infidelity": nn["mean"] / ml["mean"],
            "bayes_over_ml_infidelity": bayes["mean"] / ml["mean"],
            "ml_cpu_over_neural_cpu": ml["cpu_s_per_estimate"] / nn["cpu_s_per_estimate"],
        }
    out = {
        "state_2q": two,
        "state_nq": many,
        "network": nets,
        "summary": summary,
        "cpu_s": round(time.process_time() - t, 1),
        "loadavg_start": load0,
        "loadavg_end": os.getloadavg(),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
