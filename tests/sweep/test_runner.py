"""Running sweeps: results equal direct runs, resume, interruption, failures, stopping rules."""

from __future__ import annotations

import json
import math

import pyarrow.parquet as pq
import pytest
from sweep_helpers import tiny

from qnetai import facade
from qnetai.sweep import (
    Engine,
    InlineEngine,
    SweepInterrupted,
    query,
    read_records,
    run_sweep,
    sweep_from_dict,
)
from qnetai.sweep import runner as runner_mod
from qnetai.sweep.worker import mean_interval


@pytest.fixture
def tiny_spec():
    """The tiny sweep, validated."""
    return sweep_from_dict(tiny())


def _metric_rows(out, drop=("run_wall_s",)):
    rows = pq.read_table(out / "runs.parquet").to_pylist()
    return sorted(
        ({k: v for k, v in r.items() if k not in drop} for r in rows),
        key=lambda r: (r["point_index"], r["seed"]),
    )


def test_points_equal_direct_runs_of_the_same_seeds(tmp_path, tiny_spec):
    rep = run_sweep(tiny_spec, tmp_path / "s", engine="inline")
    assert (rep.done, rep.skipped, rep.failed, rep.total) == (4, 0, 0, 4)
    rows = _metric_rows(tmp_path / "s")
    assert len(rows) == 8
    base = facade.load("sequence-chain-3")
    for r in rows[:4]:
        links = [lk.model_copy(update={"length_km": r["links[*].length_km"]}) for lk in base.links]
        sc = base.model_copy(update={"duration_s": r["duration_s"], "links": links})
        direct = facade.simulate(sc, seed=r["seed"]).summary
        assert r["pairs_delivered"] == direct["pairs_delivered"]
        assert r["mean_fidelity"] == pytest.approx(direct["mean_fidelity"], rel=1e-12)
    assert {r["seed"] for r in rows} == {5, 6}


def test_tables_and_sql_agree_with_the_records(tmp_path, tiny_spec):
    out = tmp_path / "s"
    run_sweep(tiny_spec, out, engine="inline")
    _cols, rows = query(
        out,
        "SELECT point_id, pairs_delivered, pairs_delivered_ci_low, "
        "pairs_delivered_ci_high, seeds FROM points ORDER BY point_index",
    )
    records = read_records(out)
    for pid, mean, low, high, seeds in rows:
        values = [r["pairs_delivered"] for r in records[pid]["runs"]]
        m, lo, hi = mean_interval(values)
        assert (mean, seeds) == (m, 2)
        assert (low, high) == pytest.approx((lo, hi)) if math.isfinite(lo) else low is None
    n = query(out, "SELECT count(*) FROM runs r JOIN points p USING (point_id)")[1][0][0]
    assert n == 8
    with pytest.raises(Exception, match="query failed"):
        query(out, "SELECT nope FROM points")


def test_mean_interval_matches_student_t():
    from scipy import stats

    values = [3.0, 5.0, 4.0, 9.0]
    m, lo, hi = mean_interval(values)
    ref = stats.t.interval(0.95, len(values) - 1, loc=m, scale=stats.sem(values))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)


def test_resume_runs_only_missing_points_and_gives_the_same_tables(tmp_path, tiny_spec):
    out = tmp_path / "s"
    run_sweep(tiny_spec, out, engine="inline")
    full = _metric_rows(out)
    records = sorted((out / "points").glob("*.json"))
    records[1].unlink()
    records[3].unlink()
    rep = run_sweep(tiny_spec, out, engine="inline")
    assert (rep.done, rep.skipped) == (2, 2)
    assert _metric_rows(out) == full


class _InterruptAfter(InlineEngine):
    """Runs ``n`` points, then behaves as if Ctrl-C arrived while waiting."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.aborted = False

    def submit(self, fn, arg):
        if self.n == 0:
            raise KeyboardInterrupt
        self.n -= 1
        return super().submit(fn, arg)

    def abort(self) -> None:
        self.aborted = True


def test_interrupt_keeps_finished_points_and_rerun_completes(tmp_path, tiny_spec):
    out = tmp_path / "s"
    eng = _InterruptAfter(1)
    with pytest.raises(SweepInterrupted, match="1 of 4 points recorded") as exc:
        run_sweep(tiny_spec, out, engine=eng)
    assert eng.aborted and exc.value.report.interrupted
    assert len(read_records(out)) == 1
    assert pq.read_table(out / "points.parquet").num_rows == 1  # tables rebuilt after Ctrl-C
    rep = run_sweep(tiny_spec, out, engine="inline")
    assert (rep.done, rep.skipped) == (3, 1)
    ref = tmp_path / "ref"
    run_sweep(tiny_spec, ref, engine="inline")
    assert _metric_rows(out) == _metric_rows(ref)


def test_a_failing_point_is_reported_and_the_others_kept(tmp_path, tiny_spec, monkeypatch):
    real = runner_mod.run_point

    def flaky(task):
        if task["index"] == 2:
            raise RuntimeError("worker died")
        return real(task)

    monkeypatch.setattr(runner_mod, "run_point", flaky)
    out = tmp_path / "s"
    rep = run_sweep(tiny_spec, out, engine="inline")
    assert (rep.done, rep.failed) == (3, 1)
    assert "worker died" in rep.failures[0]["error"]
    statuses = dict(query(out, "SELECT point_index, status FROM points")[1])
    assert statuses == {0: "ok", 1: "ok", 2: "failed", 3: "ok"}
    monkeypatch.setattr(runner_mod, "run_point", real)
    rep = run_sweep(tiny_spec, out, engine="inline")  # failed points run again
    assert (rep.done, rep.skipped, rep.failed) == (1, 3, 0)


def test_unknown_metric_fails_points_with_the_known_names(tmp_path):
    spec = sweep_from_dict(
        tiny(
            metrics=["pairs_delivered", "key_rate_bps"],
            params=[{"path": "duration_s", "values": [0.01]}],
        )
    )
    rep = run_sweep(spec, tmp_path / "s", engine="inline")
    assert rep.failed == 1
    assert (
        "key_rate_bps" in rep.failures[0]["error"] and "pairs_delivered" in rep.failures[0]["error"]
    )


def test_ci_stopping_rule(tmp_path):
    loose = sweep_from_dict(
        tiny(
            seeds=6,
            stop={"min_seeds": 2, "ci_half_width": 100.0},
            params=[{"path": "duration_s", "values": [0.01]}],
        )
    )
    tight = sweep_from_dict(
        tiny(
            seeds=4,
            stop={"min_seeds": 2, "ci_half_width": 1e-9},
            params=[{"path": "duration_s", "values": [0.01]}],
        )
    )
    run_sweep(loose, tmp_path / "a", engine="inline")
    run_sweep(tight, tmp_path / "b", engine="inline")
    (a,) = read_records(tmp_path / "a").values()
    (b,) = read_records(tmp_path / "b").values()
    assert (len(a["runs"]), a["stop_reason"]) == (2, "ci")
    assert (len(b["runs"]), b["stop_reason"]) == (4, "seeds")


def test_another_sweep_in_the_same_folder_is_refused(tmp_path, tiny_spec):
    out = tmp_path / "s"
    run_sweep(tiny_spec, out, engine="inline")
    other = sweep_from_dict(tiny(seed=9))
    with pytest.raises(Exception, match="holds another sweep"):
        run_sweep(other, out, engine="inline")
    info = json.loads((out / "sweep.json").read_text())
    assert info["points"] == 4 and info["engine"]["engine"] == "inline"


def test_optuna_search_finds_the_shorter_links_and_resumes(tmp_path):
    spec = tiny(
        seeds=1,
        search={"mode": "optuna", "samples": 4, "objective": "pairs_delivered"},
        params=[{"path": "links[*].length_km", "low": 5.0, "high": 60.0}],
    )
    out = tmp_path / "s"
    rep = run_sweep(sweep_from_dict(spec), out, engine="inline")
    assert (rep.done, rep.total) == (4, 4)
    info = json.loads((out / "sweep.json").read_text())
    rows = query(out, 'SELECT "links[*].length_km", pairs_delivered FROM points')[1]
    best_len, best_val = max(rows, key=lambda r: r[1])
    assert info["best"]["value"] == best_val
    assert info["best"]["params"]["links[*].length_km"] == best_len
    more = sweep_from_dict({**spec, "search": {**spec["search"], "samples": 6}})
    rep = run_sweep(more, out, engine="inline")
    assert (rep.done, rep.skipped) == (2, 4)


def test_progress_reports_done_total_and_eta(tmp_path, tiny_spec):
    seen = []
    run_sweep(tiny_spec, tmp_path / "s", engine="inline", progress=seen.append)
    assert [p.done for p in seen] == [0, 1, 2, 3, 4]
    assert all(p.total == 4 for p in seen) and seen[-1].eta_s == 0


def test_engine_base_is_usable_as_a_plugin(tmp_path, tiny_spec):
    class Counting(InlineEngine):
        calls = 0

        def submit(self, fn, arg):
            Counting.calls += 1
            return super().submit(fn, arg)

    assert isinstance(Counting(), Engine)
    run_sweep(tiny_spec, tmp_path / "s", engine=Counting())
    assert Counting.calls == 4
