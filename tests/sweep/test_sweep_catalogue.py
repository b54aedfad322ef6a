"""``qnetai sweep run --catalogue``: every seed-run of a sweep lands in the run catalogue."""

from __future__ import annotations

import pytest
import yaml
from sweep_helpers import tiny

from qnetai.cli.main import main
from qnetai.results.catalogue import catalogue_rows
from qnetai.sweep import read_records


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_sweep_runs_land_in_catalogue(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(tiny()))
    args = ["sweep", "run", str(f), "--out", str(tmp_path / "o"), "--workers", "1"]
    code, _, err = _run([*args, "--catalogue", str(tmp_path / "runs")], capsys)
    assert code == 0, err
    assert "catalogued 8 runs" in err
    rows = catalogue_rows(tmp_path / "runs")
    assert len(rows) == 8  # 4 points x 2 seeds
    recs = read_records(tmp_path / "o")
    want = sorted(
        (pid, r["seed"], r["pairs_delivered"]) for pid, rec in recs.items() for r in rec["runs"]
    )
    got = sorted((r["run_id"].split("-")[2], r["seed"], r["pairs_delivered"]) for r in rows)
    assert got == want
    assert all(r["scenario"].startswith("sequence-chain-3 ") for r in rows)
    # a resumed run replaces its rows instead of adding copies
    code, _, err = _run([*args, "--catalogue", str(tmp_path / "runs")], capsys)
    assert code == 0, err
    assert len(catalogue_rows(tmp_path / "runs")) == 8


def test_catalogue_of_a_non_sweep_folder_exits_2(tmp_path, capsys):
    from qnetai.cli.sweep_cmd import catalogue_sweep
    from qnetai.errors import InputError

    with pytest.raises(InputError, match="not a sweep folder"):
        catalogue_sweep(str(tmp_path), str(tmp_path / "runs"))
