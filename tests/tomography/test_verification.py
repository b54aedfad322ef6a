"""Verification by sacrificed pairs: unbiased, with intervals that cover at the stated rate."""

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics.bell import werner
from qnetai.tomography import verify_pairs


def test_unbiased_and_covers_on_mixed_pairs():
    rng = np.random.default_rng(0)
    f = rng.uniform(0.6, 1.0, size=2000)
    pairs = np.stack([f, (1 - f) * 0.5, (1 - f) * 0.2, (1 - f) * 0.3], axis=1)
    outs = [verify_pairs(pairs, fraction=0.25, rng=rng, readout_error=0.02) for _ in range(300)]
    err = np.array([o.fidelity - o.true_fidelity for o in outs])
    assert abs(err.mean()) < 4 * err.std(ddof=1) / np.sqrt(err.size)
    cover = np.mean([o.low <= o.true_fidelity <= o.high for o in outs])
    assert 0.9 < cover < 0.99
    assert all(o.used + o.kept == 2000 for o in outs)


def test_refusals():
    with pytest.raises(InputError, match="fraction"):
        verify_pairs(werner(0.9)[None], fraction=0.0, rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="fewer than 2"):
        verify_pairs(werner(0.9)[None], fraction=1.0, rng=np.random.default_rng(0))
