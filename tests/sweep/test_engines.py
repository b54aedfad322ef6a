"""The same sweep on a small local Ray instance: the inline results (local pool: test_cli).

Ray starts once for the module (it costs seconds); every Ray check shares that instance.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from qnetai.sweep import run_sweep
from qnetai.sweep.suite import DEMO_ENTRY, run_suite


def _rows(out):
    rows = pq.read_table(out / "runs.parquet").to_pylist()
    return sorted(
        ({k: v for k, v in r.items() if k != "run_wall_s"} for r in rows),
        key=lambda r: (r["point_index"], r["seed"]),
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory, request):
    from sweep_helpers import tiny

    from qnetai.sweep import sweep_from_dict

    spec = sweep_from_dict(tiny())
    out = tmp_path_factory.mktemp("ref") / "s"
    run_sweep(spec, out, engine="inline")
    return spec, _rows(out)


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_gives_the_inline_results_and_resumes(tmp_path, reference, ray_instance):
    spec, ref = reference
    out = tmp_path / "s"
    rep = run_sweep(spec, out, engine="ray")
    assert rep.engine["engine"] == "ray" and rep.done == 4
    assert _rows(out) == ref
    assert ray_instance.is_initialized()  # an instance it did not start is left running
    for path in sorted((out / "points").glob("*.json"))[:2]:
        path.unlink()
    rep = run_sweep(spec, out, engine="ray")
    assert (rep.done, rep.skipped) == (2, 2)
    assert _rows(out) == ref


def test_bench_suite_runs_on_ray(tmp_path, ray_instance):
    board = run_suite(entries=[DEMO_ENTRY], engine="ray", out=tmp_path)
    assert board["engine"]["engine"] == "ray"
    assert board["rows"][0]["winner"] == "tie"
    assert (tmp_path / "leaderboard.html").is_file()
