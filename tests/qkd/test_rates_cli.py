import json

import pytest
from typer.testing import CliRunner

from qnetai.cli.main import app, main

runner = CliRunner()
KEYS = {
    "key_rate_per_pulse",
    "mu",
    "nu",
    "plob_bound",
    "tgw_bound",
    "eta",
    "distance_km",
    "y1_lower",
    "e1_upper",
    "q_mu",
    "e_mu",
}


def _json(args):
    res = runner.invoke(app, ["qkd", "rate", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_rate_json_keys_and_given_intensities():
    out = _json(["--distance-km", "50", "--mu", "0.5", "--nu", "0.1"])
    assert KEYS <= out.keys()
    assert out["mu"] == 0.5 and out["nu"] == 0.1
    assert 0 < out["key_rate_per_pulse"] < out["plob_bound"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--decoys", "infinite"],
        ["--protocol", "bbm92"],
        ["--finite-key", "--block-size", "1e11"],
        ["--efficient", "--p-z", "0.8"],
    ],
)
def test_rate_json_variants(extra):
    out = _json(["--distance-km", "30", *extra])
    assert KEYS <= out.keys()
    assert out["key_rate_per_pulse"] > 0


def test_sweep_json_and_atomic_plot(tmp_path):
    plot = tmp_path / "rate.html"
    res = runner.invoke(
        app,
        [
            "qkd",
            "rate",
            "--sweep-km",
            "0:150:50",
            "--decoys",
            "infinite",
            "--plot",
            str(plot),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["distance_km"] for r in rows] == [0, 50, 100, 150]
    assert rows[-1]["key_rate_per_pulse"] == 0
    html = plot.read_text()
    assert "plotly" in html.lower() and "PLOB" in html
    assert [p.name for p in tmp_path.iterdir()] == ["rate.html"]


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--mu", "-1"], "--mu"),
        (["--mu", "0"], "mu must be in (0, 10]"),
        (["--decoys", "many"], "--decoys"),
        (["--sweep-km", "10:0:5"], "--sweep-km"),
        (["--p-z", "0.7"], "--p-z needs --efficient"),
    ],
)
def test_bad_parameters_exit_2(args, msg, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["qkd", "rate", *args])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert msg in captured.err
    assert "Traceback" not in captured.err
