"""The faster pulse-simulation helpers give the same values and leave the same stream."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.qkd.pulses import _afterpulse_targets, _choice

_SHIFTS = np.arange(4, dtype=np.uint8)


def _afterpulse_reference(pos, masks, p_ap, rng):
    """The previous implementation (one bit matrix per call)."""
    if p_ap <= 0 or pos.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    bits = (masks[:, None] >> _SHIFTS[None, :]) & 1
    fire = (rng.random(bits.shape) < p_ap) & (bits == 1)
    tmask = (fire.astype(np.uint8) << _SHIFTS[None, :]).sum(axis=1).astype(np.uint8)
    keep = tmask != 0
    return pos[keep] + 1, tmask[keep]


@pytest.mark.parametrize("p_ap", [0.0, 1e-9, 0.005, 0.3, 0.9, 1.0])
def test_afterpulse_targets_equal_to_reference(p_ap: float) -> None:
    r = np.random.default_rng(7)
    for trial in range(40):
        m = int(r.integers(0, 2000))
        masks = r.integers(1, 16, m).astype(np.uint8)
        pos = np.sort(r.choice(100_000, m, replace=False)).astype(np.int64)
        ra, rb = np.random.default_rng(trial), np.random.default_rng(trial)
        a = _afterpulse_reference(pos, masks, p_ap, ra)
        b = _afterpulse_targets(pos, masks, p_ap, rb)
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
        assert ra.random() == rb.random()  # same number of draws


def test_choice_equal_to_generator_choice() -> None:
    r = np.random.default_rng(3)
    for trial in range(200):
        n = int(r.integers(1, 12))
        w = r.random(n) * (r.random(n) < 0.7)
        if w.sum() == 0:
            w[0] = 1.0
        p = w / w.sum()
        size = int(r.integers(0, 3000))
        ra, rb = np.random.default_rng(trial), np.random.default_rng(trial)
        a = ra.choice(n, size=size, p=p)
        b = _choice(n, size, p, rb)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
        assert ra.random() == rb.random()


def test_iter_blocks_with_shared_models_gives_the_same_blocks() -> None:
    from qnetai.qkd.attacks import AttackSpec
    from qnetai.qkd.pulses import BB84Setup, iter_blocks

    setup = BB84Setup.from_distance(30.0)
    attacks = [None, AttackSpec("intercept-resend", 0.5), None, AttackSpec("pns", 1.0)]
    models: dict = {}
    iter_blocks(setup, pulses=10_000, rng=np.random.default_rng(0), block_pulses=10_000)
    for seed in (1, 2):  # the second pass reuses the models the first one built
        ref = list(
            iter_blocks(
                setup,
                pulses=40_000,
                rng=np.random.default_rng(seed),
                block_pulses=10_000,
                block_attacks=attacks,
            )
        )
        got = list(
            iter_blocks(
                setup,
                pulses=40_000,
                rng=np.random.default_rng(seed),
                block_pulses=10_000,
                block_attacks=attacks,
                models=models,
            )
        )
        assert len(models) == 3
        for a, b in zip(ref, got, strict=True):
            for name in ("position", "intensity", "alice_basis", "alice_bit", "bob_basis"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            np.testing.assert_array_equal(a.bob_bit, b.bob_bit)
            np.testing.assert_array_equal(a.pattern, b.pattern)
            np.testing.assert_array_equal(a.sent, b.sent)
            assert a.attacked_pulses == b.attacked_pulses
