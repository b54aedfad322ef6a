"""Threshold sweeps: logical error rate against physical error rate per decoder and distance.

:func:`sweep_threshold` collects, for every distance ``d`` and physical error rate ``p``, the
logical errors of each decoder with sinter-style stopping rules (``max_shots``, and
``max_errors`` reached by every decoder). The ``"inline"`` engine samples each ``(d, p)`` in
seeded batches and decodes **the same shots** with every decoder (reproducible from
``seed``); the ``"sinter"`` engine hands the same tasks to ``sinter.collect`` with qnetai's
decoders as ``custom_decoders`` (sinter's own seeds: not reproducible shot for shot).

:func:`estimate_threshold` estimates each decoder's threshold from those points, either as
the crossing of the two largest distances' curves (``"crossing"``, log-log interpolation) or
by a weighted least-squares fit of the below-threshold ansatz
``p_L = A (p / p_th)^((d + 1) / 2)`` (``"ansatz"``), with a parametric bootstrap interval
(binomial resampling of every point's errors). :func:`threshold_plot_html` draws the curves
(plotly, self-contained HTML) and :func:`write_threshold_plot` writes it atomically.

Example:
    >>> pts = synthetic_points(p_th=0.01, a=0.05, distances=(3, 5), ps=(0.006, 0.008, 0.012),
    ...                        shots=10**9)
    >>> round(estimate_threshold(pts, method="ansatz", bootstrap=0)["p_th"], 4)
    0.01
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qnetai.errors import InputError
from qnetai.qec._bench import LEARNED, logical_error_per_round, wilson_interval
from qnetai.qec._codes import MemoryExperiment

#: Decoders a threshold sweep may run (BP+OSD and lookup are left out: too slow / d = 3 only).
SWEEP_DECODERS: tuple[str, ...] = ("matching", "matching-correlated", "neural", "neural-gated")
ENGINES: tuple[str, ...] = ("inline", "sinter")
METHODS: tuple[str, ...] = ("crossing", "ansatz")
#: Quick profile: a couple of CPU minutes for the classical decoders.
QUICK_PROFILE: dict[str, Any] = {
    "distances": (3, 5, 7),
    "ps": (0.005, 0.007, 0.009, 0.011, 0.013, 0.015),
    "max_shots": 100_000,
    "max_errors": 1_000,
}
#: Full profile (documented in ``benchmarks/README.md``; tens of CPU minutes).
FULL_PROFILE: dict[str, Any] = {
    "distances": (3, 5, 7),
    "ps": (0.004, 0.006, 0.008, 0.009, 0.010, 0.011, 0.012, 0.013, 0.014, 0.016),
    "max_shots": 1_000_000,
    "max_errors": 2_000,
}
PROFILES: dict[str, dict[str, Any]] = {"quick": QUICK_PROFILE, "full": FULL_PROFILE}
#: Largest sweep accepted: distances x ps x decoders.
MAX_TASKS = 200
BATCH_SHOTS = 10_000


def _point(decoder: str, exp: MemoryExperiment, errors: int, shots: int, cpu_s: float) -> dict:
    lo, hi = wilson_interval(errors, shots)
    r = exp.rounds
    return {
        "decoder": decoder,
        "distance": exp.distance,
        "rounds": r,
        "p": float(exp.p),
        "noise": exp.noise,
        "shots": shots,
        "errors": errors,
        "ler_per_shot": errors / shots,
        "ler_per_shot_ci": [lo, hi],
        "ler_per_round": logical_error_per_round(errors / shots, r),
        "ler_per_round_ci": [logical_error_per_round(lo, r), logical_error_per_round(hi, r)],
        "decode_cpu_s": cpu_s,
    }


def _check_sweep(
    distances: Sequence[int],
    ps: Sequence[float],
    decoders: Sequence[str],
    max_shots: int,
    max_errors: int,
    engine: str,
) -> None:
    if not distances or not ps or not decoders:
        raise InputError("distances, ps and decoders must each name at least one value")
    for name in decoders:
        if name not in SWEEP_DECODERS:
            raise InputError(f"decoders: {name!r} is not one of {', '.join(SWEEP_DECODERS)}")
    for p in ps:
        if not (math.isfinite(p) and 0 < p < 0.5):
            raise InputError(f"ps: {p} is not in (0, 0.5)")
    if len(set(distances)) != len(distances) or len(set(ps)) != len(ps):
        raise InputError("distances and ps must not repeat values")
    if max_shots < 1 or max_errors < 1:
        raise InputError(f"max_shots={max_shots}, max_errors={max_errors}: both must be >= 1")
    if engine not in ENGINES:
        raise InputError(f"engine={engine!r} is not one of {', '.join(ENGINES)}")
    if len(distances) * len(ps) * len(decoders) > MAX_TASKS:
        raise InputError(f"{len(distances)} x {len(ps)} x {len(decoders)} tasks > {MAX_TASKS}")


def _model_for(exp: MemoryExperiment, model: str | None) -> str | None:
    from qnetai.qec._bench import _default_model

    if model is not None:
        return model
    return _default_model(exp)


def sweep_threshold(
    *,
    distances: Sequence[int] = QUICK_PROFILE["distances"],
    ps: Sequence[float] = QUICK_PROFILE["ps"],
    decoders: Sequence[str] = ("matching", "matching-correlated"),
    noise: str = "depolarizing",
    code: str = "surface",
    max_shots: int = QUICK_PROFILE["max_shots"],
    max_errors: int = QUICK_PROFILE["max_errors"],
    seed: int = 0,
    engine: str = "inline",
    models: dict[int, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Logical error rates of ``decoders`` over ``distances`` x ``ps`` (rounds = d).

    ``neural`` and ``neural-gated`` (the network only where plain and correlated matching
    disagree) run only at distances with a shipped model for the code and noise (or one in
    ``models``, by distance); skipped ``(decoder, d)`` pairs are listed under ``skipped``.

    Example:
        >>> out = sweep_threshold(distances=(3,), ps=(0.01,), code="repetition",
        ...                       max_shots=2000, max_errors=50, seed=1)
        >>> [(r["decoder"], r["shots"] > 0) for r in out["points"]]
        [('matching', True), ('matching-correlated', True)]
    """
    distances = [int(d) for d in distances]
    ps = sorted(float(p) for p in ps)
    decoders = list(decoders)
    _check_sweep(distances, ps, decoders, max_shots, max_errors, engine)
    plan: list[tuple[MemoryExperiment, list[tuple[str, str | None]]]] = []
    skipped: list[dict[str, Any]] = []
    for d in distances:
        for p in ps:
            exp = MemoryExperiment(code=code, distance=d, rounds=d, p=p, noise=noise)  # type: ignore[arg-type]
            chosen: list[tuple[str, str | None]] = []
            for name in decoders:
                if name not in LEARNED:
                    chosen.append((name, None))
                    continue
                m = _model_for(exp, (models or {}).get(d))
                if m is None:
                    if p == ps[0]:
                        skipped.append({"decoder": name, "distance": d, "reason": "no model"})
                    continue
                chosen.append((name, m))
            plan.append((exp, chosen))
    t0 = time.process_time()
    if engine == "inline":
        points = _collect_inline(plan, max_shots, max_errors, seed, progress)
    else:
        points = _collect_sinter(plan, max_shots, max_errors, progress)
    return {
        "config": {
            "code": code,
            "noise": noise,
            "distances": distances,
            "ps": ps,
            "decoders": decoders,
            "max_shots": max_shots,
            "max_errors": max_errors,
            "seed": seed if engine == "inline" else None,
            "engine": engine,
            "rounds": "d",
            "ci": "95% Wilson",
            "cpu_s": time.process_time() - t0,
            "loadavg": list(os.getloadavg()),
        },
        "points": points,
        "skipped": skipped,
    }


def _collect_inline(
    plan: list[tuple[MemoryExperiment, list[tuple[str, str | None]]]],
    max_shots: int,
    max_errors: int,
    seed: int,
    progress: Callable[[str], None] | None,
) -> list[dict[str, Any]]:
    from qnetai.qec._bench import _make
    from qnetai.qec._sampling import sample

    seeds = np.random.SeedSequence(seed).spawn(len(plan))
    points: list[dict[str, Any]] = []
    for (exp, chosen), ss in zip(plan, seeds, strict=True):
        if not chosen:
            continue
        circuit = exp.circuit()
        compiled = [
            _make(name, lookup_train_shots=0, seed=seed, model=m).for_circuit(circuit)
            for name, m in chosen
        ]
        errors = [0] * len(chosen)
        cpu = [0.0] * len(chosen)
        rng = np.random.default_rng(ss)
        shots = 0
        while shots < max_shots and min(errors) < max_errors:
            n = min(BATCH_SHOTS, max_shots - shots)
            s = sample(circuit, shots=n, seed=int(rng.integers(2**62)))
            for i, dec in enumerate(compiled):
                t = time.process_time()
                pred = dec.decode_batch(s.detection_events)
                cpu[i] += time.process_time() - t
                errors[i] += int(np.any(pred != s.observable_flips, axis=1).sum())
            shots += n
        for i, (name, _) in enumerate(chosen):
            points.append(_point(name, exp, errors[i], shots, cpu[i]))
        if progress is not None:
            progress(f"d={exp.distance} p={exp.p}: {shots} shots, errors {errors}")
    return points


def _collect_sinter(
    plan: list[tuple[MemoryExperiment, list[tuple[str, str | None]]]],
    max_shots: int,
    max_errors: int,
    progress: Callable[[str], None] | None,
) -> list[dict[str, Any]]:
    from qnetai._optional import require
    from qnetai.qec._bench import _make

    sinter = require("sinter", extra="qec")
    tasks = []
    custom: dict[str, Any] = {}
    exps: dict[tuple[int, float], MemoryExperiment] = {}
    for exp, chosen in plan:
        exps[(exp.distance, float(exp.p))] = exp
        circuit = exp.circuit()
        for name, m in chosen:
            key = name if m is None else f"{name}:{m}"
            custom[key] = _make(name, lookup_train_shots=0, seed=0, model=m)
            tasks.append(
                sinter.Task(
                    circuit=circuit,
                    decoder=key,
                    json_metadata={"d": exp.distance, "p": float(exp.p), "decoder": name},
                )
            )

    def report(prog: Any) -> None:
        if progress is not None and prog.status_message:
            progress(str(prog.status_message).splitlines()[0])

    stats = sinter.collect(
        num_workers=1,
        tasks=tasks,
        custom_decoders=custom,
        max_shots=max_shots,
        max_errors=max_errors,
        progress_callback=report,
    )
    points = []
    for st in stats:
        meta = st.json_metadata
        exp = exps[(int(meta["d"]), float(meta["p"]))]
        points.append(_point(meta["decoder"], exp, int(st.errors), int(st.shots), st.seconds))
    points.sort(key=lambda r: (r["distance"], r["p"], SWEEP_DECODERS.index(r["decoder"])))
    return points


# ----------------------------------------------------------------------- estimation


def synthetic_points(
    *,
    p_th: float,
    a: float,
    distances: Sequence[int],
    ps: Sequence[float],
    shots: int,
    decoder: str = "synthetic",
) -> list[dict[str, Any]]:
    """Points following ``p_L = a (p / p_th)^((d + 1) / 2)`` exactly (rounds = 1), for tests.

    Example:
        >>> synthetic_points(p_th=0.01, a=0.1, distances=(3,), ps=(0.01,), shots=1000)[0]["errors"]
        100
    """
    out = []
    for d in distances:
        for p in ps:
            ler = min(a * (p / p_th) ** ((d + 1) / 2), 0.5)
            k = round(ler * shots)
            out.append(
                {
                    "decoder": decoder,
                    "distance": d,
                    "rounds": 1,
                    "p": p,
                    "shots": shots,
                    "errors": k,
                }
            )
    return out


def _rates(points: list[dict[str, Any]], errors: np.ndarray) -> np.ndarray:
    return np.array(
        [
            logical_error_per_round(k / r["shots"], r["rounds"])
            for r, k in zip(points, errors, strict=True)
        ]
    )


def _crossing(
    points: list[dict[str, Any]], rates: np.ndarray, d_lo: int, d_hi: int
) -> float | None:
    lo = {r["p"]: x for r, x in zip(points, rates, strict=True) if r["distance"] == d_lo}
    hi = {r["p"]: x for r, x in zip(points, rates, strict=True) if r["distance"] == d_hi}
    common = sorted(p for p in lo if p in hi and lo[p] > 0 and hi[p] > 0)
    if len(common) < 2:
        return None
    f = [math.log(hi[p]) - math.log(lo[p]) for p in common]
    for i in range(len(common) - 1):
        if f[i] < 0 <= f[i + 1]:
            x0, x1 = math.log(common[i]), math.log(common[i + 1])
            t = -f[i] / (f[i + 1] - f[i])
            return math.exp(x0 + t * (x1 - x0))
    return None


def _ansatz(points: list[dict[str, Any]], rates: np.ndarray, errors: np.ndarray) -> float | None:
    rows, ys, ws = [], [], []
    for r, x, k in zip(points, rates, errors, strict=True):
        if k <= 0 or x <= 0 or x >= 0.25:
            continue
        c = (r["distance"] + 1) / 2
        rows.append([1.0, -c])
        ys.append(math.log(x) - c * math.log(r["p"]))
        ws.append(math.sqrt(k))
    if len(rows) < 2 or len({row[1] for row in rows}) < 2:
        return None
    w = np.array(ws)
    sol, *_ = np.linalg.lstsq(np.array(rows) * w[:, None], np.array(ys) * w, rcond=None)
    return float(math.exp(sol[1]))


def estimate_threshold(
    points: list[dict[str, Any]],
    *,
    method: str = "crossing",
    bootstrap: int = 200,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """Threshold of one decoder's points (``distance``, ``p``, ``shots``, ``errors``, ``rounds``).

    ``"crossing"``: where the largest distance's per-round curve crosses the next largest's
    (log-log linear interpolation); ``"ansatz"``: fit of ``p_L = A (p/p_th)^((d+1)/2)`` to the
    points with ``0 < p_L < 0.25`` (weights: errors). The 95 % interval is the 2.5-97.5
    percentile range of ``bootstrap`` binomial resamples (``rng``); ``p_th`` is None when the
    curves do not cross in the swept range.

    Example:
        >>> pts = synthetic_points(p_th=0.01, a=0.05, distances=(3, 5),
        ...                        ps=(0.008, 0.009, 0.011, 0.012), shots=10**9)
        >>> round(estimate_threshold(pts, bootstrap=0)["p_th"], 4)
        0.01
    """
    if method not in METHODS:
        raise InputError(f"method={method!r} is not one of {', '.join(METHODS)}")
    if bootstrap < 0:
        raise InputError(f"bootstrap={bootstrap} < 0")
    dists = sorted({int(r["distance"]) for r in points})
    if len(dists) < 2:
        return {"method": method, "p_th": None, "ci": None, "note": "needs >= 2 distances"}
    d_lo, d_hi = dists[-2], dists[-1]

    def est(errors: np.ndarray) -> float | None:
        rates = _rates(points, errors)
        if method == "crossing":
            return _crossing(points, rates, d_lo, d_hi)
        return _ansatz(points, rates, errors)

    errors = np.array([int(r["errors"]) for r in points])
    p_th = est(errors)
    out: dict[str, Any] = {
        "method": method,
        "p_th": p_th,
        "ci": None,
        "distances": [d_lo, d_hi] if method == "crossing" else dists,
    }
    if method == "crossing":
        out["pair_crossings"] = {
            f"{a}-{b}": _crossing(points, _rates(points, errors), a, b)
            for a, b in itertools.pairwise(dists)
        }
    if p_th is None:
        out["note"] = "the curves do not cross in the swept range"
        return out
    if bootstrap:
        gen = rng if rng is not None else np.random.default_rng(0)
        shots = np.array([int(r["shots"]) for r in points])
        rate = errors / shots
        draws = [est(gen.binomial(shots, rate)) for _ in range(bootstrap)]
        ok = np.array([x for x in draws if x is not None])
        out["bootstrap"] = bootstrap
        out["bootstrap_found"] = int(ok.size)
        if ok.size:
            out["ci"] = [float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5))]
    return out


def threshold_table(
    sweep: dict[str, Any],
    *,
    method: str = "crossing",
    bootstrap: int = 200,
    rng: np.random.Generator | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`estimate_threshold` for every decoder of a :func:`sweep_threshold` result."""
    gen = rng if rng is not None else np.random.default_rng(0)
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["decoder"] for r in sweep["points"]):
        pts = [r for r in sweep["points"] if r["decoder"] == name]
        out[name] = estimate_threshold(pts, method=method, bootstrap=bootstrap, rng=gen)
    return out


# ----------------------------------------------------------------------------- plot


def threshold_plot_html(sweep: dict[str, Any], thresholds: dict[str, dict[str, Any]]) -> str:
    """A self-contained plotly HTML page: LER per round vs p, one panel per decoder."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(dict.fromkeys(r["decoder"] for r in sweep["points"]))
    if not names:
        raise InputError("the sweep has no points to plot")
    titles = []
    for n in names:
        th = thresholds.get(n, {})
        if th.get("p_th") is None:
            titles.append(f"{n}: no threshold estimate")
        else:
            ci = th.get("ci")
            rng_txt = "" if not ci else f" [{ci[0]:.4f}, {ci[1]:.4f}]"
            titles.append(f"{n}: p_th ≈ {th['p_th']:.4f}{rng_txt}")
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=titles, shared_yaxes=True)
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
    for j, n in enumerate(names, start=1):
        pts = [r for r in sweep["points"] if r["decoder"] == n]
        for k, d in enumerate(sorted({r["distance"] for r in pts})):
            rows = sorted((r for r in pts if r["distance"] == d), key=lambda r: r["p"])
            y = [r["ler_per_round"] for r in rows]
            fig.add_trace(
                go.Scatter(
                    x=[r["p"] for r in rows],
                    y=y,
                    mode="lines+markers",
                    name=f"d = {d}",
                    legendgroup=f"d{d}",
                    showlegend=j == 1,
                    line={"color": palette[k % len(palette)]},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [r["ler_per_round_ci"][1] - r["ler_per_round"] for r in rows],
                        "arrayminus": [r["ler_per_round"] - r["ler_per_round_ci"][0] for r in rows],
                    },
                    customdata=[[r["shots"], r["errors"]] for r in rows],
                    hovertemplate="p=%{x}<br>LER/round=%{y:.3e}<br>shots=%{customdata[0]}"
                    "<br>errors=%{customdata[1]}<extra></extra>",
                ),
                row=1,
                col=j,
            )
        p_th = thresholds.get(n, {}).get("p_th")
        if p_th is not None:
            fig.add_vline(x=p_th, line_dash="dash", line_color="grey", row=1, col=j)
        fig.update_xaxes(type="log", title_text="physical error rate p", row=1, col=j)
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="logical error rate per round (95% Wilson)", row=1, col=1)
    c = sweep["config"]
    fig.update_layout(
        title=f"{c['code']} code memory, rounds = d, {c['noise']} noise; "
        f"max_shots {c['max_shots']}, max_errors {c['max_errors']} ({c['engine']})",
        template="plotly_white",
        height=480,
        width=max(520, 460 * len(names)),
    )
    return str(fig.to_html(include_plotlyjs=True, full_html=True))


def check_plot_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if it names an ``.html`` file in an existing folder, else InputError."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--plot {path}: the file name must end in .html")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--plot {path}: folder {parent} does not exist")
    if target.exists() and (target.is_symlink() or not target.is_file()):
        raise InputError(f"--plot {path}: exists and is not a regular file")
    return target


def write_threshold_plot(path: str | os.PathLike[str], html: str) -> Path:
    """Write ``html`` atomically to ``path`` (its folder must exist; only that file is written)."""
    from qnetai._atomic_files import replace_atomic

    target = check_plot_target(path)
    return replace_atomic(target, lambda tmp: tmp.write_text(html, encoding="utf-8"))
