"""Train a learned surface-code decoder on a GPU and evaluate it against correlated matching.

Optional GPU path of issue 13 (CPU training is what CI runs). One process per model: the
optimiser on ``--device`` (bfloat16 autocast on CUDA), ``--workers`` processes drawing stim
shots and pre-decoding them with correlated matching ahead of it. Then a paired evaluation on
fresh shots (a seed no training chunk uses): logical error per shot of correlated matching and
of the learned decoder with 95 % Wilson intervals, and the McNemar count of shots only one of
them got wrong. Writes ``OUT/STEM.npz`` + ``OUT/STEM.json`` (inert weights) and
``OUT/STEM-eval.json``.

    python benchmarks/qec_gpu/train_eval.py --distance 5 --p 0.005 --device cuda \\
        --workers 7 --max-wall-s 330 --eval-shots 2000000 --out OUT/qec-surface-d5
"""

from __future__ import annotations

import argparse
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from qnetai.qec import MemoryExperiment, TrainConfig, train_decoder
from qnetai.qec._bench import wilson_interval
from qnetai.qec._training import draw_chunk, torch_grid_input, torch_network

EVAL_SEED = 987_654_321  # no training run uses this seed


def evaluate(model, exp, *, shots: int, device: str, workers: int) -> dict:
    import torch

    text = str(exp.circuit())
    net = torch_network(model).to(device).eval()
    chunk = 200_000
    n_chunks = math.ceil(shots / chunk)
    wrong_base = wrong_net = only_base = only_net = total = 0
    with ProcessPoolExecutor(max(1, workers), mp_context=get_context("spawn")) as pool:
        futs = [
            pool.submit(draw_chunk, text, seed=EVAL_SEED, k=k, shots=chunk, residual=True)
            for k in range(n_chunks)
        ]
        for f in futs:
            dets, base, target = f.result()  # target = observable flips XOR base
            with torch.no_grad():
                x = torch_grid_input(model.arch, torch.from_numpy(dets).to(device))
                b = torch.from_numpy(base.astype(np.float32)).to(device)
                flip = (net(x, b) > 0).cpu().numpy()
            base_wrong = np.any(target, axis=1)
            net_wrong = np.any(target ^ flip, axis=1)
            wrong_base += int(base_wrong.sum())
            wrong_net += int(net_wrong.sum())
            only_base += int((base_wrong & ~net_wrong).sum())
            only_net += int((net_wrong & ~base_wrong).sum())
            total += dets.shape[0]
    disc = only_base + only_net
    return {
        "shots": total,
        "matching_correlated": {
            "errors": wrong_base,
            "ler": wrong_base / total,
            "ci95": wilson_interval(wrong_base, total),
        },
        "neural": {
            "errors": wrong_net,
            "ler": wrong_net / total,
            "ci95": wilson_interval(wrong_net, total),
        },
        "only_matching_wrong": only_base,
        "only_neural_wrong": only_net,
        "mcnemar_z": (only_net - only_base) / math.sqrt(disc) if disc else 0.0,
        "relative_change": (wrong_net - wrong_base) / max(1, wrong_base),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distance", type=int, default=5)
    ap.add_argument("--p", type=float, default=0.005)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--workers", type=int, default=7)
    ap.add_argument("--channels", default="32,32")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--chunk-shots", type=int, default=262_144)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--max-wall-s", type=float, default=330.0)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--eval-shots", type=int, default=2_000_000)
    ap.add_argument("--resume", action="store_true", help="continue the checkpoint at --out")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    exp = MemoryExperiment(distance=a.distance, rounds=a.distance, p=a.p)
    cfg = TrainConfig(
        steps=a.steps,
        batch_size=a.batch_size,
        chunk_shots=a.chunk_shots,
        lr=a.lr,
        lr_schedule="cosine",
        seed=a.seed,
        channels=tuple(int(c) for c in a.channels.split(",")),
        hidden=a.hidden,
        checkpoint_every=2000,
        device=a.device,
        workers=a.workers,
        max_wall_s=a.max_wall_s,
    )
    t0 = time.perf_counter()

    def show(info: dict) -> None:
        print(
            f"[{a.out}] {time.perf_counter() - t0:6.0f} s step {info['step']} loss {info['loss']}",
            flush=True,
        )

    model = train_decoder(exp, out=a.out, config=cfg, progress=show, resume=a.resume)
    wall = time.perf_counter() - t0
    ev = evaluate(model, exp, shots=a.eval_shots, device=a.device, workers=a.workers + 1)
    ev.update(
        train_wall_s=round(wall, 1),
        steps=model.info["step"],
        shots_seen=model.info["shots_seen"],
        device=a.device,
        workers=a.workers,
    )
    Path(a.out + "-eval.json").write_text(json.dumps(ev, indent=1))
    print(json.dumps(ev), flush=True)


if __name__ == "__main__":
    main()
