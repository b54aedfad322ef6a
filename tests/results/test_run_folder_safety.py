"""What ``write_run`` may replace, where it writes, and what killed writers leave behind."""

import json
import os
import subprocess
import sys

import pytest

import qnetai.results.writer as writer
from qnetai.errors import InputError
from qnetai.results import (
    CatalogueError,
    check_out_dir,
    clean_stale_runs,
    is_complete_run,
    list_runs,
    read_run,
    write_run,
)
from qnetai.results._atomic import write_bytes
from qnetai.results.synthetic import synthetic_result


@pytest.fixture(scope="module")
def result():
    return synthetic_result(nodes=3, deliveries=10, seed=2)


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free
    return proc.pid


def _fake_staging(run_dir, pid, *, created_dir, files=()):
    """A staging folder as a qnetai process killed mid-write would leave it."""
    staging = run_dir / f".qnetai-tmp-{pid}-0123456789ab"
    staging.mkdir(parents=True)
    owner = {
        "pid": pid,
        "host": os.uname().nodename,
        "start": None,
        "created_dir": created_dir,
        "files": list(files),
    }
    (staging / "owner.json").write_text(json.dumps(owner))
    (staging / "deliveries.parquet").write_bytes(b"partial")
    return staging


def test_overwrite_refuses_folder_with_unrelated_files(tmp_path, result):
    target = tmp_path / "project"
    target.mkdir()
    (target / "thesis.tex").write_text("mine")
    (target / "summary.json").write_text("{}")
    with pytest.raises(InputError, match=r"only a qnetai run folder.*marker"):
        write_run(result, target, overwrite=True, catalogue=False)
    assert sorted(p.name for p in target.iterdir()) == ["summary.json", "thesis.tex"]


def test_overwrite_refuses_run_folder_holding_user_files(tmp_path, result):
    target = write_run(result, tmp_path / "r", catalogue=False)
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match=r"not part of its run \(notes.txt\)"):
        write_run(result, target, overwrite=True, catalogue=False)
    assert (target / "notes.txt").read_text() == "keep me"
    assert is_complete_run(target)


def test_overwrite_refuses_marker_of_another_run(tmp_path, result):
    target = write_run(result, tmp_path / "r", catalogue=False, run_id="a")
    (target / ".qnetai-run").write_text(json.dumps({"run_id": "b"}))
    with pytest.raises(InputError, match="does not match"):
        check_out_dir(target, overwrite=True)


def test_overwrite_never_replaces_the_current_directory(tmp_path, result, monkeypatch):
    target = write_run(result, tmp_path / "r", catalogue=False, run_id="old")
    monkeypatch.chdir(target)
    with pytest.raises(InputError, match="current directory"):
        write_run(result, ".", overwrite=True, catalogue=False)
    monkeypatch.chdir(tmp_path)  # a parent of the cwd is refused too (and is no run folder)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(InputError, match="current directory"):
        check_out_dir(tmp_path, overwrite=True)
    assert read_run(target).meta["run_id"] == "old"


def test_overwrite_replaces_a_run_folder(tmp_path, result):
    target = write_run(result, tmp_path / "r", catalogue=False, run_id="old", report_html="<p/>")
    write_run(result, target, overwrite=True, catalogue=False, run_id="new")
    assert read_run(target).meta["run_id"] == "new"
    assert not (target / "report.html").exists()  # the old run's extra file went with it
    assert sorted(p.name for p in target.iterdir() if p.name.startswith(".")) == [".qnetai-run"]


def test_nothing_written_beside_the_run_folder(tmp_path, result, monkeypatch):
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "other").write_text("x")
    seen = []
    real = writer.write_bytes

    def spy(path, data):
        seen.append(sorted(p.name for p in parent.iterdir()))
        return real(path, data)

    monkeypatch.setattr(writer, "write_bytes", spy)
    write_run(result, parent / "out", catalogue=False)
    assert seen and all(names == ["other", "out"] for names in seen)
    assert sorted(p.name for p in parent.iterdir()) == ["other", "out"]


def test_failed_write_removes_the_folder_it_created(tmp_path, result, monkeypatch):
    def boom(path, data):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writer, "write_bytes", boom)
    with pytest.raises(RuntimeError):
        write_run(result, tmp_path / "out", catalogue=False)
    assert list(tmp_path.iterdir()) == []


def test_out_dir_symlinks_refused(tmp_path, result):
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    with pytest.raises(InputError, match="symbolic link to a missing folder"):
        check_out_dir(tmp_path / "dangling", overwrite=False)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="symbolic link"):
        write_run(result, tmp_path / "link", catalogue=False)
    assert not (tmp_path / "missing").exists() and list((tmp_path / "real").iterdir()) == []


def test_files_are_not_written_through_symlinks(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("safe")
    (tmp_path / "f").symlink_to(victim)
    with pytest.raises(FileExistsError):
        write_bytes(tmp_path / "f", b"evil")
    assert victim.read_text() == "safe"


def test_symlinked_catalogue_is_not_followed(tmp_path, result):
    runs = tmp_path / "runs"
    runs.mkdir()
    elsewhere = tmp_path / "elsewhere.duckdb"
    (runs / "catalogue.duckdb").symlink_to(elsewhere)
    with pytest.raises(CatalogueError, match="symbolic link"):
        write_run(result, runs / "r")
    assert not elsewhere.exists()
    assert is_complete_run(runs / "r")  # the run itself is complete


def test_stale_staging_of_dead_process_is_cleaned(tmp_path, result):
    run_dir = tmp_path / "runs" / "killed"
    _fake_staging(run_dir, _dead_pid(), created_dir=True, files=["summary.json"])
    (run_dir / "summary.json").write_text("{}")  # it had begun moving files in
    check_out_dir(run_dir, overwrite=False)  # stale staging does not count
    write_run(result, run_dir, catalogue=False)
    assert is_complete_run(run_dir)
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".qnetai-tmp-")]


def test_clean_stale_runs_removes_folder_created_by_killed_run(tmp_path):
    root = tmp_path / "runs"
    killed = root / "killed"
    staging = _fake_staging(killed, _dead_pid(), created_dir=True, files=["links.parquet"])
    (killed / "links.parquet").write_bytes(b"x")
    user_dir = root / "kept"
    _fake_staging(user_dir, _dead_pid(), created_dir=False)
    (user_dir / "mine.txt").write_text("x")
    removed = clean_stale_runs(root)
    assert staging in removed and len(removed) == 2
    assert not killed.exists()
    assert [p.name for p in user_dir.iterdir()] == ["mine.txt"]


def test_live_staging_is_left_alone(tmp_path, result):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run_dir = tmp_path / "busy"
        staging = _fake_staging(run_dir, proc.pid, created_dir=True)
        assert clean_stale_runs(tmp_path) == [] and staging.is_dir()
        with pytest.raises(InputError, match=f"another qnetai process \\(pid {proc.pid}\\)"):
            write_run(result, run_dir, overwrite=True, catalogue=False)
    finally:
        proc.kill()
        proc.wait()
    assert clean_stale_runs(tmp_path) == [staging] and not run_dir.exists()


def test_catalogue_failure_still_listed(tmp_path, result, monkeypatch):
    def locked(root, row):
        raise OSError("database is locked")

    monkeypatch.setattr(writer, "record_run", locked)
    with pytest.raises(CatalogueError, match="--rescan"):
        write_run(result, tmp_path / "runs" / "r", run_id="lost")
    monkeypatch.undo()
    rows = list_runs(tmp_path / "runs")
    assert [(r["run_id"], r["catalogued"]) for r in rows] == [("lost", False)]


def test_seed_limits_in_catalogue(tmp_path):
    import dataclasses

    big = synthetic_result(nodes=3, deliveries=2, seed=0)
    scenario = big.scenario.model_copy(update={"seed": 2**63 - 1})
    out = write_run(dataclasses.replace(big, scenario=scenario), tmp_path / "runs" / "s")
    assert [r["seed"] for r in list_runs(tmp_path / "runs")] == [2**63 - 1]
    assert read_run(out).meta["seed"] == 2**63 - 1


def test_read_run_refuses_incomplete_folder(tmp_path, result):
    out = write_run(result, tmp_path / "r", catalogue=False)
    (out / ".qnetai-run").unlink()
    _fake_staging(out, os.getpid(), created_dir=False)  # being written
    with pytest.raises(InputError, match="incomplete run folder"):
        read_run(out)


def test_first_of_two_writers_to_finish_wins(tmp_path, result, monkeypatch):
    target = tmp_path / "r"
    real = writer.write_bytes
    other = []

    def racing(path, data):  # another writer starts staging into the same folder meanwhile
        if not other:
            other.append(_fake_staging(target, os.getpid(), created_dir=False))
        return real(path, data)

    monkeypatch.setattr(writer, "write_bytes", racing)
    write_run(result, target, catalogue=False, run_id="first")
    assert is_complete_run(target, "first") and other[0].is_dir()
    with pytest.raises(InputError, match="another qnetai process"):
        check_out_dir(target, overwrite=True)
