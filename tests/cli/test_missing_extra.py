"""A missing optional dependency reaches the user as a message and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from qnetai._optional import MissingExtraError
from qnetai.cli import main as cli_main


def test_missing_extra_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def app(**_: object) -> None:
        raise MissingExtraError("'stim' is needed for this feature: pip install 'qnetai[qec]'")

    monkeypatch.setattr("qnetai.cli._app.build_app", lambda modules: app)
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["bench", "qec"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "qnetai[qec]" in err
    assert "Traceback" not in err
