"""``qnetai run`` / ``qnetai runs`` with the engine replaced by a fast synthetic stand-in."""

import dataclasses
import json
import re

import pytest

import qnetai.sim
from qnetai.cli.main import main
from qnetai.results.synthetic import synthetic_result

TINY = """\
name: tiny
description: three nodes in a line
seed: 4
duration_s: 0.5
nodes:
  - {name: n0, kind: end_user, position_km: [0, 0]}
  - {name: n1, position_km: [10, 0]}
  - {name: n2, kind: end_user, position_km: [20, 0]}
links:
  - {endpoints: [n0, n1], name: n0-n1, length_km: 10}
  - {endpoints: [n1, n2], name: n1-n2, length_km: 10}
traffic:
  requests: [{source: n0, destination: n2, count: 20}]
"""


@pytest.fixture
def fake_engine(monkeypatch):
    calls = []

    def simulate(scenario, *, seed=None, policy=None, progress=None, allocator=None):
        calls.append((scenario, seed))
        for f in (0.25, 0.5, 1.0):
            if progress is not None:
                progress(f)
        r = synthetic_result(nodes=3, deliveries=12, seed=seed or 0, duration_s=scenario.duration_s)
        return dataclasses.replace(r, scenario=scenario)

    monkeypatch.setattr(qnetai.sim, "simulate", simulate)
    return calls


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


def run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return info.value.code, out, err


def test_json_output(tmp_path, tiny, fake_engine, capsys):
    out_dir = tmp_path / "runs" / "a"
    code, out, _ = run(
        [
            "run",
            str(tiny),
            "--out",
            str(out_dir),
            "--seed",
            "9",
            "--json",
            "--catalogue",
            str(tmp_path / "runs"),
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)  # exactly one JSON document, no progress bar or tables
    assert {"summary", "links", "out_dir", "run_id", "report", "scenario", "seed"} <= set(doc)
    assert doc["seed"] == 9 and doc["scenario"] == "tiny"
    assert doc["out_dir"] == str(out_dir.absolute())
    assert doc["summary"]["pairs_delivered"] == 12
    assert [r["link"] for r in doc["links"]] == ["n0-n1", "n1-n2"]
    assert {"p_success", "pairs_generated", "rate_hz"} <= set(doc["links"][0])
    assert fake_engine[0][1] == 9 and fake_engine[0][0].seed == 9
    for name in ("requests", "deliveries", "links", "nodes", "timeseries"):
        assert (out_dir / f"{name}.parquet").is_file()
    assert (out_dir / "report.html").is_file() and (out_dir / "summary.json").is_file()
    assert "seed: 9" in (out_dir / "scenario.yaml").read_text()
    assert (tmp_path / "runs" / "catalogue.duckdb").is_file()

    code, out, _ = run(["runs", "--root", str(tmp_path / "runs"), "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["runs"]
    assert [r["run_id"] for r in rows] == [doc["run_id"]]


def test_human_output_and_duration(tmp_path, tiny, fake_engine, capsys):
    out_dir = tmp_path / "b"
    code, out, _ = run(
        ["run", str(tiny), "-o", str(out_dir), "--duration-s", "0.2", "--no-report"], capsys
    )
    assert code == 0
    for text in (
        "requests served",
        "pairs delivered per second",
        "fidelity p05 / p50 / p95",
        "latency mean / p95",
        "memory utilisation",
        "n0-n1",
        "generation rate",
        "run folder",
    ):
        assert text in out
    assert fake_engine[0][0].duration_s == 0.2
    assert not (out_dir / "report.html").exists()

    code, out, _ = run(["runs", "--root", str(tmp_path)], capsys)
    assert code == 0 and "tiny" in out


def test_default_run_dir(tmp_path, tiny, fake_engine, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["run", str(tiny), "--json", "--no-report"], capsys)
    assert code == 0
    path = json.loads(out)["out_dir"]
    doc = json.loads(out)
    assert re.fullmatch(
        re.escape(str(tmp_path / "runs")) + r"/tiny-\d{8}T\d{6}Z-seed4-[0-9a-f]{6}", path
    )
    assert path.endswith(doc["run_id"][:6])
    assert doc["catalogue"] == str(tmp_path / "runs" / "catalogue.duckdb")
    assert (tmp_path / "runs" / "catalogue.duckdb").is_file()


def test_builtin_name_and_no_argument(tmp_path, fake_engine, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["run", "--json", "--no-report", "--duration-s", "0.01"], capsys)
    assert code == 0
    assert fake_engine[-1][0].name == "metro-6g"
    assert json.loads(out)["out_dir"].startswith(str(tmp_path / "runs" / "metro-6g-"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "no/such/file.yaml"], "no such file"),
        (["run", "TINY", "--duration-s", "0"], "--duration-s must be > 0"),
        (["run", "BAD"], "nodes"),
        (["run", "TINY", "--seed", "-1"], "seed"),
    ],
)
def test_bad_input_exit_2(tmp_path, tiny, fake_engine, capsys, args, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnodes: 3\n")
    args = [str(tiny) if a == "TINY" else str(bad) if a == "BAD" else a for a in args]
    code, out, err = run([*args, "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert message in out + err
    assert not fake_engine and not (tmp_path / "o").exists()


def test_non_empty_out_dir_refused_then_overwritten(tmp_path, tiny, fake_engine, capsys):
    out_dir = tmp_path / "c"
    out_dir.mkdir()
    (out_dir / "old.txt").write_text("x")
    code, _, err = run(["run", str(tiny), "--out", str(out_dir), "--json"], capsys)
    assert code == 2 and "--overwrite" in err
    assert not fake_engine and (out_dir / "old.txt").exists()
    code, _, err = run(
        ["run", str(tiny), "--out", str(out_dir), "--json", "--overwrite", "--no-report"], capsys
    )
    assert code == 2 and "only a qnetai run folder" in err and "marker" in err
    assert (out_dir / "old.txt").read_text() == "x" and not fake_engine
    (out_dir / "old.txt").unlink()
    code, _, _ = run(["run", str(tiny), "--out", str(out_dir), "--json", "--no-report"], capsys)
    assert code == 0 and (out_dir / "summary.json").is_file()
    code, out, _ = run(
        ["run", str(tiny), "--out", str(out_dir), "--json", "--overwrite", "--no-report"], capsys
    )
    assert code == 0
    assert json.loads((out_dir / ".qnetai-run").read_text())["run_id"] == json.loads(out)["run_id"]


def test_interrupt_leaves_nothing(tmp_path, tiny, capsys, monkeypatch):
    def simulate(scenario, *, seed=None, policy=None, progress=None, allocator=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(qnetai.sim, "simulate", simulate)
    code, _, err = run(["run", str(tiny), "--out", str(tmp_path / "runs" / "d")], capsys)
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_interrupt_while_writing_leaves_nothing(tmp_path, tiny, fake_engine, capsys, monkeypatch):
    import qnetai.results.writer as writer

    def boom(path, write):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "write_file", boom)
    runs = tmp_path / "runs"
    code, _, _ = run(["run", str(tiny), "--out", str(runs / "e"), "--json"], capsys)
    assert code == 130
    assert list(runs.iterdir()) == []


def test_overwrite_of_current_directory_refused(tmp_path, tiny, fake_engine, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("precious")
    monkeypatch.chdir(work)
    code, _, err = run(["run", str(tiny), "--out", ".", "--overwrite", "--json"], capsys)
    assert code == 2 and "never replaces the current directory" in err
    assert (work / "data.csv").read_text() == "precious" and not fake_engine
    assert sorted(p.name for p in work.iterdir()) == ["data.csv"]


def test_out_writes_nothing_beside_the_folder(tmp_path, tiny, fake_engine, capsys):
    parent = tmp_path / "parent"
    parent.mkdir()
    code, out, err = run(["run", str(tiny), "--out", str(parent / "r"), "--no-report"], capsys)
    assert code == 0 and "not catalogued" in err
    assert [p.name for p in parent.iterdir()] == ["r"]
    code, out, _ = run(["run", str(tiny), "--out", str(parent / "s"), "--json"], capsys)
    assert json.loads(out)["catalogue"] is None
    assert sorted(p.name for p in parent.iterdir()) == ["r", "s"]
    code, out, _ = run(["runs", "--root", str(parent), "--json"], capsys)  # listed all the same
    assert code == 0 and len(json.loads(out)["runs"]) == 2


def test_out_symlink_to_missing_folder_refused_before_simulating(
    tmp_path, tiny, fake_engine, capsys
):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "missing")
    code, _, err = run(["run", str(tiny), "--out", str(link)], capsys)
    assert code == 2 and "symbolic link to a missing folder" in err
    assert not fake_engine and not (tmp_path / "missing").exists()


def test_symlinked_catalogue_refused_before_simulating(tmp_path, tiny, fake_engine, capsys):
    root = tmp_path / "runs"
    root.mkdir()
    (root / "catalogue.duckdb").symlink_to(tmp_path / "other.duckdb")
    code, _, err = run(
        ["run", str(tiny), "--out", str(root / "r"), "--catalogue", str(root)], capsys
    )
    assert code == 2 and "symbolic link" in err
    assert not fake_engine and not (tmp_path / "other.duckdb").exists()


def test_runs_with_corrupt_catalogue(tmp_path, tiny, fake_engine, capsys):
    root = tmp_path / "runs"
    code, _, _ = run(
        [
            "run",
            str(tiny),
            "--out",
            str(root / "a"),
            "--catalogue",
            str(root),
            "--json",
            "--no-report",
        ],
        capsys,
    )
    assert code == 0
    (root / "catalogue.duckdb").write_bytes(b"\0garbage" * 512)
    code, _, err = run(["runs", "--root", str(root)], capsys)
    assert code == 2 and "not a readable DuckDB database" in err and "--rescan" in err
    code, out, err = run(["runs", "--root", str(root), "--rescan"], capsys)
    assert code == 0 and "renamed to" in err and "tiny" in out
    code, out, _ = run(["runs", "--root", str(root), "--json"], capsys)
    assert [r["catalogued"] for r in json.loads(out)["runs"]] == [True]


def test_interrupt_after_folder_written_says_so(tmp_path, tiny, fake_engine, capsys, monkeypatch):
    import qnetai.results.writer as writer

    def interrupted(root, row):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "record_run", interrupted)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["run", str(tiny), "--no-report"], capsys)
    assert code == 130
    assert "written completely" in err and "no run folder written" not in err
    assert "--rescan" in err
    monkeypatch.undo()
    code, out, _ = run(["runs", "--root", str(tmp_path / "runs")], capsys)
    assert code == 0 and "* not in the catalogue" in out
    code, out, _ = run(["runs", "--root", str(tmp_path / "runs"), "--rescan", "--json"], capsys)
    doc = json.loads(out)
    assert len(doc["rescan"]["added"]) == 1 and doc["runs"][0]["catalogued"]


@pytest.mark.parametrize("seed", [2**63, 2**80])
def test_seed_beyond_64_bits_refused_before_simulating(tmp_path, tiny, fake_engine, capsys, seed):
    code, _, err = run(
        ["run", str(tiny), "--seed", str(seed), "--out", str(tmp_path / "o")], capsys
    )
    assert code == 2 and "seed" in err
    assert not fake_engine and not (tmp_path / "o").exists()
    big = tmp_path / "big.yaml"
    big.write_text(TINY.replace("seed: 4", f"seed: {seed}"))
    code, _, err = run(["run", str(big), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "seed" in err and not fake_engine


def test_largest_seed_is_catalogued(tmp_path, tiny, fake_engine, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(
        ["run", str(tiny), "--seed", str(2**63 - 1), "--json", "--no-report"], capsys
    )
    assert code == 0
    code, out, _ = run(["runs", "--json"], capsys)
    assert [(r["seed"], r["catalogued"]) for r in json.loads(out)["runs"]] == [(2**63 - 1, True)]
