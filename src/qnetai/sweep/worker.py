"""One point of a sweep, run where the engine puts it (this process, a pool worker, Ray).

:func:`run_point` takes a plain mapping (picklable, no open files) and returns the point's
record: one row of metrics per seed and why it stopped. It never raises for a failing
point: the error is the record (``status: "failed"``), so one bad point loses nothing else.

Example:
    >>> from qnetai.facade import load
    >>> task = {"point_id": "p", "index": 0, "params": {}, "run": "simulate",
    ...         "scenario": load("sequence-chain-3").model_copy(
    ...             update={"duration_s": 0.01}).model_dump(mode="json"),
    ...         "seeds": [0, 1], "stop": None, "stop_metric": None, "metrics": ["pairs_delivered"]}
    >>> rec = run_point(task)
    >>> rec["status"], len(rec["runs"])
    ('ok', 2)
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any


def metrics_of(summary: Mapping[str, Any], qkd: Mapping[str, Any] | None) -> dict[str, float]:
    """The numeric figures of a run: the engine summary, then ``qkd_<key>`` of the key network."""
    out: dict[str, float] = {}
    items = list(summary.items())
    if qkd is not None:
        items += [(f"qkd_{k}", v) for k, v in qkd.items()]
    for key, value in items:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out[key] = float(value)
    return out


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95 % Student-t interval ``(mean, low, high)`` (NaN bounds for one value).

    Example:
        >>> [round(x, 3) for x in mean_interval([1.0, 2.0, 3.0])]
        [2.0, -0.484, 4.484]
    """
    from scipy.special import stdtrit

    n = len(values)
    mean = math.fsum(values) / n if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = float(stdtrit(n - 1, 0.975)) * math.sqrt(var / n)
    return mean, mean - half, mean + half


def _stop_reason(task: Mapping[str, Any], rows: list[dict[str, Any]], started: float) -> str | None:
    stop = task.get("stop")
    if stop is None or len(rows) < int(stop["min_seeds"]):
        return None
    metric = task.get("stop_metric")
    if metric is not None and stop.get("ci_half_width") is not None:
        values = [r[metric] for r in rows if metric in r]
        mean, low, high = mean_interval(values)
        half = (high - low) / 2
        scale = abs(mean) if stop.get("relative", True) else 1.0
        if math.isfinite(half) and half <= float(stop["ci_half_width"]) * scale:
            return "ci"
    budget = stop.get("time_budget_s")
    if budget is not None and time.monotonic() - started >= float(budget):
        return "time"
    return None


def run_point(task: Mapping[str, Any]) -> dict[str, Any]:
    """Run the seeds of one point until done or a stopping rule fires; the point's record.

    ``task`` keys: ``point_id``, ``index``, ``params``, ``scenario`` (mapping), ``run``
    (``"full"``: :func:`qnetai.facade.run_scenario`; ``"simulate"``: the simulation alone),
    ``seeds`` (list), ``stop`` (mapping or None), ``stop_metric``, ``metrics`` (names, or
    None for every numeric figure), and optionally ``allow_large``.
    """
    from qnetai import facade
    from qnetai.config import scenario_from_dict

    started = time.monotonic()
    cpu0 = time.process_time()
    record: dict[str, Any] = {
        "point_id": task["point_id"],
        "index": task["index"],
        "params": dict(task["params"]),
        "status": "ok",
        "error": None,
        "stop_reason": "seeds",
        "runs": [],
    }
    rows: list[dict[str, Any]] = record["runs"]
    wanted = task.get("metrics")
    try:
        scenario = scenario_from_dict(dict(task["scenario"]), source=f"point {task['index']}")
        for seed in task["seeds"]:
            t0 = time.monotonic()
            if task["run"] == "full":
                run = facade.run_scenario(
                    scenario, seed=int(seed), allow_large=bool(task.get("allow_large"))
                )
                figures = metrics_of(run.summary, run.qkd_summary)
            else:
                sim = facade.simulate(scenario, seed=int(seed))
                figures = metrics_of(sim.summary, None)
            if wanted is not None:
                missing = [m for m in wanted if m not in figures]
                if missing:
                    raise KeyError(
                        f"metrics {missing} are not figures of this run (known: "
                        f"{', '.join(sorted(figures))})"
                    )
                figures = {m: figures[m] for m in wanted}
            stop_metric = task.get("stop_metric")
            if stop_metric is not None and stop_metric not in figures:
                raise KeyError(f"stop metric {stop_metric!r} is not a figure of this run")
            rows.append({"seed": int(seed), "run_wall_s": time.monotonic() - t0, **figures})
            reason = _stop_reason(task, rows, started)
            if reason is not None:
                record["stop_reason"] = reason
                break
    except Exception as exc:
        record["status"] = "failed"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["stop_reason"] = "error"
    record["wall_s"] = time.monotonic() - started
    record["cpu_s"] = time.process_time() - cpu0
    return record


__all__ = ["mean_interval", "metrics_of", "run_point"]
