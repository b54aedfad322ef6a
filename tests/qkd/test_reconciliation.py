import inspect
import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.reconciliation import (
    BUILTIN_RECONCILIATION,
    RECONCILIATION_METHODS,
    Cascade,
    Ldpc,
    ReconciliationMethod,
    ReconciliationOutcome,
    reconcile,
    resolve_reconciliation,
)


def _keys(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    return a, a ^ (rng.random(n) < q).astype(np.uint8)


@pytest.mark.parametrize("method", RECONCILIATION_METHODS)
def test_methods_reconcile_and_account(method):
    if method == "ldpc":
        pytest.importorskip("ldpc")
    a, b = _keys(40_960, 0.03, 1)
    fb = 4096 if method == "ldpc" else None
    res = reconcile(
        a, b, qber_estimate=0.03, method=method, rng=np.random.default_rng(2), frame_bits=fb
    )
    assert res.method == method and res.n_bits == a.size
    bad = np.zeros(a.size, dtype=bool)
    for i in res.failed_frames:  # LDPC may flag a frame (short 4096-bit test code)
        bad[i * res.frame_bits : (i + 1) * res.frame_bits] = True
    assert len(res.failed_frames) <= 1
    assert res.frame_errors == len(res.failed_frames)
    assert np.array_equal(res.corrected_bits[~bad], a[~bad])
    q = res.qber_actual
    assert q == pytest.approx(np.mean(a ^ b))
    assert res.leaked_bits >= a.size * binary_entropy(q)  # Slepian-Wolf
    assert res.efficiency == pytest.approx(res.leaked_bits / (a.size * binary_entropy(q)))
    assert res.efficiency_estimated == pytest.approx(
        res.leaked_bits / (a.size * binary_entropy(0.03))
    )
    assert res.round_trips >= 1
    if method == "ldpc":
        assert res.frame_bits == 4096 - 410
    d = res.to_dict()
    assert "corrected_bits" not in d and d["leaked_bits"] == res.leaked_bits
    assert len(res.to_dict(include_bits=True)["corrected_bits"]) == a.size


def test_zero_errors_efficiency_nan():
    a, _ = _keys(20_000, 0.0, 3)
    res = reconcile(a, a.copy(), qber_estimate=0.01, rng=np.random.default_rng(0))
    assert math.isnan(res.efficiency) and res.residual_bit_errors == 0


def test_bad_method_and_lengths():
    a, b = _keys(100, 0.01, 4)
    with pytest.raises(InputError, match="method"):
        reconcile(a, b, qber_estimate=0.01, method="magic", rng=np.random.default_rng())
    with pytest.raises(InputError, match="qber_estimate"):
        reconcile(a, b, qber_estimate=0.5, rng=np.random.default_rng())
    with pytest.raises(InputError, match="equal length"):
        reconcile(a, b[:-1], qber_estimate=0.01, rng=np.random.default_rng())


class _FlagAll:
    """A user method that corrects nothing and flags every frame as failed."""

    name = "flag-all"

    def reconcile(self, alice_bits, bob_bits, qber_estimate, *, rng):
        frames = -(-bob_bits.size // 100)
        return ReconciliationOutcome(
            corrected_bits=bob_bits.copy(),
            leaked_bits=7,
            frame_bits=100,
            failed_frames=tuple(range(frames)),
        )


def test_builtin_table_is_the_one_list():
    """Config schema, CLI help and the library share the table's names."""
    from qnetai.cli.qkd_simulate_cmd import simulate_command
    from qnetai.config.models import QKDSimulateSpec

    assert RECONCILIATION_METHODS == tuple(BUILTIN_RECONCILIATION)
    assert RECONCILIATION_METHODS[0] == "cascade"
    schema = QKDSimulateSpec.model_json_schema()["properties"]["reconciliation"]
    assert tuple(schema["enum"]) == RECONCILIATION_METHODS
    option = inspect.signature(simulate_command).parameters["reconciliation"].default
    help_text = option.help
    assert all(name in help_text for name in RECONCILIATION_METHODS)
    for name, method in BUILTIN_RECONCILIATION.items():
        assert isinstance(method, ReconciliationMethod) and method.name == name
        assert resolve_reconciliation(name) is method


def test_user_method_outcome_is_completed_and_checked():
    a, b = _keys(1_000, 0.05, 5)
    out = reconcile(a, b, qber_estimate=0.05, method=_FlagAll(), rng=np.random.default_rng(0))
    assert out.method == "flag-all" and out.frames == 10 and out.frame_bits == 100
    assert out.failed_frames == tuple(range(10)) and out.detected_failures == 10
    assert out.residual_bit_errors == int(np.count_nonzero(a ^ b))
    assert out.frame_errors == int(np.count_nonzero((a ^ b).reshape(10, 100).any(axis=1)))
    assert out.verified_frames is None and out.leaked_bits == 7

    class Short(_FlagAll):
        def reconcile(self, alice_bits, bob_bits, qber_estimate, *, rng):
            return ReconciliationOutcome(corrected_bits=bob_bits[:-1], leaked_bits=0, frame_bits=1)

    with pytest.raises(InputError, match="corrected_bits has 999 bits"):
        reconcile(a, b, qber_estimate=0.05, method=Short(), rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="frame_bits applies"):
        reconcile(a, b, qber_estimate=0.05, method=_FlagAll(), rng=None, frame_bits=100)


def test_resolve_names_objects_and_import_paths():
    assert resolve_reconciliation("cascade-original") == Cascade(variant="original")
    assert resolve_reconciliation("qnetai.qkd.reconciliation:Ldpc") == Ldpc()
    obj = _FlagAll()
    assert resolve_reconciliation(obj) is obj
    with pytest.raises(InputError, match="cannot import"):
        resolve_reconciliation("no_such_module_xyz:Method")
    with pytest.raises(InputError, match="one of cascade"):
        resolve_reconciliation("magic")
    with pytest.raises(InputError, match="needs a str `name`"):
        resolve_reconciliation(object())
    with pytest.raises(InputError, match="variant"):
        Cascade(variant="option9")
    with pytest.raises(InputError, match="code_bits=100 < 256"):
        Ldpc(code_bits=100)
