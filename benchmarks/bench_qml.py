"""Quantum ML models beside classical baselines: ``qnetai bench qml``.

Time budget: ``--quick`` about 2 CPU minutes (4 tasks x 60 rows x 3 qubits, one seed,
3 outer folds, a search budget of 2 settings with 2-fold inner CV, 20 VQC steps; Born
machine on 2x2 bars and stripes; QAOA on a 6-node Waxman graph; speed at 4 and 8 qubits).
The full profile (6 tasks x 120 rows x 4 qubits, 2 seeds, budget 4, 60 VQC steps, Born
machine on 3x3, QAOA on 6/8/10 nodes at depth 1-3, speed at 10/16/20 qubits, one 16-qubit
training) takes about an hour of CPU on the shared machine. Prints the Markdown tables of
``benchmarks/README.md`` (or ``--json``: the whole result).

    .venv/bin/python benchmarks/bench_qml.py [--quick] [--seed 0] [--json] [--out FILE.json]
        [--n-seeds 3] [--tasks a,b,c] [--tasks-only]

Same as ``qnetai bench qml [--quick] --seed 0``. CPU times are process times (every thread).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from qnetai.cli.qml_cmd import format_qml_tables
from qnetai.qml.benchmark import FULL_PROFILE, QUICK_PROFILE, run_qml_benchmark


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the quick profile")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ap.add_argument("--out", help="also write the JSON result to this file")
    ap.add_argument("--n-seeds", type=int, help="number of seeds (default: the profile's)")
    ap.add_argument("--tasks", help="comma-separated task names (default: the profile's)")
    ap.add_argument(
        "--tasks-only", action="store_true", help="skip the Born, QAOA and speed sections"
    )
    args = ap.parse_args()
    kwargs = dict(QUICK_PROFILE if args.quick else FULL_PROFILE)
    n_seeds = args.n_seeds or len(kwargs.get("seeds", (0, 1)))
    kwargs["seeds"] = tuple(args.seed + i for i in range(n_seeds))
    if args.tasks:
        kwargs["tasks"] = tuple(args.tasks.split(","))
    if args.tasks_only:
        kwargs.update(born=False, qaoa=False, scaling=(), training_qubits=0)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = run_qml_benchmark(**kwargs)
    out["machine"] = {
        "python": platform.python_version(),
        "wall_s": time.perf_counter() - t0,
        "load_1min_start": load,
        "load_1min_end": os.getloadavg()[0],
    }
    if args.out:
        tmp = f"{args.out}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
        os.replace(tmp, args.out)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(format_qml_tables(out))
        print(f"wall {out['machine']['wall_s']:.0f} s, load {load:.1f}")


if __name__ == "__main__":
    main()
