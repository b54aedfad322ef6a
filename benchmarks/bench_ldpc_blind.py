"""Blind rate-adaptive LDPC reconciliation: f, frame errors and throughput at QBER 1/2/5 %.

Usage: .venv/bin/python benchmarks/bench_ldpc_blind.py [frames] ['{"code_bits": 65536}']
The optional JSON holds keyword arguments for ``ldpc_reconcile`` (``code_bits`` included,
default 2**16). Env: QS=0.01,0.02 chooses the QBERs; CODES=random,girth6 the mother-code
constructions (default girth6) and DECODERS=batch,layered (default batch) the decoders: every
(codes, decoder) pair runs on the same frames (same keys, same filler bits), so the rows compare
them directly (``ldpc`` is the ``ldpc`` package's BpDecoder: slow, use it with
few frames and ``'{"code_bits": 16384}'``). Time budget: about 2-4 min for 32 frames per QBER
with ``batch,layered`` at load 2. Codes are built and kernels compiled (or loaded from numba's
cache) before timing; the first call's wall time is printed. Throughput = key bits / CPU
seconds of the call (the machine is shared; wall-clock figures are printed too). FER: frames
that end with any residual error (detected failures included), with the exact one-sided 95 %
Clopper-Pearson upper bound. ``agree``: frames decoded by both this decoder and the first one
listed whose corrected keys are identical (out of those decoded by both).
"""

import json
import os
import sys
import time

import numpy as np
from scipy.special import betaincinv

from qnetai.physics import binary_entropy
from qnetai.qkd.ldpc_codes import DEFAULT_CONSTRUCTION, MOTHER_RATES, ldpc_matrix, puncture_order
from qnetai.qkd.ldpc_reconciliation import (
    DEFAULT_CODE_BITS,
    key_bits_per_frame,
    ldpc_reconcile,
)


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    kwargs = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    decoders = os.environ.get("DECODERS", "batch").split(",")
    codes = os.environ.get("CODES", DEFAULT_CONSTRUCTION).split(",")
    runs = [(c, dec) for c in codes for dec in decoders]
    n = int(kwargs.pop("code_bits", DEFAULT_CODE_BITS))
    mod = float(kwargs.get("modulation", 0.1))
    k = key_bits_per_frame(n, mod)
    print(
        f"code_bits={n}, {k} key bits per frame, {frames} frames, options {kwargs}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        "| QBER | codes | decoder | rate | f (decoded frames) | failed / wrong frames "
        "| FER 95 % bound "
        "| mean rounds | agree | kbit/s (CPU) | kbit/s (wall) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    compiled: dict[str, float] = {}
    for q in [float(x) for x in os.environ.get("QS", "0.01,0.02,0.05").split(",")]:
        rng = np.random.default_rng(int(q * 1000) + 17)
        a = rng.integers(0, 2, frames * k, dtype=np.uint8)
        err = rng.random(a.size) < q
        b = a ^ err.astype(np.uint8)
        first = None
        for codes_name, dec in runs:
            opts = {"code_construction": codes_name, **kwargs, "decoder": dec}
            for rate in MOTHER_RATES:  # build the codes outside the timed region
                ldpc_matrix(n, rate, 0, opts["code_construction"])
                puncture_order(n, rate, 0, opts["code_construction"])
            t0 = time.perf_counter()
            ldpc_reconcile(a[:100], b[:100], qber_estimate=q, code_bits=n, **opts)
            compiled.setdefault(dec, time.perf_counter() - t0)
            wall, cpu = time.perf_counter(), time.process_time()
            out = ldpc_reconcile(
                a, b, qber_estimate=q, rng=np.random.default_rng(1), code_bits=n, **opts
            )
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            ok = out.decoded_per_frame
            f = out.leaked_bits_per_frame[ok].sum() / (
                max(ok.sum(), 1) * k * float(binary_entropy(err.mean()))
            )
            bad = out.frame_errors
            upper = float(betaincinv(bad + 1, frames - bad, 0.95)) if bad < frames else 1.0
            wrong = int(np.count_nonzero(out.residual_errors_per_frame[ok]))
            if first is None:
                first, agree = out, "-"
            else:
                both = np.flatnonzero(ok & first.decoded_per_frame)
                same = sum(
                    np.array_equal(
                        out.corrected_bits[i * k : (i + 1) * k],
                        first.corrected_bits[i * k : (i + 1) * k],
                    )
                    for i in both
                )
                agree = f"{same}/{both.size}"
            print(
                f"| {q:.0%} | {codes_name} | {dec} | {out.rate:.2f} | {f:.3f} "
                f"| {out.detected_failures} / "
                f"{wrong} of {frames} | {upper:.1e} | {out.rounds_per_frame.mean():.1f} "
                f"| {agree} | {a.size / cpu / 1e3:.0f} | {a.size / wall / 1e3:.0f} |",
                flush=True,
            )
    print(
        "first call (numba compile or cache load, code build excluded), s: "
        + ", ".join(f"{d} {t:.1f}" for d, t in compiled.items())
    )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
