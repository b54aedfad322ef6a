from __future__ import annotations

from dataclasses import replace

import numpy as np

from qnetai.qkd.channel import DEFAULT_CHANNEL
from qnetai.qkd.pulses import BB84Setup, iter_blocks
from qnetai.qkd.sifting import block_counts, key_bits, sift_mask


def test_sifting_keeps_matching_bases_and_counts_errors():
    channel = replace(DEFAULT_CHANNEL, e_detector=0.01)  # the QBER bound below assumes 1 %
    setup = BB84Setup(channel_transmittance=0.5, p_z=0.7, channel=channel)
    (block,) = iter_blocks(
        setup, pulses=500_000, rng=np.random.default_rng(2), block_pulses=500_000
    )
    m = sift_mask(block)
    assert np.array_equal(m, block.alice_basis == block.bob_basis)
    # with p_z = 0.7 for both sides, about p_z^2 + (1-p_z)^2 of detections are sifted
    frac = m.mean()
    assert abs(frac - 0.58) < 4 * np.sqrt(0.58 * 0.42 / m.size) + 0.01
    c = block_counts(block)
    assert c.sifted.sum() == m.sum()
    assert c.errors.sum() == np.count_nonzero(m & (block.alice_bit != block.bob_bit))
    assert c.sent.sum() == 500_000
    a, b = key_bits(block)
    assert a.size == c.sifted[0, 0]
    assert np.mean(a != b) < 0.03
    # Z sifted fraction of the key ~ p_z^2 / (p_z^2 + (1 - p_z)^2)
    assert c.sifted[:, 0].sum() > 4 * c.sifted[:, 1].sum()
