"""The `qnetai scenario` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from qnetai.cli.main import app, main
from qnetai.config import BUILTIN_SCENARIOS, builtin_scenario, load_scenario
from qnetai.errors import InputError

runner = CliRunner()

BROKEN = "nodes:\n  - {name: A}\nlinks:\n  - {endpoints: [A, B], length_km: -3}\n"


def run_ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_validate_prints_ok_and_summary():
    out = run_ok("scenario", "validate", "metro-6g")
    assert out.startswith("OK metro-6g: metro-6g: 14 nodes, 17 links, 1,250 requests")


def test_validate_json(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text(yaml.safe_dump({"topology": {"builder": "line", "nodes": 5}}))
    data = json.loads(run_ok("scenario", "validate", str(path), "--json"))
    assert data["ok"] is True
    assert (data["nodes"], data["links"], data["requests"]) == (5, 4, 0)
    assert data["node_kinds"] == {"end_user": 2, "repeater": 3}


def test_show_renders_tables():
    out = run_ok("scenario", "show", "metro-6g")
    for text in ("Nodes", "Links", "Traffic", "bs-campus", "bs-island", "poisson"):
        assert text in out


def test_show_json_with_derived_figures():
    data = json.loads(run_ok("scenario", "show", "metro-6g", "--json"))
    assert data["summary"]["nodes"] == 14
    assert len(data["scenario"]["links"]) == 17
    if data["links_derived"] is not None:  # qnetai.physics installed
        first = data["links_derived"][0]
        assert first["link"] == "metro-north-metro-east"
        assert 0 < first["transmittance"] < 1


def test_show_resolved_expands_topology():
    plain = json.loads(run_ok("scenario", "show", "waxman-100", "--json"))
    assert plain["scenario"]["topology"]["builder"] == "waxman"
    assert plain["scenario"]["nodes"] == []
    full = json.loads(run_ok("scenario", "show", "waxman-100", "--json", "--resolved"))
    assert full["scenario"]["topology"] is None
    assert len(full["scenario"]["nodes"]) == 100
    out = run_ok("scenario", "show", "waxman-100", "--resolved", "--limit", "5")
    assert "more rows" in out


def test_schema_to_stdout_and_file(tmp_path):
    schema = json.loads(run_ok("scenario", "schema"))
    assert "LinkSpec" in schema["$defs"]
    out = tmp_path / "schema.json"
    run_ok("scenario", "schema", "--out", str(out))
    assert json.loads(out.read_text()) == schema


def test_list_builtin():
    entries = json.loads(run_ok("scenario", "list", "--json"))
    assert [e["name"] for e in entries] == list(BUILTIN_SCENARIOS)
    assert "metro-6g" in run_ok("scenario", "list")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_then_load(tmp_path, suffix):
    path = tmp_path / f"metro{suffix}"
    run_ok("scenario", "export", "metro-6g", str(path))
    assert load_scenario(path) == builtin_scenario("metro-6g")
    result = runner.invoke(app, ["scenario", "export", "metro-6g", str(path)])
    assert isinstance(result.exception, InputError)
    assert "exists" in str(result.exception)
    run_ok("scenario", "export", "metro-6g", str(path), "--force")


def test_broken_file_exits_2_with_field_path(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(SystemExit) as info:
        main(["scenario", "validate", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "links[0].length_km" in err and "(got -3)" in err
    assert "Traceback" not in err


def test_unknown_node_exits_2(tmp_path, capsys):
    path = tmp_path / "ref.yaml"
    path.write_text("nodes: [{name: A}, {name: B}]\nlinks: [{endpoints: [A, C]}]\n")
    with pytest.raises(SystemExit) as info:
        main(["scenario", "show", str(path)])
    assert info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())  # undo console wrapping
    assert "links[0].endpoints[1]: unknown node 'C' (known: A, B)" in err


def test_missing_file_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["scenario", "validate", "/nonexistent/x.yaml"])
    assert info.value.code == 2
    assert "no such file" in capsys.readouterr().err


def test_executable_exits_2_without_traceback(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    exe = Path(sys.executable).with_name("qnetai")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "qnetai.cli.main"]
    proc = subprocess.run(
        [*cmd, "scenario", "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "links[0].length_km" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
