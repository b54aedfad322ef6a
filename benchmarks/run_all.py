"""Run the quick variant of every benchmark (``make bench``) and report each one's wall time.

Each script states its own time budget and full options (see ``benchmarks/README.md``); this
runner uses the short settings so the whole set takes a few minutes on 2 cores. The SeQUeNCe
comparison (``sequence_compare/run.py``) needs a separate virtual environment and is left out
unless ``--with-sequence`` is given. Exits 1 if any script fails.

Usage:
    .venv/bin/python benchmarks/run_all.py [--only bench_scale,bench_resolve] [--with-sequence]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> quick arguments
QUICK: dict[str, list[str]] = {
    "bench_resolve.py": [],
    "bench_scale.py": ["--quick"],
    "bench_chain.py": ["--seconds", "0.5"],
    "bench_qkd_pulses.py": [],
    "bench_privacy.py": [],
    "bench_postprocessing.py": ["--quick"],
    "bench_qkd_agreement.py": ["--quick"],
    "bench_ldpc_blind.py": [],
    "bench_routing.py": ["--nodes", "30", "--slots", "20", "--seeds", "0"],
    "bench_chain_policies.py": ["--episodes", "50", "--cutoff-episodes", "20"],
    "bench_kms.py": ["--pairs", "2", "--rounds", "50"],
    "bench_purification.py": ["--quick"],
    "bench_qec.py": [
        "--distances",
        "3",
        "--shots",
        "20000",
        "--bposd-shots",
        "500",
        "--lookup-train-shots",
        "200000",
    ],
    "bench_qkd_params.py": ["--conditions", "10"],
    "bench_security.py": [],  # no quick mode: about 3-4 min on 2 shared cores
    "bench_sweep.py": ["--quick"],
    "bench_qml.py": ["--quick"],
    "bench_logical_memory.py": ["--quick", "--shots", "20000"],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="Comma-separated script names (without .py).")
    ap.add_argument("--with-sequence", action="store_true", help="Also run sequence_compare.")
    args = ap.parse_args(argv)
    chosen = {f"{s.strip()}.py" for s in args.only.split(",") if s.strip()}
    unknown = chosen - set(QUICK)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    jobs = [(HERE / name, extra) for name, extra in QUICK.items() if not chosen or name in chosen]
    if args.with_sequence:
        jobs.append((HERE / "sequence_compare" / "run.py", ["--repeats", "1"]))
    failed = []
    for script, extra in jobs:
        print(f"== {script.relative_to(HERE)} {' '.join(extra)}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *extra])
        print(
            f"-- {script.name}: exit {code}, {time.perf_counter() - start:.1f} s wall", flush=True
        )
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    print(f"all {len(jobs)} benchmarks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
