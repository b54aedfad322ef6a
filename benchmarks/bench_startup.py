"""Start-up: ``qnetai --help`` and ``qnetai run`` end to end, trees side by side (issue 11 §5).

Each tree is a ``src`` folder put first on ``PYTHONPATH`` (``git archive COMMIT src | tar -x``
makes one; ``.`` is this checkout's ``src``). Every command runs ``--repeats`` times,
interleaved across trees; the script prints median wall seconds and median CPU seconds
(user + sys of the child, ``resource.getrusage``), the load average before and after, and
whether the run folders agree (every Parquet table ``Table.equals``, NaN equal to NaN;
``summary.json`` and ``qkd_summary.json`` equal apart from wall times). Budget: about 10 s
of CPU per ``run`` repeat and tree at metro-6g.

    git archive 9ccfb6b src | tar -x -C /tmp/pre
    .venv/bin/python benchmarks/bench_startup.py --tree pre=/tmp/pre/src --tree new=.
    .venv/bin/python benchmarks/bench_startup.py --tree pre=/tmp/pre/src --tree new=. \\
        --only run --stages    # also CPU seconds per stage (in-process timers)
    .venv/bin/python benchmarks/bench_startup.py --tree old=/tmp/old/src --tree new=. \\
        --scenario new=/tmp/metro-6g-no-incidents.yaml --only run --no-report
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BARE_TYPER = """
import typer
app = typer.Typer(add_completion=False, rich_markup_mode="rich")
@app.command()
def a() -> None:
    "A."
@app.command()
def b() -> None:
    "B."
app()
"""


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one command; fails loudly on a non-zero status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _env(src: str) -> dict[str, str]:
    path = str((ROOT / "src") if src == "." else Path(src).resolve())
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "100"}


def _qnetai(args: list[str]) -> list[str]:
    return [sys.executable, "-c", "import sys; sys.argv[0] = 'qnetai'; " + _MAIN, *args]


_MAIN = "from qnetai.cli.main import main; main()"

#: One ``qnetai run`` in a fresh interpreter with CPU seconds (``time.process_time``) per
#: stage: the facade's check, simulation, key network and monitoring, the report, and the
#: rest (interpreter start, imports, loading the scenario, writing). Prints one JSON line.
_STAGES = """
import json, sys, time
import qnetai.facade as F
import qnetai.report as R
cpu = {}
def wrap(mod, name):
    f = getattr(mod, name)
    def g(*a, **k):
        t = time.process_time()
        try:
            return f(*a, **k)
        finally:
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - t
    setattr(mod, name, g)
for n in ("check_runnable", "simulate", "key_network", "monitor"):
    wrap(F, n)
wrap(R, "render_html")
sys.argv = ["qnetai", "run", *sys.argv[1:]]
from qnetai.cli.main import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
cpu["total"] = time.process_time()
cpu["rest"] = cpu["total"] - sum(v for k, v in cpu.items() if k != "total")
print("@@" + json.dumps({k: round(v, 3) for k, v in cpu.items()}))
"""


def _stages(src: str, scenario: str, out: Path, no_report: bool) -> dict[str, float]:
    """CPU seconds per stage of one ``qnetai run`` of ``scenario`` with tree ``src``."""
    cmd = [sys.executable, "-c", _STAGES, scenario, "--out", str(out), "--json"]
    cmd += ["--no-report"] if no_report else []
    proc = subprocess.run(cmd, env=_env(src), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"stages of {src} exited {proc.returncode}: {proc.stderr[-2000:]}")
    out_json: dict[str, float] = json.loads(proc.stdout.rsplit("@@", 1)[1])
    return out_json


def _strip(d: object) -> object:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if "wall_time" not in k}
    if isinstance(d, list):
        return [_strip(x) for x in d]
    return d


def _same(x: object, y: object) -> bool:
    """Equal values, NaN equal to NaN (floats inside lists and structs too)."""
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same(u, v) for u, v in zip(x, y, strict=True))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return x == y


def _tables_equal(x: Any, y: Any) -> bool:
    """``Table.equals`` (schema and values), NaN-aware: equal NaNs count as equal."""
    if x.equals(y):
        return True
    return bool(x.schema.equals(y.schema) and _same(x.to_pylist(), y.to_pylist()))


def compare_runs(a: Path, b: Path) -> list[str]:
    """Differences between two run folders (empty: the same outputs)."""
    import pyarrow.parquet as pq

    out = []
    ta = sorted(p.name for p in a.glob("*.parquet"))
    tb = sorted(p.name for p in b.glob("*.parquet"))
    if ta != tb:
        out.append(f"tables {sorted(set(ta) ^ set(tb))}")
    for name in sorted(set(ta) & set(tb)):
        if not _tables_equal(pq.read_table(a / name), pq.read_table(b / name)):
            out.append(name)
    for name in ("summary.json", "qkd_summary.json"):
        x: Any = _strip(json.loads((a / name).read_text())) if (a / name).exists() else {}
        y: Any = _strip(json.loads((b / name).read_text())) if (b / name).exists() else {}
        if x != y:
            keys = sorted(k for k in {**x, **y} if x.get(k) != y.get(k))
            out.append(f"{name} {keys}")
    return out


def main() -> None:
    """Run the measurements and print a markdown table and the comparison of outputs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", action="append", required=True, help="NAME=SRC (first: baseline)")
    ap.add_argument("--scenario", action="append", default=[], help="NAME=SCENARIO per tree")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=("help", "run"), default=None)
    ap.add_argument("--no-report", action="store_true", help="qnetai run --no-report")
    ap.add_argument(
        "--stages",
        action="store_true",
        help="also CPU s per stage of qnetai run (one in-process timed run per tree and repeat)",
    )
    args = ap.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree)
    scen = {"": "metro-6g", **dict(s.split("=", 1) for s in args.scenario)}
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {}
    if args.only in (None, "help"):
        rows["`qnetai --help`"] = {name: [] for name in trees}
        rows["`qnetai --help`"]["bare typer app"] = []
        for _ in range(args.repeats):
            for name, src in trees.items():
                rows["`qnetai --help`"][name].append(_timed(_qnetai(["--help"]), _env(src)))
            rows["`qnetai --help`"]["bare typer app"].append(
                _timed([sys.executable, "-c", BARE_TYPER, "--help"], dict(os.environ))
            )
    if args.only in (None, "run"):
        label = "`qnetai run " + ("--no-report " if args.no_report else "") + "--json`"
        rows[label] = {name: [] for name in trees}
        work = Path(tempfile.mkdtemp(prefix="bench_startup_"))
        try:
            for k in range(args.repeats):
                for name, src in trees.items():
                    out = work / f"{name}-{k}"
                    cmd = ["run", scen.get(name, scen[""]), "--out", str(out), "--json"]
                    cmd += ["--no-report"] if args.no_report else []
                    rows[label][name].append(_timed(_qnetai(cmd), _env(src)))
            names = list(trees)
            for name in names[1:]:
                diff = compare_runs(work / f"{names[0]}-0", work / f"{name}-0")
                print(f"outputs {names[0]} vs {name}: {'identical' if not diff else diff}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if args.stages:
        work = Path(tempfile.mkdtemp(prefix="bench_startup_stages_"))
        try:
            staged: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for k in range(args.repeats):
                for name, src in trees.items():
                    out = work / f"{name}-{k}"
                    staged[name].append(_stages(src, scen.get(name, scen[""]), out, args.no_report))
            print(f"\nCPU s per stage of qnetai run (medians of {args.repeats}):")
            for name, runs in staged.items():
                med = {key: statistics.median(r.get(key, 0.0) for r in runs) for key in runs[0]}
                print(f"  {name}: " + ", ".join(f"{key} {v:.3f}" for key, v in med.items()))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    print(f"\nmedians of {args.repeats} interleaved runs (wall s / CPU s):\n")
    for label, per in rows.items():
        base = statistics.median(w for w, _ in per[next(iter(trees))])
        base_cpu = statistics.median(c for _, c in per[next(iter(trees))])
        for name, vals in per.items():
            wall = statistics.median(w for w, _ in vals)
            cpu = statistics.median(c for _, c in vals)
            print(
                f"| {label} | {name} | {wall:.3f} | {cpu:.3f} | "
                f"{base / wall:.2f}x | {base_cpu / cpu:.2f}x |"
            )


if __name__ == "__main__":
    main()
