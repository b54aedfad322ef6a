"""``qnetai run`` end to end with the real engine (tiny scenario; metro-6g shortened)."""

import json

import pytest

from qnetai.cli.main import main
from qnetai.results import list_runs, read_run
from qnetai.sim.result import TABLE_NAMES

TINY = """\
name: tiny-e2e
description: three nodes in a line
seed: 2
duration_s: 0.2
nodes:
  - {name: a, kind: end_user, position_km: [0, 0]}
  - {name: r, kind: repeater, position_km: [5, 0]}
  - {name: b, kind: end_user, position_km: [10, 0]}
links:
  - {endpoints: [a, r], length_km: 5}
  - {endpoints: [r, b], length_km: 5}
traffic:
  requests: [{source: a, destination: b, count: 20, arrival: {process: poisson, rate_hz: 200}}]
"""


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return info.value.code, out, err


def _check_run(doc, runs_root):
    path = doc["out_dir"]
    view = read_run(path)
    assert view.summary == json.loads(json.dumps(doc["summary"]))
    for name in TABLE_NAMES:
        assert getattr(view, name).num_rows >= 0
    assert view.deliveries.num_rows == doc["summary"]["pairs_delivered"]
    assert len(doc["links"]) == view.links.num_rows > 0
    html = (view.path / "report.html").read_text()
    assert '<section id="topology">' in html and '<section id="fidelity">' in html
    rows = [r for r in list_runs(runs_root) if r["path"] == path]
    assert len(rows) == 1 and rows[0]["pairs_delivered"] == doc["summary"]["pairs_delivered"]


def test_tiny_scenario(tmp_path, capsys):
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY)
    code, out, _ = _run(["run", str(f), "--out", str(tmp_path / "runs" / "t"), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["seed"] == 2
    assert 0 < doc["summary"]["requests_served"] <= doc["summary"]["requests_total"] == 20
    assert 0.25 <= doc["summary"]["mean_fidelity"] <= 1.0
    _check_run(doc, tmp_path / "runs")


def test_same_seed_same_figures(tmp_path, capsys):
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY)
    docs = []
    for k in range(2):
        code, out, _ = _run(
            ["run", str(f), "-o", str(tmp_path / f"s{k}"), "--seed", "5", "--json", "--no-report"],
            capsys,
        )
        assert code == 0
        docs.append(json.loads(out))
    strip = ("wall_time_s",)
    a, b = ({k: v for k, v in d["summary"].items() if k not in strip} for d in docs)
    assert a == b and docs[0]["links"] == docs[1]["links"]


def test_metro_6g_short(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(["run", "metro-6g", "--duration-s", "0.05", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["scenario"] == "metro-6g"
    assert doc["summary"]["simulated_s"] == pytest.approx(0.05, rel=0.05)
    _check_run(doc, tmp_path / "runs")
