from datetime import UTC, datetime

import numpy as np

from qnetai.results import catalogue_path, list_runs, record_run


def _row(i, **kw):
    row = {
        "run_id": f"id{i}",
        "scenario": "s",
        "seed": i,
        "started_at": datetime(2025, 1, 1, 0, 0, i, tzinfo=UTC),
        "wall_time_s": 0.5,
        "simulated_s": 1.0,
        "requests_served": 3,
        "pairs_delivered": np.int64(4),
        "mean_fidelity": float("nan"),
        "path": f"/x/run{i}",
    }
    row.update(kw)
    return row


def test_empty_root(tmp_path):
    assert list_runs(tmp_path) == []
    assert list_runs(tmp_path / "missing") == []


def test_rows_newest_first_limit_and_nan(tmp_path):
    for i in range(3):
        record_run(tmp_path, _row(i))
    rows = list_runs(tmp_path)
    assert [r["run_id"] for r in rows] == ["id2", "id1", "id0"]
    assert rows[0]["mean_fidelity"] is None and rows[0]["pairs_delivered"] == 4
    assert [r["run_id"] for r in list_runs(tmp_path, limit=1)] == ["id2"]
    assert catalogue_path(tmp_path).is_file()


def test_same_path_replaces_row(tmp_path):
    record_run(tmp_path, _row(0))
    record_run(tmp_path, _row(1, path="/x/run0", started_at="2025-01-01T00:00:05+00:00"))
    rows = list_runs(tmp_path)
    assert len(rows) == 1 and rows[0]["run_id"] == "id1"
    assert rows[0]["started_at"] == "2025-01-01T00:00:05+00:00"
