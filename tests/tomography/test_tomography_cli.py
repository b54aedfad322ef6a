"""``qnetai bench tomography`` / ``bench network-tomography`` from the command line."""

import json

import pytest

from qnetai.cli.main import main


def test_bench_tomography_json(capsys):
    argv = ["bench", "tomography", "--qubits", "2", "--shots", "50,200", "--trials", "2"]
    argv += ["--estimators", "linear,ml,dfe", "--seed", "3", "--json"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["estimator"] for r in out["rows"]} == {"linear", "ml", "dfe"}
    assert len(out["rows"]) == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qubits", "9"], "n_qubits"),
        (["--estimators", "magic"], "unknown estimator"),
        (["--shots", "ten"], "--shots"),
        (["--qubits", "3", "--estimators", "neural"], "two qubits"),
    ],
)
def test_bench_tomography_bad_input(capsys, args, message):
    with pytest.raises(SystemExit) as e:
        main(["bench", "tomography", *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bench_network_tomography_refuses_unknown_scenario(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "network-tomography", "--scenario", "nope", "--paths-per-pair", "1"])
    assert e.value.code == 2
    assert "nope" in capsys.readouterr().err
