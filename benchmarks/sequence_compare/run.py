"""Side-by-side benchmark: SeQUeNCe 1.3.1 and qnetai on the same scenarios, in one run.

One command, from the repository root, with qnetai's interpreter::

    .venv/bin/python benchmarks/sequence_compare/run.py [--repeats 3] [--skip-sequence]
        [--scenarios link-2,chain-3,chain-5,chain-9-f90,chain-9-f95]

* Creates ``benchmarks/.venv-sequence`` (gitignored) if missing, with Python 3.12
  (``/root/.pyenv/versions/3.12.1/bin/python3.12`` or ``--sequence-python``), and
  ``pip install sequence==1.3.1`` into it. SeQUeNCe 1.3.1 needs Python >= 3.12 (on 3.11 pip
  silently picks 0.8.5) and pulls a heavy dependency set of its own (qutip, jupyterlab,
  matplotlib, pandas, seaborn, stim, ...): the install takes a few minutes.
* Runs every scenario ``--repeats`` times in each simulator, alternating, each run in a fresh
  subprocess (SeQUeNCe through its venv, qnetai through this interpreter), one at a time.
* Prints a markdown table of medians and writes ``benchmarks/results/sequence_compare.json``
  atomically.
* qnetai runs with swap confirmation on (``operations.swapping.confirm: true``), SeQUeNCe's
  confirm-before-swap protocol, so both simulators do the same work (``--no-confirm``:
  qnetai's default protocol instead). ``chain-9-f90`` is different work whatever the protocol
  (SeQUeNCe's end memories stay blocked by below-target pairs, qnetai discards them) and is
  left out of the speed ratio on equal work.

Time budget: SeQUeNCe needs roughly 10 s (link-2), 45 s (chain-3), 2 min (chain-5), 15 s
(chain-9-f90) and 5 min (chain-9-f95) per repeat on an idle core (about 9 min for all), and up
to 4x that on a loaded shared machine (``--repeats 1`` took 35 min at load average 5 on 2
cores); qnetai needs well under a second per scenario. The default (all scenarios, 3 repeats)
therefore takes about 30 min on an idle core; use ``--scenarios`` to leave out chain-9-f95
and chain-5, which are 80 % of it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / "benchmarks" / ".venv-sequence"
RESULTS = ROOT / "benchmarks" / "results" / "sequence_compare.json"
SEQUENCE_VERSION = "1.3.1"
DEFAULT_PY312 = "/root/.pyenv/versions/3.12.1/bin/python3.12"
SCENARIOS = ("link-2", "chain-3", "chain-5", "chain-9-f90", "chain-9-f95")
DESCRIPTIONS = {
    "link-2": "2 routers, 10 memories, link generation only",
    "chain-3": "3-router chain (40 km), raw 0.9",
    "chain-5": "5-router chain (80 km), raw 0.9",
    "chain-9-f90": "9-router chain (160 km), raw 0.9 (different work, see README)",
    "chain-9-f95": "9-router chain (160 km), raw 0.95",
}
#: scenarios on which both simulators do the same work (the speed ratio is taken over these)
EQUAL_WORK = ("link-2", "chain-3", "chain-5", "chain-9-f95")
#: SeQUeNCe's own figures from the anchor (sequence-anchor.md), for reference in the JSON
ANCHOR = {
    "link-2": {"wall_time_s": 8.7, "events": 271_000, "pairs": 4275, "fidelity": 0.900},
    "chain-3": {"wall_time_s": 43.6, "events": 460_000, "pairs": 3844, "fidelity": 0.812},
    "chain-5": {"wall_time_s": 130.0, "events": 772_000, "pairs": 3011, "fidelity": 0.671},
    "chain-9-f90": {"wall_time_s": 12.9, "events": None, "pairs": 0, "fidelity": None},
    "chain-9-f95": {"wall_time_s": 321.0, "events": 1_200_000, "pairs": 2181, "fidelity": 0.673},
}


def venv_python() -> Path:
    """The SeQUeNCe venv's interpreter."""
    return VENV / "bin" / "python"


def ensure_sequence_venv(python312: str) -> str:
    """Create the SeQUeNCe venv and install ``sequence==1.3.1`` if needed; return its version."""
    py = venv_python()
    if not py.exists():
        print(f"creating {VENV} with {python312} ...", file=sys.stderr)
        subprocess.run([python312, "-m", "venv", str(VENV)], check=True)
    probe = [str(py), "-c", "from importlib.metadata import version; print(version('sequence'))"]
    found = subprocess.run(probe, capture_output=True, text=True)
    if found.returncode != 0 or found.stdout.strip() != SEQUENCE_VERSION:
        print(
            f"installing sequence=={SEQUENCE_VERSION} (pulls its own deps; minutes) ...",
            file=sys.stderr,
        )
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", f"sequence=={SEQUENCE_VERSION}"], check=True
        )
        found = subprocess.run(probe, capture_output=True, text=True, check=True)
    version = found.stdout.strip()
    if version != SEQUENCE_VERSION:
        raise SystemExit(f"error: {VENV} has sequence {version}, need {SEQUENCE_VERSION}")
    return version


def run_one(
    python: str,
    script: str,
    scenario: str,
    seed: int,
    timeout_s: float,
    extra: tuple[str, ...] = (),
) -> dict:
    """Run one scenario script in a subprocess and parse its JSON line."""
    cmd = [python, str(HERE / script), "--scenario", scenario, "--seed", str(seed), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {scenario} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - t0
    return out


def _median(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise(runs: list[dict]) -> dict:
    """Medians over repeats of the figures the table shows."""
    if not runs:
        return {}
    sim_s = runs[0]["simulated_s"]
    out = {
        "repeats": len(runs),
        "simulated_s": sim_s,
        "wall_time_s": _median(runs, "wall_time_s"),
        "cpu_time_s": _median(runs, "cpu_time_s"),
        "events": _median(runs, "events"),
        "pairs_delivered": _median(runs, "pairs_delivered"),
        "mean_fidelity": _median(runs, "mean_fidelity"),
    }
    out["wall_s_per_simulated_s"] = out["wall_time_s"] / sim_s
    out["cpu_s_per_simulated_s"] = (
        out["cpu_time_s"] / sim_s if out["cpu_time_s"] is not None else None
    )
    return out


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def table(results: dict) -> str:
    """Markdown table of the medians."""
    head = (
        "| scenario | SeQUeNCe wall s / sim s | qnetai wall s / sim s | speed-up (wall) "
        "| speed-up (CPU) | pairs SeQUeNCe / qnetai | fidelity SeQUeNCe / qnetai "
        "| events SeQUeNCe / qnetai |\n|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for name, res in results.items():
        s, q = res.get("sequence", {}), res["qnetai"]
        sw, qw = s.get("wall_s_per_simulated_s"), q["wall_s_per_simulated_s"]
        sc, qc = s.get("cpu_s_per_simulated_s"), q["cpu_s_per_simulated_s"]
        up_w = sw / qw if sw and qw else None
        up_c = sc / qc if sc and qc else None
        pairs_s = _fmt(s.get("pairs_delivered"), ",.0f")
        events_s = _fmt(s.get("events"), ",.0f")
        rows.append(
            f"| {name}: {DESCRIPTIONS[name]} | {_fmt(sw, '.2f')} | {_fmt(qw, '.3f')} "
            f"| {_fmt(up_w, ',.0f')}x | {_fmt(up_c, ',.0f')}x{'' if name in EQUAL_WORK else ' *'} "
            f"| {pairs_s} / {_fmt(q['pairs_delivered'], ',.0f')} "
            f"| {_fmt(s.get('mean_fidelity'), '.3f')} / {_fmt(q['mean_fidelity'], '.3f')} "
            f"| {events_s} / {_fmt(q['events'], ',.0f')} |"
        )
    ratios = equal_work_ratios(results)
    if ratios:
        lo, hi = min(ratios.values()), max(ratios.values())
        gm = statistics.geometric_mean(list(ratios.values()))
        rows.append(
            f"\nSpeed ratio on equal work (CPU s per simulated s, SeQUeNCe / qnetai) over "
            f"{', '.join(ratios)}: {lo:,.0f}x to {hi:,.0f}x, geometric mean {gm:,.0f}x"
        )
    if any(name not in EQUAL_WORK for name in results):
        rows.append("\n\\* different work (not in the speed ratio): see the README")
    return "\n".join(rows)


def equal_work_ratios(results: dict) -> dict[str, float]:
    """CPU speed ratio SeQUeNCe / qnetai of each equal-work scenario run by both."""
    out = {}
    for name, res in results.items():
        s, q = res.get("sequence", {}), res["qnetai"]
        sc, qc = s.get("cpu_s_per_simulated_s"), q.get("cpu_s_per_simulated_s")
        if name in EQUAL_WORK and sc and qc:
            out[name] = sc / qc
    return out


def write_atomic(path: Path, doc: dict) -> None:
    """Write JSON to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sequence_compare.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _document(args, seq_version, started, load_before, results, raw, *, complete) -> dict:
    return {
        "benchmark": "sequence_compare",
        "complete": complete,
        "started": started,
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "repeats": args.repeats,
        "sequence_version": seq_version,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_now": os.getloadavg(),
        },
        "qnetai_swap_confirm": not args.no_confirm,
        "equal_work": list(EQUAL_WORK),
        "speed_ratio_cpu_equal_work": equal_work_ratios(results),
        "results": results,
        "runs": raw,
        "table_markdown": table(results),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="runs per simulator (median)")
    ap.add_argument("--skip-sequence", action="store_true", help="run qnetai only")
    ap.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    ap.add_argument(
        "--sequence-python",
        default=DEFAULT_PY312,
        help="Python >= 3.12 used to create the SeQUeNCe venv",
    )
    ap.add_argument(
        "--no-confirm",
        action="store_true",
        help="run qnetai without swap confirmation (its default protocol; not equal work)",
    )
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per simulator run")
    ap.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown or not names:
        ap.error(f"--scenarios must be a subset of {','.join(SCENARIOS)} (got {unknown or names})")
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1 (got {args.repeats})")

    seq_version = None if args.skip_sequence else ensure_sequence_venv(args.sequence_python)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    raw: dict[str, dict[str, list[dict]]] = {}
    for name in names:
        raw[name] = {"sequence": [], "qnetai": []}
        for rep in range(args.repeats):
            if not args.skip_sequence:
                r = run_one(str(venv_python()), "sequence_scenarios.py", name, rep, args.timeout)
                raw[name]["sequence"].append(r)
                print(
                    f"{name} rep {rep}: SeQUeNCe {r['wall_time_s']:.1f} s wall, "
                    f"{r['pairs_delivered']} pairs",
                    file=sys.stderr,
                    flush=True,
                )
            extra = ("--no-confirm",) if args.no_confirm else ()
            r = run_one(sys.executable, "qnetai_scenarios.py", name, rep, args.timeout, extra)
            raw[name]["qnetai"].append(r)
            print(
                f"{name} rep {rep}: qnetai {r['wall_time_s']:.3f} s wall, "
                f"{r['pairs_delivered']} pairs",
                file=sys.stderr,
                flush=True,
            )
        results[name] = {
            "description": DESCRIPTIONS[name],
            "sequence": summarise(raw[name]["sequence"]),
            "qnetai": summarise(raw[name]["qnetai"]),
            "sequence_anchor": ANCHOR[name],
        }
        # written after every scenario (atomically), so a long run leaves usable results
        write_atomic(
            args.out,
            _document(
                args, seq_version, started, load_before, results, raw, complete=name == names[-1]
            ),
        )
    print(table(results))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
