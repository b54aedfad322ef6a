from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from qnetai.cli.qkd_simulate_cmd import parse_count, register
from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.pipeline import run_bb84
from qnetai.qkd.reconciliation import ReconciliationOutcome

KW = dict(distance_km=25.0, pulses=3_000_000, block_pulses=1 << 20)


class PerfectReconciliation:
    """A user method: perfect correction, leak 1.2 n h(q), one frame (the plug-in seam)."""

    name = "perfect-stub"

    def reconcile(self, alice_bits, bob_bits, qber_estimate, *, rng):
        n = alice_bits.size
        q = float(np.mean(alice_bits != bob_bits))
        leak = int(np.ceil(1.2 * n * binary_entropy(q)))
        return ReconciliationOutcome(
            corrected_bits=alice_bits.copy(), leaked_bits=leak, frame_bits=n, round_trips=4
        )


@pytest.fixture
def stub_reconciliation(monkeypatch):
    """Import path of :class:`PerfectReconciliation` (a module registered for the test)."""
    mod = types.ModuleType("qkd_stub_methods")
    mod.PerfectReconciliation = PerfectReconciliation
    monkeypatch.setitem(sys.modules, "qkd_stub_methods", mod)
    return "qkd_stub_methods:PerfectReconciliation"


def _same(x: dict, y: dict) -> bool:
    """Equal results, timing aside (NaN equals NaN)."""
    dump = lambda d: json.dumps(d | {"timing_s": 0}, sort_keys=True)  # noqa: E731
    return dump(x) == dump(y)


def test_pipeline_flow_and_determinism(stub_reconciliation):
    r1 = run_bb84(rng=np.random.default_rng(5), reconciliation=PerfectReconciliation(), **KW)
    r2 = run_bb84(rng=np.random.default_rng(5), reconciliation=stub_reconciliation, **KW)
    assert r1.reconciliation == r2.reconciliation == "perfect-stub"
    assert r1.status == "ok" and r1.keys_identical
    assert r1.final_key_length > 0 and r1.final_alice_key.size == r1.final_key_length
    assert np.array_equal(r1.final_alice_key, r2.final_alice_key)
    # compared as JSON: NaN figures (no sifted vacuum events on the GYS link) are equal there
    assert _same(r1.to_dict(), r2.to_dict())
    d = r1.to_dict()
    json.dumps(d)
    assert d["verification_bits"] == 64 and d["leaked_bits"] > 0
    assert d["secret_key_rate_per_pulse"] == pytest.approx(d["final_key_length"] / 3_000_000)
    assert d["block_label_counts"] == {"none": 3}
    assert d["key_bits"] > d["final_key_length"]
    assert d["frames"] == d["verified_frames"] == 1 and d["frames_discarded"] == 0


def test_end_to_end_real_postprocessing_keys_identical():
    r = run_bb84(rng=np.random.default_rng(11), **KW)
    assert r.status == "ok", r.abort_reason
    assert r.keys_identical and r.verified
    assert r.final_key_length > 0
    assert 1.0 <= r.reconciliation_efficiency < 2.0
    assert np.array_equal(r.final_alice_key, r.final_bob_key)


def test_finite_key_option(stub_reconciliation):
    kw = dict(KW, reconciliation=stub_reconciliation)
    r = run_bb84(rng=np.random.default_rng(5), finite_key=True, **kw)
    a = run_bb84(rng=np.random.default_rng(5), **kw)
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
        _app(),
        [
            "simulate",
            "--distance-km",
            "25",
            "--pulses",
            "2e6",
            "--seed",
            "3",
            "--reconciliation",
            stub_reconciliation,
            "--json",
        ],
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
    assert d["reconciliation"] == "perfect-stub"
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
        ["--eta-bob", "0"],
        ["--reconciliation", "magic"],
        ["--reconciliation", "no_such_module_xyz:Method"],
    ):
        res = runner.invoke(_app(), ["simulate", "--pulses", "1e5", *bad])
        assert res.exit_code == 2, (bad, res.output)


def test_cli_registered_under_qkd():
    from qnetai.cli.main import app

    res = CliRunner().invoke(app, ["qkd", "simulate", "--help"])
    assert res.exit_code == 0, res.output
    assert "--attack-strength" in res.stdout


def test_parse_count():
    assert parse_count("1e8") == 100_000_000
    assert parse_count("2_000") == 2000
    with pytest.raises(InputError):
        parse_count("0")
