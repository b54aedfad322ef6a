"""Blind rate-adaptive LDPC reconciliation: f, frame errors and throughput at QBER 1/2/5 %.

Usage: .venv/bin/python benchmarks/bench_ldpc_blind.py [frames] ['{"decoder": "ldpc"}']
The optional JSON holds keyword arguments for ``ldpc_reconcile`` (``code_bits`` included,
default 2**16). Env: QS=0.01,0.02 chooses the QBERs. Time budget: about 1-2 min for 40 frames
per QBER with the default layered decoder; the ``ldpc``-package decoder
(``'{"decoder": "ldpc", "code_bits": 16384}'``) needs about 1 min for 6 frames. Codes are built
and the kernel compiled before timing. Throughput = key bits / CPU seconds of the call (the
machine is shared; wall-clock figures are printed too). FER: frames that end with any residual
error (detected failures included), with the exact one-sided 95 % Clopper-Pearson upper bound.
"""

import json
import os
import sys
import time

import numpy as np
from scipy.stats import beta

from qnetai.physics import binary_entropy
from qnetai.qkd.ldpc_codes import irregular_ldpc_matrix, puncture_order
from qnetai.qkd.ldpc_reconciliation import (
    DEFAULT_CODE_BITS,
    choose_code,
    key_bits_per_frame,
    ldpc_reconcile,
)


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    kwargs = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    n = int(kwargs.pop("code_bits", DEFAULT_CODE_BITS))
    mod = float(kwargs.get("modulation", 0.1))
    k = key_bits_per_frame(n, mod)
    print(
        f"code_bits={n}, {k} key bits per frame, {frames} frames, options {kwargs}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        "| QBER | rate | f (decoded frames) | failed / wrong frames | FER 95 % bound "
        "| mean rounds | kbit/s (CPU) | kbit/s (wall) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for q in [float(x) for x in os.environ.get("QS", "0.01,0.02,0.05").split(",")]:
        start = {x: kwargs[x] for x in ("efficiency_start",) if x in kwargs}
        rate, _ = choose_code(q, code_bits=n, modulation=mod, **start)
        irregular_ldpc_matrix(n, rate)
        puncture_order(n, rate)
        rng = np.random.default_rng(int(q * 1000) + 17)
        a = rng.integers(0, 2, frames * k, dtype=np.uint8)
        err = rng.random(a.size) < q
        b = a ^ err.astype(np.uint8)
        ldpc_reconcile(a[:100], b[:100], qber_estimate=q, code_bits=n, **kwargs)  # compile
        wall, cpu = time.perf_counter(), time.process_time()
        out = ldpc_reconcile(
            a, b, qber_estimate=q, rng=np.random.default_rng(1), code_bits=n, **kwargs
        )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        ok = out.decoded_per_frame
        f = out.leaked_bits_per_frame[ok].sum() / (ok.sum() * k * float(binary_entropy(err.mean())))
        bad = out.frame_errors
        upper = float(beta.ppf(0.95, bad + 1, frames - bad)) if bad < frames else 1.0
        wrong = int(np.count_nonzero(out.residual_errors_per_frame[ok]))
        print(
            f"| {q:.0%} | {out.rate:.2f} | {f:.3f} | {out.detected_failures} / {wrong} of "
            f"{frames} | {upper:.1e} | {out.rounds_per_frame.mean():.1f} "
            f"| {a.size / cpu / 1e3:.0f} | {a.size / wall / 1e3:.0f} |",
            flush=True,
        )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
