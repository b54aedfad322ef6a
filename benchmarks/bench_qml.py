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
import sys
import time
from typing import Any

import numpy as np

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
    ap.add_argument(
        "--cost-scaling",
        action="store_true",
        help="only the cost-vs-qubits table (4, 8, 12, 16 qubits; use OMP_NUM_THREADS=1)",
    )
    ap.add_argument(
        "--seed-table",
        nargs="+",
        metavar="RESULT.json",
        help="only print the per-seed interval table of saved --out results",
    )
    ap.add_argument(
        "--allocation",
        action="store_true",
        help="only QAOA on the path-allocation QUBO (grid topologies, 6-12 qubits, depth 1-3)",
    )
    args = ap.parse_args()
    if args.seed_table:
        docs = []
        for path in args.seed_table:
            with open(path, encoding="utf-8") as fh:
                docs.append(json.load(fh))
        print(seed_table(docs))
        return
    if args.allocation:
        _allocation()
        return
    if args.cost_scaling:
        _cost_scaling(args)
        return
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


def seed_table(results: list[dict[str, Any]]) -> str:
    """Per task: each model's mean over seeds of its per-seed accuracy, t 95 % over seeds.

    ``results`` are ``run_qml_benchmark`` documents (their per-fold accuracies are seed-major).
    """
    from scipy import stats

    lines = [
        "| task (kind) | winner (mean over seeds +- t95 over seeds) | runner-up | best quantum or "
        "ablation | best classical | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for out in results:
        folds, seeds = out["config"]["folds"], out["config"]["seeds"]
        for task, res in out["tasks"].items():
            rows = []
            for m, r in res["models"].items():
                per_seed = np.asarray(r["accuracies"]).reshape(len(seeds), folds).mean(axis=1)
                half = stats.t.ppf(0.975, len(seeds) - 1) * per_seed.std(ddof=1)
                rows.append((float(per_seed.mean()), half / np.sqrt(len(seeds)), m, r["kind"]))
            rows.sort(key=lambda t: -t[0])

            def cell(row: tuple[float, float, str, str]) -> str:
                return f"{row[2]} {row[0]:.3f} +-{row[1]:.3f}"

            best_q = next(r for r in rows if r[3] != "classical")
            best_c = next(r for r in rows if r[3] == "classical")
            lines.append(
                f"| {task} ({res['kind']}) | **{cell(rows[0])}** ({rows[0][3]}) | {cell(rows[1])} "
                f"| {cell(best_q)} | {cell(best_c)} | {len(seeds)} |"
            )
    return "\n".join(lines)


def _allocation() -> None:
    from qnetai.qml.allocation import allocation_instance, solve_allocation

    load = os.getloadavg()[0]
    print(
        "| topology | requests x paths = qubits | depth | QAOA <E>/E_min | QAOA top string | "
        "P(optimal) | P(feasible) | product ansatz <E>/E_min | greedy + local search | "
        "QAOA CPU s |"
    )
    print("|---" * 10 + "|")
    for kind, n, req, paths, seed in (
        ("grid", 6, 3, 2, 0),
        ("grid", 9, 3, 3, 0),
        ("grid", 9, 4, 3, 1),
    ):
        inst = allocation_instance(kind, n, n_requests=req, n_paths=paths, seed=seed)
        for depth in (1, 2, 3):
            r = solve_allocation(
                inst, depth=depth, restarts=3, steps=60, rng=np.random.default_rng(0)
            )
            q = r["qaoa"]
            print(
                f"| {kind} {n} | {req} x {paths} = {inst.n_vars} | {depth} | "
                f"{q['expected_energy_ratio']:.3f} | {q['best_of_state_ratio']:.3f} | "
                f"{q['p_optimal']:.3f} | {q['p_feasible']:.3f} | "
                f"{r['product_ansatz']['expected_energy_ratio']:.3f} | "
                f"{r['greedy']['ratio']:.3f} | {q['cpu_s']:.1f} |",
                flush=True,
            )
    print(f"load {load:.1f} -> {os.getloadavg()[0]:.1f}")


def _cost_scaling(args: argparse.Namespace) -> None:
    from qnetai.qml.benchmark import _scaling_section, cost_scaling

    load = os.getloadavg()[0]
    qubits = (4, 8, 12, 16)

    def progress(stage: str, done: int, total: int) -> None:
        print(f"[{done}/{total}] {stage}", file=sys.stderr, flush=True)

    rows = cost_scaling(qubits, seed=args.seed, progress=progress)
    speed = _scaling_section(qubits)
    out = {"cost": rows, "speed": speed, "load_start": load, "load_end": os.getloadavg()[0]}
    if args.out:
        tmp = f"{args.out}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
        os.replace(tmp, args.out)
    models = list(dict.fromkeys(r["model"] for r in rows))
    head = "| model | " + " | ".join(f"{n} qubits train / predict" for n in qubits) + " |"
    print(head)
    print("|---" * (len(qubits) + 1) + "|")
    for m in models:
        cells = []
        for n in qubits:
            r = next(r for r in rows if r["model"] == m and r["n_qubits"] == n)
            fit_ms, pred_ms = (
                1e3 * r[k] for k in ("train_cpu_s_per_sample", "predict_cpu_s_per_sample")
            )
            cells.append(f"{fit_ms:.3g} / {pred_ms:.3g}")
        print(f"| {m} | " + " | ".join(cells) + " |")
    print()
    print("| qubits | device | evals / s | gradients / s |")
    print("|---|---|---|---|")
    for s in speed:
        print(
            f"| {s['n_qubits']} | {s['device']} | {s['evals_per_s']:.3g} | "
            f"{s['gradients_per_s']:.3g} |"
        )
    print(f"load {load:.1f} -> {out['load_end']:.1f}")


if __name__ == "__main__":
    main()
