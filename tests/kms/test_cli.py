"""``qnetai serve`` / ``qnetai demo secure-fl`` / ``qnetai kms audit``: bad input is a clear
message and exit status 2, never a traceback; the demo's JSON output."""

from __future__ import annotations

import json

import pytest

from qnetai.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("serve", "metro-6g", "--sae", "A"), "SAE_ID=NODE"),
        (("serve", "metro-6g", "--sae", "A=nowhere", "--sae", "B=metro-west"), "nowhere"),
        (("serve", "no-such-scenario", "--port", "0"), "no-such-scenario"),
        (("serve", "metro-6g", "--pki", "/nonexistent-pki"), "ca.pem"),
        (("demo", "secure-fl", "--on-missing-key", "maybe"), "on_missing_key"),
        (("demo", "secure-fl", "--ring-bits", "48"), "ring_bits"),
        (("kms", "audit", "--db", "/nonexistent.sqlite"), "no such file"),
        (("kms", "audit", "--db", "postgresql://nobody@/x?host=/nonexistent"), "cannot open"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)  # a default --db would land here, never in the checkout
    code, _, err = run(capsys, *argv)
    assert list(tmp_path.iterdir()) == []  # refused before any key store was created
    assert code == 2
    assert fragment in err and "Traceback" not in err


def test_demo_secure_fl_json(capsys):
    code, out, _ = run(
        capsys, "demo", "secure-fl", "--rounds", "2", "--local-epochs", "2", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert [r["round"] for r in data["rounds"]] == [0, 1]
    assert all(r["aggregate_equals_encoded_sum"] for r in data["rounds"])
    assert data["key_accounting"]["bits_per_parameter_per_pair_per_round"] == 32
