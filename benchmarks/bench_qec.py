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
    ap.add_argument(
        "--gate-loss",
        action="store_true",
        help="Instead: neural vs neural-gated vs correlated matching, paired, on --shots fresh "
        "shots in 100,000-shot chunks (chunk k seeded seed * 1000 + k); d = first of --distances.",
    )
    args = ap.parse_args()
    if args.gate_loss:
        d = int(args.distances.split(",")[0])
        exp = MemoryExperiment(code="surface", distance=d, rounds=d, p=args.p, noise=args.noise)
        print(json.dumps(gate_loss(exp, shots=args.shots, seed=args.seed), indent=1))
        return
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


def gate_loss(exp: MemoryExperiment, *, shots: int, seed: int) -> dict[str, Any]:
    """Errors of correlated matching, ``neural`` and ``neural-gated`` on the same fresh shots.

    Both learned variants come from one network pass per chunk: ``neural-gated`` equals
    ``neural`` where plain and correlated matching disagree and correlated matching elsewhere
    (the property ``tests/qec/test_neural_speed.py`` checks on the decoders themselves).
    """
    import numpy as np
    import torch

    from qnetai.qec import MatchingDecoder, NeuralDecoder, sample
    from qnetai.qec._bench import _default_model

    torch.set_num_threads(1)
    model = _default_model(exp)
    circuit = exp.circuit()
    net = NeuralDecoder(model=model or "", backend="torch").for_circuit(circuit)
    plain = MatchingDecoder().for_circuit(circuit)
    keys = ("corr", "neural", "gated", "disagree")
    pairs = (
        "neural|corr",
        "corr|neural",
        "gated|corr",
        "corr|gated",
        "gated|neural",
        "neural|gated",
    )
    tot = dict.fromkeys((*keys, *pairs), 0)
    t = time.process_time()
    for k, start in enumerate(range(0, shots, 100_000)):
        s = sample(
            circuit,
            shots=min(100_000, shots - start),
            seed=seed * 1000 + k,
        )
        dets, obs = s.detection_events, s.observable_flips
        assert net.base is not None
        corr = net.base.decode_batch(dets)
        dis = np.any(corr != plain.decode_batch(dets), axis=1)
        neural = corr ^ (net._logits(dets, corr) > 0)
        gated = np.where(dis[:, None], neural, corr)
        wrong = {
            n: np.any(v != obs, axis=1)
            for n, v in (("corr", corr), ("neural", neural), ("gated", gated))
        }
        for n in ("corr", "neural", "gated"):
            tot[n] += int(wrong[n].sum())
        tot["disagree"] += int(dis.sum())
        for pair in pairs:
            a, b = pair.split("|")
            tot[pair] += int((wrong[a] & ~wrong[b]).sum())

    def z(a: str, b: str) -> float:
        n = tot[f"{a}|{b}"] + tot[f"{b}|{a}"]
        return (tot[f"{a}|{b}"] - tot[f"{b}|{a}"]) / n**0.5 if n else 0.0

    return {
        "config": {**exp.describe(), "shots": shots, "seed": seed, "model": model},
        "errors": {n: tot[n] for n in ("corr", "neural", "gated")},
        "disagree_shots": tot["disagree"],
        "only_first_wrong": {p: tot[p] for p in pairs},
        "paired_z": {
            "neural-corr": z("neural", "corr"),
            "gated-corr": z("gated", "corr"),
            "gated-neural": z("gated", "neural"),
        },
        "cpu_s": time.process_time() - t,
        "loadavg": os.getloadavg(),
    }


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
