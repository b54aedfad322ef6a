"""QKD attack detectors beside the textbook baselines: ``qnetai bench security``.

Time budget: about 2 CPU-minutes at the defaults (2 ms blocks; 4-6 minutes wall on the
shared 2-core machine at load 8-10: data ~60 %, the rest training the change-point
detector, six gradient-boosting models, one MLP and evaluation; one learner thread).
Longer blocks cost in proportion to the clicks: a link of 20 blocks of 1e8 pulses (100 ms,
operator size) takes 0.5 CPU-s at 60 km, 11 at 5 km, about 4 on average over 5-60 km (a
default-size run would take ~25 CPU-minutes); the README's longer-block run is
``--block-pulses 1e7 --train-links 80 --calib-links 80 --test-links 160``.
Prints the Markdown tables of ``benchmarks/README.md`` (or ``--json``: the whole result).

    .venv/bin/python benchmarks/bench_security.py [--seed 0] [--block-pulses 2e6]
        [--train-links 160] [--calib-links 160] [--test-links 400] [--json] [--out FILE.json]

Same as ``qnetai bench security`` with the same options. Data: links of 20 blocks, 5-60 km,
receivers and instruments drawn per link (see ``qnetai.ai.security.datasets``); attacks
start between blocks 5 and 15 at one of six strengths (0.02-0.8 of the pulses).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time

from qnetai.ai.security.benchmark import run_security_benchmark
from qnetai.cli.security_cmd import format_security_table


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--block-pulses", type=float, default=2e6)
    ap.add_argument("--train-links", type=int, default=160)
    ap.add_argument("--calib-links", type=int, default=160)
    ap.add_argument("--test-links", type=int, default=400)
    ap.add_argument("--link-window", type=int, default=None, help="K (default 5)")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ap.add_argument("--out", help="also write the JSON result to this file (atomically)")
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_security_benchmark(
        seed=args.seed,
        block_pulses=int(args.block_pulses),
        train_episodes=args.train_links,
        calib_episodes=args.calib_links,
        test_episodes=args.test_links,
        link_window_blocks=args.link_window,
    )
    out["machine"] = {
        "python": platform.python_version(),
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average_end": os.getloadavg(),
    }
    if args.out:
        folder = os.path.dirname(os.path.abspath(args.out))
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
        os.replace(tmp, args.out)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(format_security_table(out))
        m = out["machine"]
        print(f"\nwall {m['wall_s']:.0f} s, CPU {m['cpu_s']:.0f} s, load {m['load_average_end']}")


if __name__ == "__main__":
    main()
