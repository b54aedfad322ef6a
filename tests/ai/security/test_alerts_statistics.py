"""The monitor's per-block statistics equal ``telemetry_features`` (same draws, same values)."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.ai.security.alerts import _STAT_COLUMNS, _block_statistics
from qnetai.qkd.attacks import AttackSpec
from qnetai.qkd.monitoring import telemetry_features
from qnetai.qkd.pulses import BB84Setup, iter_blocks


@pytest.mark.parametrize(
    "attack",
    [None, "intercept-resend", "pns", "blinding", "trojan-horse", "time-shift"],
)
def test_block_statistics_equal_telemetry_features(attack: str | None) -> None:
    setup = BB84Setup.from_distance(8.0, mu=0.6, nu=0.1)
    spec = AttackSpec(attack, 0.5) if attack else None
    blocks = list(
        iter_blocks(
            setup, pulses=3 * 20_000, rng=np.random.default_rng(4), block_pulses=20_000, attack=spec
        )
    )
    for blk in blocks:
        ra, rb = np.random.default_rng(9), np.random.default_rng(9)
        fast = _block_statistics(blk, mu=0.6, nu=0.1, rng=ra)
        ref = telemetry_features(blk, mu=0.6, nu=0.1, rng=rb)
        want = [float(ref[c]) for c in _STAT_COLUMNS]
        np.testing.assert_array_equal(np.array(fast), np.array(want))
        assert ra.random() == rb.random()  # the same numbers were drawn
