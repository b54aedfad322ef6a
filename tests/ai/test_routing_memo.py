"""The learned routing policy's remembered decisions change nothing (same run, fewer scorings)."""

from __future__ import annotations

import numpy as np
import pytest

import qnetai.ai.engine_rl as engine_rl
import qnetai.ai.routing_env as routing_env
from qnetai.facade import load, simulate


def test_memo_gives_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load("metro-6g").model_copy(update={"duration_s": 0.3})
    calls = {"n": 0}
    real = routing_env.routing_observe

    def counting(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(routing_env, "routing_observe", counting)
    with_memo = simulate(sc)
    n_memo = calls["n"]
    monkeypatch.setattr(engine_rl, "_MEMO_LIMIT", 0)
    calls["n"] = 0
    without = simulate(sc)
    assert calls["n"] > n_memo > 0  # fewer scorings, same decisions
    for name in ("requests", "deliveries", "links", "nodes", "timeseries"):
        a, b = getattr(with_memo, name), getattr(without, name)
        assert a.schema == b.schema and a.num_rows == b.num_rows, name
        for col in a.column_names:  # NaN-aware (empty time bins have a NaN mean fidelity)
            np.testing.assert_array_equal(
                a[col].to_numpy(zero_copy_only=False), b[col].to_numpy(zero_copy_only=False)
            )
    assert with_memo.summary["events"] == without.summary["events"]
