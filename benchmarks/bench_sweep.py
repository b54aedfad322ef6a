"""Sweep scaling: 1 -> 2 local workers, Ray overhead per task, a simulated 2-node Ray cluster.

One sweep (the 3-router chain, ``--points`` points of one seed, each point simulating
``--duration-s`` seconds, which sets the work per point) runs on each engine into a fresh
folder: inline (this process, the reference), a local pool of 1 and of 2 processes, a local
Ray instance of 1 CPU, and a ``ray.cluster_utils.Cluster`` of two 1-CPU nodes. For each:
end-to-end wall time, the sum of the points' own wall times (measured inside the worker) and
the overhead per point::

    overhead = (wall x slots - sum of point walls) / sum of point walls

i.e. the share of the engine's capacity not spent inside points (start-up of workers or Ray
included for "cold" rows; "warm" rows time a second sweep on an engine already started).
The fixed cost of a sweep (checking every point, rebuilding the tables; timed by rerunning
the finished sweep) is also shown, and the overhead without it (what scheduling costs). Also
the per-task overhead of no-op tasks on a warm engine. Results must equal the inline run
bit for bit (wall times aside); the script exits 1 if not. Target (issue 17): overhead per
point under 5 % for points of 1 s or more.

Time budget: about 3 minutes on a quiet 2-core machine with the defaults; ``--quick`` in
about 1 minute (4 points of 0.2 s: the overhead then is not the target's case).

Usage:
    .venv/bin/python benchmarks/bench_sweep.py [--points 8] [--duration-s 1.5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from qnetai.sweep import Engine, make_engine, run_sweep, sweep_from_dict


def _spec(points: int, duration_s: float) -> Any:
    lengths = [10.0 + 2.0 * i for i in range(points)]
    return sweep_from_dict(
        {
            "name": "bench-sweep",
            "base": "sequence-chain-3",
            "run": "simulate",
            "seed": 3,
            "seeds": 1,
            "metrics": ["pairs_delivered", "mean_fidelity", "events"],
            "params": [
                {"path": "links[*].length_km", "values": lengths},
                {"path": "duration_s", "values": [duration_s]},
            ],
        }
    )


def _rows(out: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(out / "runs.parquet").to_pylist()
    return sorted(
        ({k: v for k, v in r.items() if k != "run_wall_s"} for r in rows),
        key=lambda r: r["point_index"],
    )


def _noop(x: Any) -> Any:
    return x


def _run(spec: Any, engine: Engine | str, workers: int | None, warm: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        if warm and isinstance(engine, Engine):  # first sweep warms the workers up
            run_sweep(spec, Path(tmp) / "warmup", engine=engine)
        out = Path(tmp) / "s"
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        rep = run_sweep(spec, out, engine=engine, workers=workers)
        wall = time.perf_counter() - t0
        records = [json.loads(p.read_text()) for p in (out / "points").glob("*.json")]
        rows = _rows(out)
        t1 = time.perf_counter()
        again = run_sweep(spec, out, engine="inline")  # every point done: checks + tables
        fixed = time.perf_counter() - t1
        point_wall = sum(r["wall_s"] for r in records)
        point_cpu = sum(r["cpu_s"] for r in records)
        slots = rep.engine.get("slots", 1)
        return {
            "engine": rep.engine,
            "wall_s": wall,
            "driver_cpu_s": time.process_time() - cpu0,
            "point_wall_s": point_wall,
            "point_cpu_s": point_cpu,
            "overhead": (wall * slots - point_wall) / point_wall,
            "fixed_s": fixed,
            "overhead_tasks": ((wall - fixed) * slots - point_wall) / point_wall,
            "failed": rep.failed,
            "failures": rep.failures,
            "rerun_ran": again.done,
            "rows": rows,
        }


def _noop_overhead_ms(engine: Engine, n: int) -> float:
    import concurrent.futures as cf

    list(cf.wait([engine.submit(_noop, i) for i in range(8)])[0])  # warm
    t0 = time.perf_counter()
    futs = [engine.submit(_noop, i) for i in range(n)]
    cf.wait(futs)
    return 1e3 * (time.perf_counter() - t0) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--duration-s", type=float, default=1.5, help="Simulated s per point.")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.points, args.duration_s = 4, 0.2
    spec = _spec(args.points, args.duration_s)
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    results: dict[str, Any] = {}
    results["inline"] = _run(spec, "inline", None, False)
    ref = results["inline"]["rows"]
    results["local-1 (cold)"] = _run(spec, "local", 1, False)
    results["local-2 (cold)"] = _run(spec, "local", 2, False)
    with make_engine("local", workers=1) as eng:
        results["local-1 (warm)"] = _run(spec, eng, None, True)
        noop_local = _noop_overhead_ms(eng, 200)
    with make_engine("local", workers=2) as eng:
        results["local-2 (warm)"] = _run(spec, eng, None, True)
    noop_ray = noop_cluster = None
    if not args.no_ray:
        import ray
        from ray.cluster_utils import Cluster

        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
        try:
            eng = make_engine("ray")
            results["ray-1cpu (warm)"] = _run(spec, eng, None, True)
            noop_ray = _noop_overhead_ms(eng, 200)
        finally:
            ray.shutdown()
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "include_dashboard": False},
        )
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        try:
            eng = make_engine("ray")
            results["ray-cluster-2x1 (warm)"] = _run(spec, eng, None, True)
            noop_cluster = _noop_overhead_ms(eng, 200)
        finally:
            ray.shutdown()
            cluster.shutdown()
    same = {k: v["rows"] == ref and not v["failed"] for k, v in results.items()}
    for k, v in results.items():
        if v["failed"]:
            print(f"{k}: {v['failed']} points failed: {v['failures'][:2]}", file=sys.stderr)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    summary = {
        "points": args.points,
        "duration_s": args.duration_s,
        "runs": {
            k: {kk: vv for kk, vv in v.items() if kk != "rows"} | {"identical": same[k]}
            for k, v in results.items()
        },
        "noop_task_ms": {"local-1": noop_local, "ray-1cpu": noop_ray, "cluster": noop_cluster},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{args.points} points x 1 seed, {args.duration_s} s simulated each; "
            f"point = {results['inline']['point_wall_s'] / args.points:.2f} s wall inline"
        )
        print(
            "| engine | slots | wall s | sum point wall s | overhead | fixed s | "
            "overhead w/o fixed | identical |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for k, v in summary["runs"].items():
            print(
                f"| {k} | {v['engine'].get('slots')} | {v['wall_s']:.2f} | "
                f"{v['point_wall_s']:.2f} | {100 * v['overhead']:.1f} % | {v['fixed_s']:.2f} | "
                f"{100 * v['overhead_tasks']:.1f} % | {v['identical']} |"
            )
        w1, w2 = results["local-1 (warm)"]["wall_s"], results["local-2 (warm)"]["wall_s"]
        c1, c2 = results["local-1 (cold)"]["wall_s"], results["local-2 (cold)"]["wall_s"]
        print(f"speed-up 1 -> 2 workers: {w1 / w2:.2f}x warm, {c1 / c2:.2f}x cold")
        print(f"no-op task round trip (ms): {summary['noop_task_ms']}")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
