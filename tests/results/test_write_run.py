import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import qnetai.results._atomic as atomic
import qnetai.results.writer as writer
from qnetai.config import load_scenario
from qnetai.errors import InputError
from qnetai.results import default_run_dir, list_runs, read_run, write_run
from qnetai.results.synthetic import synthetic_result
from qnetai.sim.result import SCHEMAS, TABLE_NAMES


@pytest.fixture(scope="module")
def result():
    return synthetic_result(nodes=4, deliveries=40, seed=3)


def _leftovers(parent):
    """Temporary folders in ``parent`` or in any folder inside it."""
    found = []
    for p in [parent, *(c for c in parent.iterdir() if c.is_dir())]:
        found += [
            q.name for q in p.iterdir() if q.name.startswith((".qnetai-tmp-", ".qnetai-old-"))
        ]
    return found


def _rows(table):
    """Row dicts with NaN made comparable (NaN != NaN)."""
    nan = "<nan>"
    return [
        {k: nan if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in table.to_pylist()
    ]


def _same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


def test_parquet_round_trip_and_files(tmp_path, result):
    out = write_run(result, tmp_path / "runs" / "r1")
    assert out == (tmp_path / "runs" / "r1").absolute()
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.parquet" for t in TABLE_NAMES} | {
        "summary.json",
        "scenario.yaml",
        "run.json",
        ".qnetai-run",
    }
    view = read_run(out)
    for name in TABLE_NAMES:
        table = getattr(view, name)
        assert table.schema.equals(SCHEMAS[name])
        assert _rows(table) == _rows(getattr(result, name)), name
        assert pq.read_table(out / f"{name}.parquet").num_rows == getattr(result, name).num_rows
    assert view.scenario == result.scenario
    assert load_scenario(out / "scenario.yaml") == result.scenario
    assert set(view.summary) == set(result.summary)
    assert all(_same(result.summary[k], view.summary[k]) for k in result.summary)
    assert view.meta["scenario"] == "synthetic" and view.meta["rows"]["deliveries"] == 40
    assert set(view.meta["files"]) == names - {".qnetai-run"}
    assert json.loads((out / ".qnetai-run").read_text())["run_id"] == view.meta["run_id"]
    assert not _leftovers(out.parent)


def test_nan_summary_is_strict_json(tmp_path):
    empty = synthetic_result(deliveries=0)
    assert math.isnan(empty.summary["mean_fidelity"])
    out = write_run(empty, tmp_path / "r", catalogue=False)
    text = (out / "summary.json").read_text()
    assert "NaN" not in text
    assert json.loads(text)["mean_fidelity"] is None


def test_catalogue_row_after_run(tmp_path, result):
    started = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    out = write_run(result, tmp_path / "runs" / "r1", started_at=started, run_id="abc123")
    assert (tmp_path / "runs" / "catalogue.duckdb").is_file()
    rows = list_runs(tmp_path / "runs")
    assert len(rows) == 1
    row = rows[0]
    assert row["run_id"] == "abc123"
    assert row["scenario"] == "synthetic" and row["seed"] == 3
    assert row["started_at"] == started.isoformat()
    assert row["path"] == str(out)
    assert row["pairs_delivered"] == 40
    assert row["requests_served"] == result.summary["requests_served"]
    assert row["mean_fidelity"] == pytest.approx(result.summary["mean_fidelity"])
    assert row["simulated_s"] == pytest.approx(1.0)
    write_run(result, tmp_path / "runs" / "r2")
    assert len(list_runs(tmp_path / "runs")) == 2


def test_refuses_non_empty_dir_unless_overwrite(tmp_path, result):
    target = tmp_path / "runs" / "r"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("old")
    with pytest.raises(InputError, match="not empty"):
        write_run(result, target)
    assert (target / "keep.txt").read_text() == "old"
    assert not (tmp_path / "runs" / "catalogue.duckdb").exists()
    with pytest.raises(InputError, match="only a qnetai run folder"):  # keep.txt is not ours
        write_run(result, target, overwrite=True, run_id="one")
    assert (target / "keep.txt").read_text() == "old"
    (target / "keep.txt").unlink()
    write_run(result, target, overwrite=True, run_id="one")
    assert (target / "summary.json").is_file()
    write_run(result, target, overwrite=True, run_id="two")
    rows = list_runs(tmp_path / "runs")
    assert [r["run_id"] for r in rows] == ["two"]  # the replaced run's row is gone
    assert not _leftovers(target.parent)


def test_empty_existing_dir_is_fine(tmp_path, result):
    (tmp_path / "r").mkdir()
    out = write_run(result, tmp_path / "r", catalogue=False)
    assert (out / "links.parquet").is_file()


def test_out_dir_that_is_a_file(tmp_path, result):
    (tmp_path / "r").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        write_run(result, tmp_path / "r")


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_nothing(tmp_path, result, monkeypatch, exc):
    real = writer.write_bytes
    calls = []

    def flaky(path, data):
        calls.append(path.name)
        if path.name == "scenario.yaml":  # after the Parquet files and summary.json
            raise exc
        return real(path, data)

    monkeypatch.setattr(writer, "write_bytes", flaky)
    runs = tmp_path / "runs"
    with pytest.raises(type(exc)):
        write_run(result, runs / "r1")
    assert calls == ["summary.json", "scenario.yaml"]
    assert not (runs / "r1").exists()
    assert list(runs.iterdir()) == []  # no temp folder, no catalogue
    assert list_runs(runs) == []


def test_failure_with_overwrite_keeps_old_run(tmp_path, result, monkeypatch):
    target = tmp_path / "runs" / "r"
    write_run(result, target, run_id="old")
    before = (target / "summary.json").read_bytes()

    def boom(path, write):
        raise OSError("no space left")

    monkeypatch.setattr(writer, "write_file", boom)
    with pytest.raises(OSError):
        write_run(result, target, overwrite=True, run_id="new")
    assert (target / "summary.json").read_bytes() == before
    assert [r["run_id"] for r in list_runs(target.parent)] == ["old"]
    assert not _leftovers(target.parent)


def test_failed_swap_restores_old_run(tmp_path, result, monkeypatch):
    target = tmp_path / "runs" / "r"
    write_run(result, target, run_id="old")
    real_rename = atomic.os.rename

    def rename(src, dst):
        src = Path(src)  # a new file moving from the staging folder into place
        if src.parent.name.startswith(".qnetai-tmp-") and src.name == "summary.json":
            raise OSError("rename failed")
        return real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        write_run(result, target, overwrite=True, run_id="new")
    monkeypatch.undo()
    assert read_run(target).meta["run_id"] == "old"
    assert not _leftovers(target.parent)
    assert [r["run_id"] for r in list_runs(target.parent)] == ["old"]


def test_report_written_when_the_caller_composes_it(tmp_path, result):
    from qnetai.report import render_html

    out = write_run(result, tmp_path / "r", catalogue=False, report_html=render_html(result))
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "synthetic" in html
    assert not (write_run(result, tmp_path / "s", catalogue=False) / "report.html").exists()


def test_default_run_dir(tmp_path):
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    p = default_run_dir("metro 6g/x", 7, root=tmp_path / "runs", now=now, tag="ab12cd")
    assert p == tmp_path / "runs" / "metro-6g-x-20250102T030405Z-seed7-ab12cd"
    p.mkdir(parents=True)
    again = default_run_dir("metro 6g/x", 7, root=tmp_path / "runs", now=now, tag="ab12cd")
    assert again.name.endswith("-ab12cd-2")


def test_read_run_rejects_other_folders(tmp_path):
    with pytest.raises(InputError, match="not a qnetai run folder"):
        read_run(tmp_path)


def test_catalogue_failure_keeps_complete_run(tmp_path, result, monkeypatch):
    from qnetai.results import CatalogueError

    def locked(root, row):
        raise OSError("database is locked")

    monkeypatch.setattr(writer, "record_run", locked)
    with pytest.raises(CatalogueError, match="could not be updated") as info:
        write_run(result, tmp_path / "r")
    assert info.value.path == (tmp_path / "r").absolute()
    assert read_run(info.value.path).deliveries.num_rows == 40
