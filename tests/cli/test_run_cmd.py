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

    def simulate(scenario, *, seed=None, progress=None):
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
        "pairs per second",
        "fidelity p05 / p50 / p95",
        "latency mean / p95",
        "memory utilisation",
        "n0-n1",
        "rate Hz",
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
    def simulate(scenario, *, seed=None, progress=None):
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
