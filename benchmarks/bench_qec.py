"""Decoder benchmark: logical error rates (95 % Wilson) and CPU throughput, same shots.

Runs ``qnetai.qec.bench_qec`` on the rotated surface code memory (rounds = d, uniform
depolarising noise by default, ``--noise si1000`` for SI1000) for d = 3 and d = 5 (``--distances``)
and prints one JSON document. Time budget: about
2-4 CPU minutes at the default shots (BP+OSD decodes only ``--bposd-shots`` shots).

    .venv/bin/python benchmarks/bench_qec.py --shots 200000 --p 0.005 --seed 2026

Throughput of the learned decoder's variants (issue 13 section 3), one markdown table::

    .venv/bin/python benchmarks/bench_qec.py --distances 5 --shots 200000 --p 0.005 \\
        --seed 2026 --decoders matching,matching-correlated,neural,neural-gated --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

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
    ap.add_argument("--markdown", action="store_true", help="Print markdown tables, not JSON.")
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
    if args.markdown:
        for out in results:
            print(markdown(out))
    else:
        print(json.dumps(results, indent=1))


def markdown(out: dict[str, Any]) -> str:
    """One markdown table: LER, time ratios and the paired test against correlated matching."""
    c = out["config"]
    vs_corr = {x["decoder"]: x for x in out["comparisons"] if x["versus"] == "matching-correlated"}
    vs_neural = {x["decoder"]: x for x in out["comparisons"] if x["versus"] == "neural"}
    lines = [
        f"d = {c['distance']}, p = {c['p']}, {c['shots']} shots, seed {c['seed']}, "
        f"load {c['loadavg'][0]:.1f}, {c['total_cpu_s']:.0f} CPU s",
        "",
        "| decoder | LER per shot [95 % CI] | LER per round | µs/round | x matching "
        "| x corr. matching | network on | paired vs corr. matching (only it / only corr.) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in out["rows"]:
        lo, hi = r["ler_per_shot_ci"]
        cmp = vs_corr.get(r["decoder"])
        paired = (
            "-"
            if cmp is None
            else f"{cmp['only_decoder_wrong']} / {cmp['only_versus_wrong']}, "
            f"z = {cmp['paired_z']:.2f}"
        )
        frac = r.get("network_fraction")

        def ratio(key: str, row: dict[str, Any] = r) -> str:
            v = row.get(key)
            return "-" if v is None else f"{v:.3g}"

        lines.append(
            f"| {r['decoder']} | {r['ler_per_shot']:.4e} [{lo:.3e}, {hi:.3e}] "
            f"| {r['ler_per_round']:.3e} | {r['us_per_round']:.3g} "
            f"| {ratio('us_per_round_vs_matching')} "
            f"| {ratio('us_per_round_vs_matching_correlated')} "
            f"| {'-' if frac is None else f'{100 * frac:.2f} %'} | {paired} |"
        )
    for name, x in vs_neural.items():
        lines.append(
            f"\n{name} vs neural on the same shots: only {name} wrong "
            f"{x['only_decoder_wrong']}, only neural wrong {x['only_versus_wrong']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
