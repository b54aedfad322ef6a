"""``qnetai bench qml``: a tiny run through the CLI and the library; bad input exits 2."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pennylane")

from qnetai.cli.main import main


def test_cli_tiny_run_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "qml", "--quick", "--tasks", "entanglement", "--models"]
    argv += ["logreg,qkernel,qkernel-noent", "--samples", "24", "--no-born", "--no-qaoa"]
    argv += ["--scaling", "", "--json", "--seed", "3"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    res = doc["tasks"]["entanglement"]
    assert doc["config"]["seeds"] == [3]
    assert set(res["models"]) == {"logreg", "qkernel", "qkernel-noent"}
    for r in res["models"].values():
        assert 0.0 <= r["accuracy"] <= 1.0 and len(r["accuracies"]) == 3
    assert res["winner"] in res["models"] and res["n_qubits"] == 3
    assert set(res["ablation_minus_full"]) == {"qkernel"}


def test_text_tables_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "qml", "--quick", "--tasks", "linearly-separable", "--models", "logreg"]
    argv += ["--samples", "24", "--no-born", "--no-qaoa", "--scaling", ""]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "winner logreg" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["bench", "qml", "--tasks", "mnist"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown tasks" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as e:
        main(["bench", "qml", "--quick", "--samples", "5"])
    assert e.value.code == 2
    assert "inner_folds = 24 (got 5)" in capsys.readouterr().err


def test_cost_scaling_rows_per_model_and_qubit_count() -> None:
    from qnetai.qml.benchmark import cost_scaling

    rows = cost_scaling((2, 3), models=("logreg", "qkernel-noent"), n_train=8, n_test=4)
    assert [(r["n_qubits"], r["model"]) for r in rows] == [
        (2, "logreg"),
        (2, "qkernel-noent"),
        (3, "logreg"),
        (3, "qkernel-noent"),
    ]
    assert all(
        r["train_cpu_s_per_sample"] >= 0 and r["predict_cpu_s_per_sample"] >= 0 for r in rows
    )
