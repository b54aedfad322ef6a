"""``qnetai sweep`` commands: exit codes, JSON, no tracebacks."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
import yaml
from sweep_helpers import tiny

from qnetai.cli.main import main
from qnetai.sweep import run_sweep, sweep_from_dict


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_run_query_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QNETAI_PROGRESS_INTERVAL_S", "0")
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(tiny()))
    code, out, err = _run(["sweep", "validate", str(f)], capsys)
    assert code == 0 and "ok: 4 points" in out
    code, out, err = _run(
        ["sweep", "run", str(f), "--out", str(tmp_path / "o"), "--workers", "1", "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["done"] == 4
    # the local process pool gives what this process gives for the same seeds
    ref = tmp_path / "ref"
    run_sweep(sweep_from_dict(tiny()), ref, engine="inline")
    for table in ("runs.parquet", "points.parquet"):
        drop = {"run_wall_s", "wall_s", "cpu_s"}
        got, want = (
            [
                {k: v for k, v in r.items() if k not in drop}
                for r in pq.read_table(d / table).to_pylist()
            ]
            for d in (tmp_path / "o", ref)
        )
        assert got == want
    assert "sweep: 4 of 4 points" in err and "left" in err  # progress lines on a pipe
    code, out, _ = _run(
        ["sweep", "query", str(tmp_path / "o"), "SELECT count(*) AS n FROM runs", "--json"], capsys
    )
    assert code == 0 and json.loads(out) == [{"n": 8}]
    code, out, _ = _run(
        [
            "sweep",
            "plot",
            str(tmp_path / "o"),
            "--x",
            "duration_s",
            "--color",
            "links[*].length_km",
            "--out",
            str(tmp_path / "p.html"),
        ],
        capsys,
    )
    assert code == 0 and (tmp_path / "p.html").read_text().count("plotly") > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "validate", "missing.yaml"], "no such sweep file"),
        (["sweep", "query", ".", "SELECT 1"], "no sweep.duckdb"),
        (["bench", "all", "--only", "nope"], "unknown benchmarks"),
        (["bench", "all", "--method", "routing"], "--method must be BENCH=METHOD"),
    ],
)
def test_bad_input_exits_2_without_traceback(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(args, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_point_value_names_the_field(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(tiny(params=[{"path": "links[*].length_km", "values": [-1]}])))
    code, _, err = _run(["sweep", "run", str(f), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "links[0].length_km" in err
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_unreachable_ray_address_is_refused_quickly(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(tiny()))
    code, _, err = _run(
        ["sweep", "run", str(f), "--out", str(tmp_path / "o"), "--address", f"127.0.0.1:{port}"],
        capsys,
    )
    assert code == 2 and "no Ray cluster reachable" in err
