"""``qnetai bench all``: every benchmark of the project behind one command, one leaderboard.

A benchmark is an *entry*: any object with ``name`` (str), ``version`` (str; bump it when the
instances or seeds change), ``description`` and ``run(quick: bool, methods: tuple[str, ...])
-> list[dict]`` returning *comparisons*, one per instance and metric::

    {"instance": "waxman-30, 5 requests/slot", "metric": "pairs/slot",
     "higher_is_better": True,
     "ai": {"method": "rl:waxman-routing", "value": 12.3, "ci": [11.0, 13.6],
            "time_ms": 35.8},
     "baseline": {"method": "ls", "value": 13.6, "ci": [12.3, 14.9], "time_ms": 573.0},
     "note": "..."}

``baseline`` is the strongest classical method on the same instances and seeds; ``ci`` the
95 % interval (or None where the benchmark has none); ``time_ms`` the decision or inference
time per unit the benchmark states. :func:`run_suite` marks the winner: ``tie`` when both
intervals exist and overlap, else the better value (``(no interval)`` is said when one side
has no interval).

The table of entries is built per call (:func:`default_entries`): the built-ins below, the
``ENTRIES`` of any provider module that exists (:data:`PROVIDER_MODULES`, e.g.
``qnetai.tomography.bench_entries``), the entry point group ``qnetai.benchmarks``, and the
caller's ``extra`` entries. Nothing is registered globally. ``methods`` lets a caller put
their own method beside the baselines of an existing benchmark (``routing``: a slot policy
by import path ``pkg.module:Class`` or entry point; ``chain``: a chain model path).

Example:
    >>> board = run_suite(only=["demo"], extra=[DEMO_ENTRY], engine="inline")
    >>> board["rows"][0]["winner"]
    'tie'
"""

from __future__ import annotations

import concurrent.futures as cf
import html
import importlib
import importlib.util
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qnetai.bench_entry import BenchEntry
from qnetai.errors import InputError

#: Modules that may provide more entries (an ``ENTRIES`` sequence), imported if they exist.
PROVIDER_MODULES: tuple[str, ...] = (
    "qnetai.tomography.bench_entries",
    "qnetai.qml.bench_entries",
    "qnetai.ai.bench_entries",
    "qnetai.qec.bench_entries",
    "qnetai.qkd.bench_entries",
)
#: Entry point group for outside benchmarks (objects with name, version, run).
ENTRY_POINT_GROUP = "qnetai.benchmarks"
#: Version of the leaderboard format.
LEADERBOARD_VERSION = "1"


# ----------------------------------------------------------------------------- built-ins

_ROUTING_BASELINES = ("shortest-path", "widest-path", "q-cast", "sa", "ls")
_ROUTING_AI = ("rl:waxman-routing",)


def _side(method: str, value: float, ci: Sequence[float] | None, time_ms: float | None) -> dict:
    return {
        "method": method,
        "value": float(value),
        "ci": None if ci is None else [float(ci[0]), float(ci[1])],
        "time_ms": None if time_ms is None else float(time_ms),
    }


def run_routing(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Q-CAST slot model on Waxman graphs: learned router (and ``methods``) vs best classical."""
    from qnetai.plugins import bench_routing

    cfg: dict[str, Any] = (
        {"nodes": 30, "requests": 5, "slots": 20, "seeds": [0, 1]}
        if quick
        else {"nodes": 50, "requests": 10, "slots": 200, "seeds": [0, 1, 2]}
    )
    contenders = list(_ROUTING_AI) + [m for m in methods if m not in _ROUTING_AI]
    out = bench_routing(
        topology="waxman",
        methods=list(_ROUTING_BASELINES) + contenders,
        milp_reference=False,
        **cfg,
    )
    rows = {r["method"]: r for r in out["rows"]}

    def side(m: str) -> dict:
        r = rows[m]
        ci = (r["throughput_ci_low"], r["throughput_ci_high"])
        return _side(m, r["throughput"], ci, r["decision_time_ms"])

    best = max(_ROUTING_BASELINES, key=lambda m: rows[m]["throughput"])
    inst = f"waxman-{cfg['nodes']}, {cfg['requests']} requests/slot, seeds {cfg['seeds']}"
    return [
        {
            "instance": inst,
            "metric": "pairs/slot",
            "higher_is_better": True,
            "ai": side(m),
            "baseline": side(best),
            "note": "time_ms per slot; baselines: " + ", ".join(_ROUTING_BASELINES),
        }
        for m in contenders
    ]


def run_chain(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Repeater chain: learned policy vs the best of swap-asap/nested/purify (+ cut-offs)."""
    from qnetai.ai.chain_training import bench_chain_policies

    episodes, cut = (100, 40) if quick else (1000, 300)
    out = []
    for model in ("n3-short", *methods):
        rows = bench_chain_policies(model=model, episodes=episodes, cutoff_episodes=cut)
        learned, classical = rows[-1], rows[:-1]
        best = max(classical, key=lambda r: r["delivery_rate_per_slot"])

        def side(r: dict) -> dict:
            v, h = r["delivery_rate_per_slot"], r["delivery_rate_ci95"]
            return _side(r["policy"], v, (v - h, v + h), r["decision_ms_mean"])

        out.append(
            {
                "instance": f"chain model {model}, {episodes} episodes, seed 2024",
                "metric": "valid deliveries/slot",
                "higher_is_better": True,
                "ai": side(learned),
                "baseline": side(best),
                "note": "cut-offs searched on seed 2025; time_ms per decision",
            }
        )
    return out


_SECURITY_BASELINES = ("qber", "cusum-qber", "decoy")


def _wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def run_security(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Attack detection: per family, TPR at the calibrated 1 % false-alarm rate, pooled."""
    from qnetai.ai.security.benchmark import METHODS, run_security_benchmark

    kwargs: dict[str, Any] = {"seed": 0}
    if quick:  # the profile of `qnetai bench security --quick`
        kwargs.update(
            train_episodes=30,
            calib_episodes=15,
            test_episodes=30,
            episode_blocks=12,
            reference_blocks=3,
            block_pulses=500_000,
            cost_pulses=10_000_000,
            gbm_iter=30,
            mlp_iter=30,
        )
    res = run_security_benchmark(**kwargs)
    ai_methods = [m for m in METHODS if m not in _SECURITY_BASELINES]
    families: dict[str, list[dict]] = {}
    for c in res["cells"]:
        families.setdefault(c["family"], []).append(c)
    out = []
    for fam, cells in families.items():
        n = sum(c["blocks"] for c in cells)

        def pooled(m: str, cells: list[dict] = cells, n: int = n) -> dict:
            k = sum(c[m]["tpr"] * c["blocks"] for c in cells)
            return _side(m, k / n, _wilson(k, n), None)

        best_ai = max((pooled(m) for m in ai_methods), key=lambda s: s["value"])
        best_cl = max((pooled(m) for m in _SECURITY_BASELINES), key=lambda s: s["value"])
        out.append(
            {
                "instance": f"{fam}, all strengths, seed 0 ({n} attacked blocks)",
                "metric": "TPR at 1 % false alarms",
                "higher_is_better": True,
                "ai": best_ai,
                "baseline": best_cl,
                "note": "best of each side on the test blocks (both picked the same way); "
                "Wilson intervals treat blocks as independent",
            }
        )
    return out


def run_qkd_params(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Decoy-state parameters: shipped network vs the finite-key optimiser (the reference)."""
    from qnetai.ai.qkd_params import run_qkd_params_benchmark

    n = 6 if quick else 60
    res = run_qkd_params_benchmark(seed=2, n_conditions=n, polish_evaluations=0)
    inst = f"{n} held-out conditions, seed 2 ({res['positive_optimum']} with key)"
    opt_ms = 1e3 * res["optimiser_s_per_query"]
    net_ms = 1e3 * res["net_s_per_query_single"]
    return [
        {
            "instance": inst,
            "metric": "key rate / optimum (mean)",
            "higher_is_better": True,
            "ai": _side("decoy-net", res["mean_ratio"] or 0.0, None, net_ms),
            "baseline": _side("finite-key optimiser", 1.0, None, opt_ms),
            "note": f"worst ratio {res['worst_ratio']}; the optimiser defines the optimum",
        },
        {
            "instance": inst,
            "metric": "ms per query",
            "higher_is_better": False,
            "ai": _side("decoy-net", net_ms, None, net_ms),
            "baseline": _side("finite-key optimiser", opt_ms, None, opt_ms),
            "note": "one query at a time, CPU time (time.process_time)",
        },
    ]


def run_qec(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Surface-code memory: learned decoder vs the best classical decoder, same shots."""
    from qnetai.qec import MemoryExperiment, bench_qec

    shots = 20_000 if quick else 1_000_000
    out = []
    for d in (3,) if quick else (3, 5):
        exp = MemoryExperiment(code="surface", distance=d, rounds=d, p=0.005)
        res = bench_qec(
            exp, shots=shots, seed=0, decoders=["matching", "matching-correlated", "neural"]
        )
        rows = {r["decoder"]: r for r in res["rows"]}
        for cmp in res["comparisons"]:
            if cmp["decoder"] != "neural" or not cmp["versus_is_best_classical"]:
                continue

            def side(m: str, rows: dict[str, Any] = rows) -> dict:
                r = rows[m]
                return _side(m, r["ler_per_round"], r["ler_per_round_ci"], 1e-3 * r["us_per_round"])

            out.append(
                {
                    "instance": f"surface d={d}, {d} rounds, p=0.005, {shots} shots, seed 0",
                    "metric": "logical errors/round",
                    "higher_is_better": False,
                    "ai": side("neural"),
                    "baseline": side(cmp["versus"]),
                    "note": f"paired z = {cmp['paired_z']:.2f} (negative: neural better); "
                    "time_ms per round",
                }
            )
    return out


def _demo(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A trivial entry (for tests and the docs): equal methods, overlapping intervals."""
    return [
        {
            "instance": "demo",
            "metric": "score",
            "higher_is_better": True,
            "ai": _side("ai-demo", 1.0, (0.5, 1.5), 0.1),
            "baseline": _side("classical-demo", 1.1, (0.6, 1.6), 0.1),
        }
    ]


#: A demo entry (not in the default table).
DEMO_ENTRY = BenchEntry("demo", _demo, "a demo entry", "1")

BUILTIN_ENTRIES: tuple[BenchEntry, ...] = (
    BenchEntry("routing", run_routing, "entanglement routing, Q-CAST slot model", "1"),
    BenchEntry("chain", run_chain, "repeater-chain swap/cut-off policies", "1"),
    BenchEntry("security", run_security, "QKD attack detection", "1"),
    BenchEntry("qkd-params", run_qkd_params, "decoy-state parameter choice", "1"),
    BenchEntry("qec", run_qec, "surface-code decoding", "1"),
)


def default_entries() -> list[Any]:
    """The built-ins, then provider modules' ``ENTRIES``, then entry points (built per call)."""
    entries: list[Any] = list(BUILTIN_ENTRIES)
    for name in PROVIDER_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            module = importlib.import_module(name)
            entries.extend(getattr(module, "ENTRIES", ()))
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entries.append(ep.load())
        except Exception as exc:
            raise InputError(f"benchmark entry point {ep.name!r} failed to load: {exc}") from exc
    return entries


# ----------------------------------------------------------------------------- running


def run_entry(task: tuple[Any, bool, tuple[str, ...]]) -> dict[str, Any]:
    """Run one entry (in a worker); its comparisons, or the error (never raises)."""
    entry, quick, methods = task
    t0, c0 = time.monotonic(), time.process_time()
    out: dict[str, Any] = {"name": entry.name, "version": str(getattr(entry, "version", "1"))}
    try:
        out["comparisons"] = list(entry.run(quick, methods))
        out["error"] = None
    except Exception as exc:
        out["comparisons"] = []
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["wall_s"] = time.monotonic() - t0
    out["cpu_s"] = time.process_time() - c0
    return out


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    return not (a[1] < b[0] or b[1] < a[0])


def judge(cmp: Mapping[str, Any]) -> tuple[str, str]:
    """``(winner, verdict)``: ``ai``, ``baseline`` or ``tie``, and why.

    Example:
        >>> judge({"higher_is_better": True, "ai": {"value": 2, "ci": [1.9, 2.1]},
        ...        "baseline": {"value": 1, "ci": [0.9, 1.1]}})
        ('ai', 'intervals separate')
    """
    a, b = cmp["ai"], cmp["baseline"]
    va, vb = float(a["value"]), float(b["value"])
    ca, cb = a.get("ci"), b.get("ci")
    have = ca is not None and cb is not None and all(math.isfinite(x) for x in (*ca, *cb))
    if have and _overlap(ca, cb):
        return "tie", "intervals overlap"
    if va == vb:
        return "tie", "equal values"
    better_ai = va > vb if cmp["higher_is_better"] else va < vb
    winner = "ai" if better_ai else "baseline"
    return winner, "intervals separate" if have else "point estimates (no interval)"


@dataclass
class _Board:
    rows: list[dict[str, Any]] = field(default_factory=list)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)


def run_suite(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    only: Sequence[str] | None = None,
    entries: Sequence[Any] | None = None,
    extra: Sequence[Any] = (),
    methods: Mapping[str, Sequence[str]] | None = None,
    engine: Any = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[str, int, int], Any] | None = None,
) -> dict[str, Any]:
    """Run the benchmarks (each a task on the engine) and build the leaderboard.

    ``entries`` replaces :func:`default_entries`; ``extra`` adds entries for this call;
    ``only`` picks entries by name; ``methods`` maps an entry name to the caller's own
    methods for it. With ``out``, writes ``leaderboard.json`` and ``leaderboard.html`` there
    (atomically). Returns the leaderboard as plain data.
    """
    from qnetai.sweep.engine import Engine, make_engine
    from qnetai.sweep.store import replace_atomic, write_json_atomic

    table = list(default_entries() if entries is None else entries) + list(extra)
    names = [e.name for e in table]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"benchmark names must be unique (repeated: {', '.join(dup)})")
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise InputError(f"unknown benchmarks {unknown} (known: {', '.join(names)})")
        table = [e for e in table if e.name in only]
    methods = dict(methods or {})
    unknown_m = [n for n in methods if n not in names]
    if unknown_m:
        raise InputError(f"methods for unknown benchmarks {unknown_m}")
    t0 = time.monotonic()
    eng = (
        engine
        if isinstance(engine, Engine)
        else make_engine(engine, workers=workers, address=address)
    )
    results: dict[str, dict[str, Any]] = {}
    try:
        futures = {
            eng.submit(run_entry, (e, quick, tuple(methods.get(e.name, ())))): e.name for e in table
        }
        for fut in cf.as_completed(futures):
            res = fut.result()
            results[res["name"]] = res
            if progress is not None:
                progress(res["name"], len(results), len(table))
    except KeyboardInterrupt:
        eng.abort()
        raise
    finally:
        if not isinstance(engine, Engine):
            eng.close()
    board = _Board()
    for e in table:
        res = results[e.name]
        board.benchmarks.append(
            {k: res[k] for k in ("name", "version", "error", "wall_s", "cpu_s")}
            | {"description": getattr(e, "description", "")}
        )
        for cmp in res["comparisons"]:
            winner, verdict = judge(cmp)
            board.rows.append({"benchmark": e.name, **cmp, "winner": winner, "verdict": verdict})
    from qnetai import __version__

    doc = {
        "leaderboard_version": LEADERBOARD_VERSION,
        "qnetai_version": __version__,
        "profile": "quick" if quick else "full",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": eng.describe(),
        "elapsed_s": time.monotonic() - t0,
        "benchmarks": board.benchmarks,
        "rows": board.rows,
    }
    if out is not None:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"out: {folder} exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / "leaderboard.json", doc)
        page = leaderboard_html(doc)
        replace_atomic(folder / "leaderboard.html", lambda p: p.write_text(page, "utf-8"))
    return doc


# ----------------------------------------------------------------------------- output


def _fmt(side: Mapping[str, Any]) -> str:
    v = side["value"]
    ci = side.get("ci")
    text = f"{v:.4g}"
    if ci is not None and all(math.isfinite(x) for x in ci):
        text += f" [{ci[0]:.4g}, {ci[1]:.4g}]"
    return text


def format_leaderboard(doc: Mapping[str, Any]) -> str:
    """Plain-text (Markdown) table of a leaderboard."""
    lines = [
        f"leaderboard ({doc['profile']} profile, qnetai {doc['qnetai_version']}, "
        f"{doc['elapsed_s']:.0f} s)",
        "",
        "| benchmark | instance | metric | AI method | value [95% CI] | best classical | "
        "value [95% CI] | winner |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        a, b = r["ai"], r["baseline"]
        win = {"ai": a["method"], "baseline": b["method"], "tie": "tie"}[r["winner"]]
        lines.append(
            f"| {r['benchmark']} | {r['instance']} | {r['metric']} | {a['method']} | {_fmt(a)} "
            f"| {b['method']} | {_fmt(b)} | {win} ({r['verdict']}) |"
        )
    for b in doc["benchmarks"]:
        if b["error"]:
            lines.append(f"\n{b['name']}: FAILED: {b['error']}")
    return "\n".join(lines)


def leaderboard_html(doc: Mapping[str, Any]) -> str:
    """A self-contained HTML page of a leaderboard (no scripts, no external files)."""
    e = html.escape
    head = (
        "<tr><th>benchmark</th><th>instance</th><th>metric</th><th>AI method</th>"
        "<th>value [95% CI]</th><th>time ms</th><th>best classical</th>"
        "<th>value [95% CI]</th><th>time ms</th><th>winner</th><th>note</th></tr>"
    )
    body = []
    for r in doc["rows"]:
        a, b = r["ai"], r["baseline"]
        cls = r["winner"]

        def t(s: Mapping[str, Any]) -> str:
            return "-" if s.get("time_ms") is None else f"{s['time_ms']:.3g}"

        win = {"ai": a["method"], "baseline": b["method"], "tie": "tie"}[cls]
        body.append(
            f"<tr class='{cls}'><td>{e(r['benchmark'])}</td><td>{e(r['instance'])}</td>"
            f"<td>{e(r['metric'])}{' (lower is better)' if not r['higher_is_better'] else ''}"
            f"</td><td>{e(a['method'])}</td><td>{e(_fmt(a))}</td><td>{t(a)}</td>"
            f"<td>{e(b['method'])}</td><td>{e(_fmt(b))}</td><td>{t(b)}</td>"
            f"<td><b>{e(win)}</b><br><small>{e(r['verdict'])}</small></td>"
            f"<td><small>{e(str(r.get('note', '')))}</small></td></tr>"
        )
    bench = "".join(
        f"<li>{e(b['name'])} v{e(b['version'])}: {e(b['description'])}, "
        f"{b['wall_s']:.1f} s wall, {b['cpu_s']:.1f} s CPU"
        + (f" <b>FAILED: {e(b['error'])}</b>" if b["error"] else "")
        + "</li>"
        for b in doc["benchmarks"]
    )
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}"
        "tr.ai td{background:#eef8ee}tr.baseline td{background:#f8eeee}"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>qnetai leaderboard</title>"
        f"<style>{style}</style></head><body><h1>qnetai leaderboard</h1>"
        f"<p>{e(doc['profile'])} profile, qnetai {e(str(doc['qnetai_version']))}, "
        f"{e(doc['created_at'])}, {doc['elapsed_s']:.0f} s on {e(str(doc['engine']))}. "
        "Each AI method beside the strongest classical method on the same instances and "
        "seeds; winner: <i>tie</i> when the 95 % intervals overlap.</p>"
        f"<table>{head}{''.join(body)}</table><h2>Benchmarks</h2><ul>{bench}</ul>"
        "</body></html>"
    )


__all__ = [
    "BUILTIN_ENTRIES",
    "DEMO_ENTRY",
    "ENTRY_POINT_GROUP",
    "PROVIDER_MODULES",
    "BenchEntry",
    "default_entries",
    "format_leaderboard",
    "judge",
    "leaderboard_html",
    "run_entry",
    "run_suite",
]
