"""QKD post-processing benchmark: Cascade, LDPC reconciliation and Toeplitz privacy amplification.

Time budget: under 5 minutes with the defaults on a 2-core machine (``--quick``: under 1 minute).

Run: ``.venv/bin/python benchmarks/bench_postprocessing.py [--frames 500] [--quick]``

Prints markdown tables. Efficiency f = leaked / (n h2(q_actual)); FER = frames with residual
errors / frames; round trips with all frames' messages batched; throughput = key bits / wall s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qnetai.physics import binary_entropy
from qnetai.qkd.cascade import cascade_reconcile
from qnetai.qkd.ldpc_reconciliation import choose_rate, ldpc_matrix, ldpc_reconcile
from qnetai.qkd.privacy_amplification import ToeplitzHasher, toeplitz_hash

QBERS = (0.01, 0.02, 0.05)


def _keys(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    return a, a ^ (rng.random(n) < q).astype(np.uint8), rng


def bench_cascade(frames: int, frame_bits: int) -> list[str]:
    rows = [
        f"### Cascade ({frames} frames x {frame_bits} bits per point)",
        "",
        "| variant | QBER | f (actual q) | f std over frames | FER | round trips | Mbit/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in ("original", "option7", "option8"):
        for q in QBERS:
            a, b, rng = _keys(frames * frame_bits, q, 1000 + int(q * 1000))
            t0 = time.perf_counter()
            out = cascade_reconcile(
                a, b, qber_estimate=q, rng=rng, variant=variant, frame_bits=frame_bits
            )
            dt = time.perf_counter() - t0
            q_frames = (a ^ b).reshape(frames, frame_bits).mean(axis=1)
            f_frames = out.leaked_bits_per_frame / (frame_bits * binary_entropy(q_frames))
            f = out.leaked_bits / (frame_bits * binary_entropy(q_frames)).sum()
            rows.append(
                f"| {variant} | {q:.2f} | {f:.4f} | {f_frames.std():.4f} | "
                f"{out.frame_errors}/{frames} | {out.round_trips} | {a.size / dt / 1e6:.2f} |"
            )
    return rows


def bench_ldpc(frames: int, frame_bits: int) -> list[str]:
    rows = [
        f"### LDPC syndrome reconciliation ({frames} frames x {frame_bits} bits, column weight 3,"
        " product-sum BP, 100 iterations, one round trip)",
        "",
        "| QBER | rate | f (actual q) | FER (detected) | Mbit/s | code build s |",
        "|---|---|---|---|---|---|",
    ]
    for q in QBERS:
        a, b, _ = _keys(frames * frame_bits, q, 2000 + int(q * 1000))
        rate = choose_rate(q)
        t0 = time.perf_counter()
        ldpc_matrix(frame_bits, round(rate, 4), 0)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = ldpc_reconcile(a, b, qber_estimate=q, frame_bits=frame_bits)
        dt = time.perf_counter() - t0
        f = out.leaked_bits / (a.size * binary_entropy(np.mean(a ^ b)))
        rows.append(
            f"| {q:.2f} | {out.rate:.3f} | {f:.3f} | {out.frame_errors}/{frames} "
            f"({out.detected_failures}) | {a.size / dt / 1e6:.3f} | {build:.1f} |"
        )
    return rows


def bench_pa(sizes: tuple[int, ...], repeats: int) -> list[str]:
    rows = [
        f"### Toeplitz privacy amplification (output = input / 2, float64 rFFT, best of {repeats})",
        "",
        "| input bits | fresh seed Mbit/s | cached seed FFT Mbit/s | FFT length |",
        "|---|---|---|---|",
    ]
    rng = np.random.default_rng(3)
    for n in sizes:
        m = n // 2
        x = rng.integers(0, 2, n, dtype=np.uint8)
        s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
        fresh, cached = [], []
        hasher = ToeplitzHasher(s, n=n, out_len=m)
        for _ in range(repeats):
            t0 = time.perf_counter()
            toeplitz_hash(x, m, s)
            fresh.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hasher(x)
            cached.append(time.perf_counter() - t0)
        rows.append(
            f"| {n:.0e} | {n / min(fresh) / 1e6:.1f} | {n / min(cached) / 1e6:.1f} | "
            f"{hasher.fft_len} |"
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--frames", type=int, default=500, help="Cascade frames per point")
    p.add_argument("--ldpc-frames", type=int, default=60)
    p.add_argument("--quick", action="store_true", help="small run (< 1 min)")
    args = p.parse_args()
    frames, ldpc_frames = (50, 15) if args.quick else (args.frames, args.ldpc_frames)
    sizes = (10**6,) if args.quick else (10**6, 10**7)
    t0 = time.perf_counter()
    lines = ["## QKD post-processing benchmark", ""]
    lines += [*bench_cascade(frames, 10_000), ""]
    lines += [*bench_ldpc(ldpc_frames, 4096), ""]
    lines += [*bench_pa(sizes, 1 if args.quick else 2), ""]
    lines.append(f"total wall time: {time.perf_counter() - t0:.0f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
