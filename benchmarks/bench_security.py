"""QKD attack detectors beside the textbook baselines: ``qnetai bench security``.

Time budget: about 3-4 minutes on the shared 2-core machine (data ~60 %, the rest training
six gradient-boosting models, one MLP and evaluation; one learner thread). Prints the
Markdown tables of ``benchmarks/README.md`` (or ``--json``: the whole result).

    .venv/bin/python benchmarks/bench_security.py [--seed 0] [--json] [--out FILE.json]

Same as ``qnetai bench security --seed 0``. Data: 120 training links, 60 honest calibration
links and 240 test links of 20 blocks of 2e6 pulses (2 ms at 1 GHz), 5-60 km, receivers and
instruments drawn per link (see ``qnetai.ai.security.datasets``); attacks start between
blocks 5 and 15 at one of six strengths (0.02-0.8 of the pulses).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from qnetai.ai.security.benchmark import run_security_benchmark
from qnetai.cli.security_cmd import format_security_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ap.add_argument("--out", help="also write the JSON result to this file")
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = run_security_benchmark(seed=args.seed)
    out["machine"] = {"python": platform.python_version(), "wall_s": time.perf_counter() - t0}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(format_security_table(out))


if __name__ == "__main__":
    main()
