"""Parameter sweeps: local process pool or Ray, resumable, results in Parquet and DuckDB.

A sweep file names a base scenario, the fields to vary (grid, random, or an optuna search
for an objective), seeds and stopping rules per point (:mod:`qnetai.sweep.spec`). Each point
runs through :func:`qnetai.facade.run_scenario` (or :func:`qnetai.facade.simulate`) on an
engine (:mod:`qnetai.sweep.engine`: this process, a local process pool, or Ray), its record
lands atomically in the sweep folder, and reruns skip finished points
(:mod:`qnetai.sweep.store`). ``qnetai bench all`` (:mod:`qnetai.sweep.suite`) runs every
benchmark of the project on the same engines.

Example:
    >>> import tempfile
    >>> spec = sweep_from_dict({"base": "sequence-chain-3", "run": "simulate",
    ...     "params": [{"path": "duration_s", "values": [0.01]}]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     run_sweep(spec, d, engine="inline").done
    1
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qnetai.sweep.engine import Engine, InlineEngine, LocalEngine, RayEngine, make_engine
from qnetai.sweep.plot import plot_sweep
from qnetai.sweep.points import Point, SweepPlan, set_path
from qnetai.sweep.runner import SweepInterrupted, SweepProgress, SweepReport, run_sweep
from qnetai.sweep.spec import (
    MAX_POINTS,
    MAX_RUNS,
    SweepSpec,
    load_sweep,
    sweep_from_dict,
)
from qnetai.sweep.store import query, read_records, write_tables


def check_sweep(sweep: str | Path | SweepSpec) -> dict[str, Any]:
    """Validate a sweep (file or spec) and its points' scenarios; nothing runs.

    See :meth:`SweepPlan.check_points` for which points get the full runnable check.

    Returns ``{"points", "seeds", "mode"}``; raises :class:`~qnetai.errors.InputError`.
    """
    from qnetai.facade import check_runnable

    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    plan = SweepPlan(spec)
    if spec.search.mode == "optuna":
        check_runnable(plan.base, allow_large=spec.allow_large)
    else:
        plan.check_points(plan.points())
    return {"points": plan.n_points, "seeds": spec.seeds, "mode": spec.search.mode}


__all__ = [
    "MAX_POINTS",
    "MAX_RUNS",
    "Engine",
    "InlineEngine",
    "LocalEngine",
    "Point",
    "RayEngine",
    "SweepInterrupted",
    "SweepPlan",
    "SweepProgress",
    "SweepReport",
    "SweepSpec",
    "check_sweep",
    "load_sweep",
    "make_engine",
    "plot_sweep",
    "query",
    "read_records",
    "run_sweep",
    "set_path",
    "sweep_from_dict",
    "write_tables",
]
