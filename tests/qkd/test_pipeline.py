from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from qnetai.cli.qkd_simulate_cmd import parse_count, register
from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.pipeline import run_bb84

KW = dict(distance_km=25.0, pulses=3_000_000, block_pulses=1 << 20)


@dataclass(frozen=True)
class _Rec:
    corrected_bits: np.ndarray
    leaked_bits: int
    round_trips: int
    efficiency: float
    frame_errors: int
    method: str


@pytest.fixture
def stub_reconciliation(monkeypatch):
    """A stand-in for qnetai.qkd.reconciliation: perfect correction, leak 1.2 n h(q)."""

    def reconcile(alice_bits, bob_bits, *, qber_estimate, method="cascade", rng):
        n = alice_bits.size
        q = float(np.mean(alice_bits != bob_bits))
        leak = int(np.ceil(1.2 * n * binary_entropy(q)))
        return _Rec(alice_bits.copy(), leak, 4, 1.2, 0, method)

    mod = types.ModuleType("qnetai.qkd.reconciliation")
    mod.reconcile = reconcile
    monkeypatch.setitem(sys.modules, "qnetai.qkd.reconciliation", mod)


def test_pipeline_flow_and_determinism(stub_reconciliation):
    r1 = run_bb84(rng=np.random.default_rng(5), **KW)
    r2 = run_bb84(rng=np.random.default_rng(5), **KW)
    assert r1.status == "ok" and r1.keys_identical
    assert r1.final_key_length > 0 and r1.final_alice_key.size == r1.final_key_length
    assert np.array_equal(r1.final_alice_key, r2.final_alice_key)
    assert r1.to_dict() | {"timing_s": 0} == r2.to_dict() | {"timing_s": 0}
    d = r1.to_dict()
    json.dumps(d)
    assert d["verification_bits"] == 64 and d["leaked_bits"] > 0
    assert d["secret_key_rate_per_pulse"] == pytest.approx(d["final_key_length"] / 3_000_000)
    assert d["block_label_counts"] == {"none": 3}
    assert d["key_bits"] > d["final_key_length"]


def test_end_to_end_real_postprocessing_keys_identical():
    pytest.importorskip("qnetai.qkd.reconciliation")
    r = run_bb84(rng=np.random.default_rng(11), **KW)
    assert r.status == "ok", r.abort_reason
    assert r.keys_identical and r.verified
    assert r.final_key_length > 0
    assert 1.0 <= r.reconciliation_efficiency < 2.0
    assert np.array_equal(r.final_alice_key, r.final_bob_key)


def test_finite_key_option(stub_reconciliation):
    r = run_bb84(rng=np.random.default_rng(5), finite_key=True, **KW)
    a = run_bb84(rng=np.random.default_rng(5), **KW)
    assert r.finite_key_applied
    assert r.final_key_length < a.final_key_length


def test_attacks_abort_cleanly():
    r = run_bb84(rng=np.random.default_rng(1), attack="intercept-resend", attack_strength=1.0, **KW)
    assert r.status == "aborted" and "QBER" in r.abort_reason
    assert r.final_key_length == 0 and r.keys_identical is None
    assert r.to_dict()["block_label_counts"] == {"intercept-resend": 3}
    with pytest.raises(InputError, match="reconciliation"):
        run_bb84(rng=np.random.default_rng(1), reconciliation="magic", **KW)


def _app():
    app = typer.Typer()
    register(app)

    @app.callback()
    def _cb() -> None:
        """Test app."""

    return app


def test_cli_json_and_errors(stub_reconciliation):
    runner = CliRunner()
    res = runner.invoke(
        _app(), ["simulate", "--distance-km", "25", "--pulses", "2e6", "--seed", "3", "--json"]
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in (
        "qber",
        "gains",
        "y1_lower",
        "e1_upper",
        "sifted_bits",
        "leaked_bits",
        "reconciliation_efficiency",
        "final_key_length",
        "secret_key_rate_per_pulse",
        "keys_identical",
        "timing_s",
        "status",
    ):
        assert key in d
    assert d["keys_identical"] is True and d["pulses"] == 2_000_000
    human = runner.invoke(
        _app(),
        ["simulate", "--pulses", "1e6", "--attack", "intercept-resend", "--attack-strength", "1"],
    )
    assert human.exit_code == 0 and "aborted" in human.stdout
    for bad in (
        ["--attack-strength", "2"],
        ["--pulses", "abc"],
        ["--attack", "nope"],
        ["--pulses", "1.5"],
        ["--distance-km", "-3"],
    ):
        res = runner.invoke(_app(), ["simulate", "--pulses", "1e5", *bad])
        assert res.exit_code == 2, (bad, res.output)


def test_cli_registered_under_qkd():
    from qnetai.cli.main import app

    res = CliRunner().invoke(app, ["qkd", "simulate", "--help"])
    if res.exit_code != 0:
        pytest.skip("qkd sub-app not registered yet")
    assert "--attack-strength" in res.stdout


def test_parse_count():
    assert parse_count("1e8") == 100_000_000
    assert parse_count("2_000") == 2000
    with pytest.raises(InputError):
        parse_count("0")
