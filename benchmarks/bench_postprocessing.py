"""QKD post-processing benchmark: Cascade, LDPC reconciliation and Toeplitz privacy amplification.

Time budget: about 15-30 minutes with the defaults on a loaded 2-core machine (``--quick``: a
few minutes). Sections can be skipped with ``--skip cascade,ldpc,pa``.

Run: ``.venv/bin/python benchmarks/bench_postprocessing.py [--frames 500] [--option8-frames 3000]
[--ldpc-frames 20] [--quick]``

Prints markdown tables. Efficiency f = leaked / (n h2(q_actual)); FER = frames with residual
errors / frames; round trips with all frames' messages batched; throughput = key bits / wall s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qnetai.physics import binary_entropy
from qnetai.qkd.cascade import cascade_reconcile
from qnetai.qkd.ldpc_codes import ldpc_matrix, puncture_order
from qnetai.qkd.ldpc_reconciliation import choose_code, key_bits_per_frame, ldpc_reconcile
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
        "| variant | QBER | f (actual q) | f std over frames | FER | round trips | Mbit/s (wall) "
        "| Mbit/s (CPU) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant in ("original", "option7", "option8"):
        for q in QBERS:
            a, b, rng = _keys(frames * frame_bits, q, 1000 + int(q * 1000))
            cascade_reconcile(
                a[:2000],
                b[:2000],
                qber_estimate=q,
                rng=np.random.default_rng(0),
                variant=variant,
                frame_bits=1000,
            )  # compile the kernel outside the timing
            t0, c0 = time.perf_counter(), time.process_time()
            out = cascade_reconcile(
                a, b, qber_estimate=q, rng=rng, variant=variant, frame_bits=frame_bits
            )
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            q_frames = (a ^ b).reshape(frames, frame_bits).mean(axis=1)
            f_frames = out.leaked_bits_per_frame / (frame_bits * binary_entropy(q_frames))
            f = out.leaked_bits / (frame_bits * binary_entropy(q_frames)).sum()
            rows.append(
                f"| {variant} | {q:.2f} | {f:.4f} | {f_frames.std():.4f} | "
                f"{out.frame_errors}/{frames} | {out.round_trips} | {a.size / dt / 1e6:.2f} "
                f"| {a.size / cpu / 1e6:.2f} |"
            )
    return rows


def bench_option8(frames: int, frame_bits: int) -> list[str]:
    rows = [
        f"### Cascade option 8, residual frame errors ({frames} frames x {frame_bits} bits)",
        "",
        "| QBER | frames with residual errors | FER 95 % upper bound | f (actual q) | s |",
        "|---|---|---|---|---|",
    ]
    for q in QBERS:
        a, b, rng = _keys(frames * frame_bits, q, 5000 + int(q * 1000))
        t0 = time.perf_counter()
        out = cascade_reconcile(
            a, b, qber_estimate=q, rng=rng, variant="option8", frame_bits=frame_bits
        )
        dt = time.perf_counter() - t0
        k = out.frame_errors
        # exact one-sided 95 % Clopper-Pearson upper bound (3/frames when k = 0)
        from scipy.stats import beta

        upper = float(beta.ppf(0.95, k + 1, frames - k)) if k < frames else 1.0
        f = out.leaked_bits / (a.size * binary_entropy(np.mean(a ^ b)))
        rows.append(f"| {q:.2f} | {k}/{frames} | {upper:.1e} | {f:.4f} | {dt:.0f} |")
    return rows


def bench_ldpc(frames: int, code_bits: int) -> list[str]:
    k = key_bits_per_frame(code_bits)
    rows = [
        f"### LDPC blind rate-adaptive reconciliation ({frames} frames x {k} key bits, code "
        f"length {code_bits}, Elkouss 2009 irregular codes, layered BP decoder)",
        "",
        "| QBER | mother rate | f (actual q) | FER (detected) | mean / max round trips "
        "| kbit/s | code build s |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in QBERS:
        a, b, rng = _keys(frames * k, q, 2000 + int(q * 1000))
        rate, _ = choose_code(q, code_bits=code_bits)
        t0 = time.perf_counter()
        ldpc_matrix(code_bits, rate, 0)
        puncture_order(code_bits, rate, 0)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = ldpc_reconcile(a, b, qber_estimate=q, rng=rng, code_bits=code_bits)
        dt = time.perf_counter() - t0
        f = out.leaked_bits / (a.size * binary_entropy(np.mean(a ^ b)))
        rows.append(
            f"| {q:.2f} | {out.rate:.2f} | {f:.3f} | {out.frame_errors}/{frames} "
            f"({out.detected_failures}) | {out.rounds_per_frame.mean():.1f} / "
            f"{out.round_trips} | {a.size / dt / 1e3:.1f} | {build:.2f} |"
        )
    return rows


def bench_pa(sizes: tuple[int, ...], repeats: int) -> list[str]:
    rows = [
        f"### Toeplitz privacy amplification (output = input / 2, best of {repeats}; exact, "
        "checked against the lattice of admissible values)",
        "",
        "| input bits | precision | fresh seed Mbit/s | cached seed FFT Mbit/s | FFT length "
        "| path used |",
        "|---|---|---|---|---|---|",
    ]
    rng = np.random.default_rng(3)
    for n in sizes:
        m = n // 2
        x = rng.integers(0, 2, n, dtype=np.uint8)
        s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
        for precision in ("float64", "auto"):
            fresh, cached = [], []
            hasher = ToeplitzHasher(s, n=n, out_len=m, precision=precision)
            hasher(x)
            for _ in range(repeats):
                t0 = time.perf_counter()
                toeplitz_hash(x, m, s, precision=precision)
                fresh.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                hasher(x)
                cached.append(time.perf_counter() - t0)
            rows.append(
                f"| {n:.0e} | {precision} | {n / min(fresh) / 1e6:.1f} | "
                f"{n / min(cached) / 1e6:.1f} | {hasher.fft_len} | {hasher.last_precision} |"
            )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--frames", type=int, default=500, help="Cascade frames per point")
    p.add_argument(
        "--option8-frames",
        type=int,
        default=3000,
        help="Cascade option 8 frames per QBER for the residual-FER bound",
    )
    p.add_argument("--ldpc-frames", type=int, default=20)
    p.add_argument("--ldpc-code-bits", type=int, default=1 << 14)
    p.add_argument("--skip", default="", help="comma list of sections: cascade,option8,ldpc,pa")
    p.add_argument("--quick", action="store_true", help="small run (a few minutes)")
    args = p.parse_args()
    if args.quick:
        frames, o8, ldpc_frames, sizes, reps = 50, 300, 4, (10**6,), 1
    else:
        frames, o8, ldpc_frames = args.frames, args.option8_frames, args.ldpc_frames
        sizes, reps = (10**6, 10**7), 2
    skip = set(filter(None, args.skip.split(",")))
    t0 = time.perf_counter()
    import os

    lines = ["## QKD post-processing benchmark", f"load {os.getloadavg()[0]:.1f}", ""]
    if "cascade" not in skip:
        lines += [*bench_cascade(frames, 10_000), ""]
    if "option8" not in skip:
        lines += [*bench_option8(o8, 10_000), ""]
    if "ldpc" not in skip:
        lines += [*bench_ldpc(ldpc_frames, args.ldpc_code_bits), ""]
    if "pa" not in skip:
        lines += [*bench_pa(sizes, reps), ""]
    lines.append(f"total wall time: {time.perf_counter() - t0:.0f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
