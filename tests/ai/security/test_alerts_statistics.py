"""The monitor's per-block statistics equal ``telemetry_features`` (same draws, same values)."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.ai.security.alerts import _telemetry
from qnetai.qkd.attacks import AttackSpec
from qnetai.qkd.monitoring import telemetry_features
from qnetai.qkd.pulses import BB84Setup, iter_blocks

COLUMNS = (
    "qber_z_signal",
    "single_photon_fraction",
    "monitor_photodiode_nw",
    "timing_std_ps",
    "gain_signal",
)


@pytest.mark.parametrize(
    "attack",
    [None, "intercept-resend", "pns", "blinding", "trojan-horse", "time-shift"],
)
def test_telemetry_equals_telemetry_features(attack: str | None) -> None:
    setup = BB84Setup.from_distance(8.0, mu=0.6, nu=0.1)
    spec = AttackSpec(attack, 0.5) if attack else None
    n, bp = 4, 20_000
    attacks = [None, spec, spec, None]
    fast = _telemetry({(): setup}, [()] * n, attacks, bp, np.random.default_rng(4))
    rng = np.random.default_rng(4)
    blocks = iter_blocks(setup, pulses=n * bp, rng=rng, block_pulses=bp, block_attacks=attacks)
    ref = [telemetry_features(b, mu=0.6, nu=0.1, rng=rng) for b in blocks]
    for col in COLUMNS:
        np.testing.assert_array_equal(fast[col], [float(r[col]) for r in ref], err_msg=col)
    want = np.array([float(r["double_click_rate"]) / float(r["gain_signal"]) for r in ref])
    np.testing.assert_array_equal(fast["double_per_gain"], want)
