"""Blind rate-adaptive LDPC reconciliation: f, failed frames and throughput at QBER 1/2/5 %.

Usage: .venv/bin/python benchmarks/bench_ldpc_blind.py [frames] ['{"efficiency_start": 1.05}']
The optional JSON holds keyword arguments for ``ldpc_reconcile``. Time budget: about 2 min for
6 frames per QBER (2^14-bit mother code, 14,746 key bits per frame); codes are built before
timing starts. Set QS=0.01,0.02 to choose the QBERs.
"""

import json
import os
import sys
import time

import numpy as np

from qnetai.physics import binary_entropy
from qnetai.qkd.ldpc_codes import irregular_ldpc_matrix, puncture_order
from qnetai.qkd.ldpc_reconciliation import choose_code, key_bits_per_frame, ldpc_reconcile


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    kwargs = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    n = 1 << 14
    k = key_bits_per_frame(n)
    print("| QBER | f (decoded frames) | failed frames | mean rounds | kbit/s |")
    print("|---|---|---|---|---|")
    for q in [float(x) for x in os.environ.get("QS", "0.01,0.02,0.05").split(",")]:
        rate, _ = choose_code(q)
        irregular_ldpc_matrix(n, rate)
        puncture_order(n, rate)
        rng = np.random.default_rng(int(q * 1000) + 17)
        a = rng.integers(0, 2, frames * k, dtype=np.uint8)
        err = rng.random(a.size) < q
        b = a ^ err.astype(np.uint8)
        start = time.perf_counter()
        out = ldpc_reconcile(a, b, qber_estimate=q, rng=np.random.default_rng(1), **kwargs)
        seconds = time.perf_counter() - start
        ok = out.decoded_per_frame
        f = out.leaked_bits_per_frame[ok].sum() / (ok.sum() * k * float(binary_entropy(err.mean())))
        print(f"| {q:.0%} | {f:.3f} | {out.detected_failures}/{frames} "
              f"| {out.rounds_per_frame.mean():.1f} | {a.size / seconds / 1e3:.1f} |", flush=True)


if __name__ == "__main__":
    main()
