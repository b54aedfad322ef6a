"""The run folders are the truth: listing, rescanning and a damaged catalogue."""

import shutil

import pytest

from qnetai.errors import InputError
from qnetai.results import (
    CatalogueFileError,
    catalogue_path,
    list_runs,
    record_run,
    rescan_catalogue,
    write_run,
)
from qnetai.results.synthetic import synthetic_result


@pytest.fixture(scope="module")
def result():
    return synthetic_result(nodes=3, deliveries=5, seed=1)


def test_uncatalogued_folder_listed_then_recorded(tmp_path, result):
    root = tmp_path / "runs"
    write_run(result, root / "a", run_id="a")
    write_run(result, root / "b", catalogue=False, run_id="b")  # e.g. killed
    (root / "not-a-run").mkdir()
    rows = list_runs(root)
    assert {(r["run_id"], r["catalogued"]) for r in rows} == {("a", True), ("b", False)}
    assert [r["run_id"] for r in list_runs(root, scan=False)] == ["a"]
    report = rescan_catalogue(root)
    assert report.added == ["b"] and report.dropped == [] and report.runs == 2
    assert all(r["catalogued"] for r in list_runs(root))


def test_rescan_drops_deleted_folders_keeps_outside_runs(tmp_path, result):
    root = tmp_path / "runs"
    write_run(result, root / "a", run_id="a")
    outside = write_run(result, tmp_path / "elsewhere" / "c", catalogue=root, run_id="c")
    record_run(root, {"run_id": "gone-outside", "path": str(tmp_path / "nowhere" / "x")})
    shutil.rmtree(root / "a")
    report = rescan_catalogue(root)
    assert report.dropped == ["a", "gone-outside"]
    assert [r["path"] for r in list_runs(root)] == [str(outside)]


def test_corrupt_catalogue_reported_at_once_and_rebuilt(tmp_path, result, monkeypatch):
    import duckdb

    root = tmp_path / "runs"
    write_run(result, root / "a", run_id="a")
    catalogue_path(root).write_bytes(b"not a database" * 100)
    attempts = []
    connect = duckdb.connect

    def counting_connect(*args, **kwargs):
        attempts.append(args)
        return connect(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting_connect)
    with pytest.raises(CatalogueFileError, match=r"not a readable DuckDB database.*--rescan"):
        list_runs(root)
    assert len(attempts) == 1  # reported at once, not retried as if it were locked
    monkeypatch.undo()
    assert isinstance(CatalogueFileError("x", root), InputError)
    report = rescan_catalogue(root)
    assert report.set_aside is not None and report.set_aside.read_bytes().startswith(b"not a")
    assert [r["run_id"] for r in list_runs(root)] == ["a"]


def test_rescan_refuses_symlinked_catalogue(tmp_path, result):
    root = tmp_path / "runs"
    root.mkdir()
    target = tmp_path / "target.duckdb"
    target.write_bytes(b"precious")
    catalogue_path(root).symlink_to(target)
    with pytest.raises(CatalogueFileError, match="symbolic link"):
        rescan_catalogue(root)
    assert target.read_bytes() == b"precious"


def test_rescan_reports_old_style_temporary_folders(tmp_path):
    root = tmp_path / "runs"
    (root / ".qnetai-tmp-r1-0123456789ab").mkdir(parents=True)
    report = rescan_catalogue(root)
    assert [p.name for p in report.leftovers] == [".qnetai-tmp-r1-0123456789ab"]
    assert report.runs == 0 and list_runs(root) == []


def test_rescan_missing_root(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        rescan_catalogue(tmp_path / "missing")


def test_folders_from_before_the_marker_are_listed(tmp_path, result):
    root = tmp_path / "runs"
    old = write_run(result, root / "old", catalogue=False, run_id="old")
    (old / ".qnetai-run").unlink()  # as written by an older qnetai
    assert [r["run_id"] for r in list_runs(root)] == ["old"]
    assert rescan_catalogue(root).added == ["old"]
