"""``qnetai bench tomography`` prints one non-truncating table (``print_table``)."""

from __future__ import annotations

import json

import pytest

from qnetai.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], extra: list[str]) -> str:
    argv = ["bench", "tomography", "--qubits", "2", "--shots", "50,200", "--trials", "2"]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--estimators", "linear,ml,dfe", "--seed", "3", *extra])
    assert e.value.code == 0
    return capsys.readouterr().out


def test_table_shows_every_row_untruncated_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    rows = json.loads(_run(capsys, ["--json"]))["rows"]
    text = _run(capsys, [])
    assert "…" not in text
    for r in rows:
        assert r["estimator"] in text
        assert f"{r['mean']:.3g}" in text and f"{r['ci_high']:.3g}" in text  # cpu_s varies
