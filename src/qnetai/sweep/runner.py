"""Run a sweep on an engine: resumable, with progress, failures kept per point.

:func:`run_sweep` checks every point up front (scenario validation with field paths, the
work limits of :func:`qnetai.facade.check_runnable`), skips the points whose record is
already in the folder, keeps ``engine.slots`` points in flight, writes each record as its
point finishes, and rebuilds the Parquet and DuckDB tables at the end, after Ctrl-C too.

Example:
    >>> import tempfile
    >>> from qnetai.sweep.spec import sweep_from_dict
    >>> spec = sweep_from_dict({"base": "sequence-chain-3", "run": "simulate",
    ...     "params": [{"path": "duration_s", "values": [0.01, 0.02]}]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     rep = run_sweep(spec, d, engine="inline")
    >>> rep.done, rep.failed, rep.skipped
    (2, 0, 0)
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qnetai.errors import QnetaiError
from qnetai.sweep import store
from qnetai.sweep.engine import Engine, make_engine
from qnetai.sweep.points import Point, SweepPlan
from qnetai.sweep.spec import SweepSpec
from qnetai.sweep.worker import run_point


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: points ``done`` (this run and before) of ``total``, time left."""

    done: int
    total: int
    failed: int
    elapsed_s: float
    eta_s: float | None


@dataclass
class SweepReport:
    """What a sweep run did: points ``done`` now, ``skipped`` (done before), ``failed``."""

    out: Path
    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    engine: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return {
            "out": str(self.out),
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "interrupted": self.interrupted,
            "elapsed_s": self.elapsed_s,
            "engine": self.engine,
            "failures": self.failures,
            "rows": self.rows,
        }


class SweepInterrupted(QnetaiError):
    """Ctrl-C stopped the sweep; finished points are recorded and the tables rebuilt."""

    def __init__(self, report: SweepReport) -> None:
        super().__init__(
            f"{report.skipped + report.done} of {report.total} points recorded in "
            f"{report.out}; run the same command again to continue"
        )
        self.report = report


def _task(plan: SweepPlan, point: Point, scenario: dict[str, Any]) -> dict[str, Any]:
    spec = plan.spec
    return {
        "point_id": point.point_id,
        "index": point.index,
        "params": point.params,
        "scenario": scenario,
        "run": spec.run,
        "seeds": [spec.seed + k for k in range(spec.seeds)],
        "stop": None if spec.stop is None else spec.stop.model_dump(mode="json"),
        "stop_metric": spec.stop_metric,
        "metrics": spec.metrics,
        "allow_large": spec.allow_large,
    }


def _failed_record(point: Point, message: str) -> dict[str, Any]:
    return {
        "point_id": point.point_id,
        "index": point.index,
        "params": point.params,
        "status": "failed",
        "error": message,
        "stop_reason": "error",
        "runs": [],
        "wall_s": 0.0,
        "cpu_s": 0.0,
    }


class _Optuna:
    """An optuna study fed by finished points (ask as slots free up, tell as points finish)."""

    def __init__(self, plan: SweepPlan, done: dict[str, dict[str, Any]]) -> None:
        from qnetai._optional import require

        optuna = require("optuna", extra="sweep")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.plan = plan
        spec = plan.spec
        self.objective = str(spec.search.objective)
        self.dists: dict[str, Any] = {}
        for p in spec.params:
            if p.values is not None:
                self.dists[p.path] = optuna.distributions.CategoricalDistribution(p.values)
            elif p.integer:
                self.dists[p.path] = optuna.distributions.IntDistribution(
                    int(p.low or 0), int(p.high or 0), log=p.log
                )
            else:
                self.dists[p.path] = optuna.distributions.FloatDistribution(
                    float(p.low or 0), float(p.high or 0), log=p.log
                )
        sampler = optuna.samplers.TPESampler(seed=spec.seed)
        self.study = optuna.create_study(direction=spec.search.direction, sampler=sampler)
        self.trials: dict[str, Any] = {}
        self.next_index = 1 + max((int(r.get("index", -1)) for r in done.values()), default=-1)
        for rec in sorted(done.values(), key=lambda r: int(r.get("index", 0))):
            value = self.value(rec)
            state = optuna.trial.TrialState.COMPLETE if value is not None else None
            if state is None:
                continue
            self.study.add_trial(
                optuna.trial.create_trial(
                    params=rec["params"], distributions=self.dists, value=value, state=state
                )
            )

    def value(self, rec: dict[str, Any]) -> float | None:
        rows = [r for r in rec.get("runs", []) if r.get(self.objective) is not None]
        if rec.get("status") != "ok" or not rows:
            return None
        return sum(float(r[self.objective]) for r in rows) / len(rows)

    def ask(self) -> Point:
        trial = self.study.ask(self.dists)
        point = self.plan.point(self.next_index, dict(trial.params))
        self.next_index += 1
        self.trials[point.point_id] = trial
        return point

    def tell(self, rec: dict[str, Any]) -> None:
        trial = self.trials.pop(str(rec["point_id"]), None)
        if trial is None:
            return
        value = self.value(rec)
        if value is None:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, value)

    def best(self) -> dict[str, Any] | None:
        try:
            t = self.study.best_trial
        except ValueError:
            return None
        return {"params": dict(t.params), "value": float(t.value)}


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    engine: str | Engine = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[SweepProgress], Any] | None = None,
) -> SweepReport:
    """Run (or continue) ``spec`` into folder ``out``; a :class:`SweepReport`.

    ``engine``: ``"local"`` (a pool of ``workers`` processes), ``"ray"`` (``address`` of a
    cluster, or a local instance), ``"inline"``, or an :class:`Engine` object. Points whose
    record says ``ok`` are skipped; failed points are run again. Raises
    :class:`SweepInterrupted` after Ctrl-C (records and tables are written first) and
    :class:`~qnetai.errors.InputError` for a bad sweep, before anything runs.
    """
    started = time.monotonic()
    plan = SweepPlan(spec)
    records = store.read_records(out) if Path(out).is_dir() else {}
    # check every point before anything runs or is written (optuna: the base scenario)
    tasks: list[tuple[Point, dict[str, Any]]] = []
    optuna_search: _Optuna | None = None
    if spec.search.mode == "optuna":
        from qnetai.facade import check_runnable

        check_runnable(plan.base, allow_large=spec.allow_large)
    else:
        points = plan.points()
        tasks = list(zip(points, plan.check_points(points), strict=True))
    info = {
        "name": spec.name,
        "sweep_hash": plan.sweep_hash,
        "spec": spec.model_dump(mode="json"),
        "points": plan.n_points,
    }
    root = store.open_folder(out, info)
    done_ok = {pid: r for pid, r in records.items() if r.get("status") == "ok"}
    report = SweepReport(out=root, total=plan.n_points)
    if spec.search.mode == "optuna":
        optuna_search = _Optuna(plan, done_ok)
        report.skipped = min(len(done_ok), plan.n_points)
        todo_count = plan.n_points - report.skipped
        queue: list[tuple[Point, dict[str, Any]]] = []
    else:
        queue = [(p, s) for p, s in tasks if p.point_id not in done_ok]
        report.skipped = len(tasks) - len(queue)
        todo_count = len(queue)
    queue.reverse()  # pop() from the end in point order

    own_engine = not isinstance(engine, Engine)
    if isinstance(engine, Engine):
        eng = engine
    elif todo_count == 0:
        eng = make_engine("inline")  # nothing to run: start no pool or cluster
    else:
        eng = make_engine(engine, workers=workers, address=address)
    report.engine = eng.describe()
    info["engine"] = report.engine
    store.write_json_atomic(root / store.SPEC_FILE, info)
    in_flight: dict[cf.Future[Any], Point] = {}
    submitted = 0
    run_started = time.monotonic()

    def emit() -> None:
        if progress is None:
            return
        finished = report.done + report.failed
        elapsed = time.monotonic() - run_started
        left = todo_count - finished
        eta = elapsed / finished * left if finished else None
        progress(
            SweepProgress(
                done=report.skipped + finished,
                total=report.total,
                failed=report.failed,
                elapsed_s=elapsed,
                eta_s=eta,
            )
        )

    def next_task() -> tuple[Point, dict[str, Any]] | None:
        if optuna_search is not None:
            if submitted >= todo_count:
                return None
            point = optuna_search.ask()
            try:
                return point, plan.check_point(point)
            except QnetaiError as exc:
                rec = _failed_record(point, str(exc))
                finish(point, rec)
                return next_task()
        return queue.pop() if queue else None

    def finish(point: Point, rec: dict[str, Any]) -> None:
        store.write_record(root, rec)
        if optuna_search is not None:
            optuna_search.tell(rec)
        if rec.get("status") == "ok":
            report.done += 1
        else:
            report.failed += 1
            report.failures.append(
                {"point_id": point.point_id, "params": point.params, "error": rec.get("error")}
            )
        emit()

    try:
        emit()
        while True:
            while len(in_flight) < max(1, eng.slots):
                item = next_task()
                if item is None:
                    break
                point, scenario = item
                submitted += 1
                in_flight[eng.submit(run_point, _task(plan, point, scenario))] = point
            if not in_flight:
                break
            finished, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                point = in_flight.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:
                    rec = _failed_record(point, f"worker lost: {type(exc).__name__}: {exc}")
                finish(point, rec)
    except KeyboardInterrupt:
        eng.abort()
        report.interrupted = True
    finally:
        if own_engine:
            eng.close()
        report.rows = store.write_tables(root)
        report.elapsed_s = time.monotonic() - started
        if optuna_search is not None:
            best = optuna_search.best()
            if best is not None:
                info["best"] = best
                store.write_json_atomic(root / store.SPEC_FILE, info)
    if report.interrupted:
        raise SweepInterrupted(report)
    return report


__all__ = ["SweepInterrupted", "SweepProgress", "SweepReport", "run_sweep"]
