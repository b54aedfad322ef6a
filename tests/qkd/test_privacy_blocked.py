"""The partitioned float32 Toeplitz path (large inputs) is bit-exact, with its fallback."""

from __future__ import annotations

import numpy as np
import pytest

import qnetai.qkd.privacy_amplification as pa
from qnetai.errors import InputError
from qnetai.qkd.privacy_amplification import ToeplitzHasher, toeplitz_hash_reference


@pytest.mark.parametrize(
    ("n", "m", "b"),
    [
        (1, 1, 1),
        (5, 3, 2),
        (64, 64, 16),
        (100, 37, 8),
        (1000, 333, 64),
        (1000, 1500, 128),
        (1023, 1, 256),
        (3001, 2999, 512),
        (4096, 2048, 1024),
        (2500, 700, 3000),
        (777, 50, 50),
    ],
)
def test_blocked_equals_direct_reference(n, m, b):
    rng = np.random.default_rng(n * 31 + m * 7 + b)
    for density in (0.5, 0.95):
        x = (rng.random(n) < density).astype(np.uint8)
        s = (rng.random(n + m - 1) < density).astype(np.uint8)
        h = ToeplitzHasher(s, n=n, out_len=m, block_bits=b)
        assert np.array_equal(h(x), toeplitz_hash_reference(x, m, s))
        assert h.last_precision == "float32-blocked"


def test_blocked_batch_matches_single_rows():
    rng = np.random.default_rng(8)
    n, m = 2000, 900
    s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    xs = rng.integers(0, 2, (3, n), dtype=np.uint8)
    batch = ToeplitzHasher(s, n=n, out_len=m, block_bits=256)(xs)
    for k in range(3):
        assert np.array_equal(batch[k], toeplitz_hash_reference(xs[k], m, s))


def test_auto_blocked_equals_float64_single_transform():
    rng = np.random.default_rng(9)
    n, m = 400_000, 250_000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    fast = ToeplitzHasher(s, n=n, out_len=m)
    assert fast.block_bits > 0
    exact = ToeplitzHasher(s, n=n, out_len=m, precision="float64")
    assert np.array_equal(fast(x), exact(x))
    assert fast.last_precision == "float32-blocked" and exact.last_precision == "float64"


def test_small_inputs_keep_one_transform_and_block_choice():
    assert ToeplitzHasher(np.zeros(1099, np.uint8), n=1000, out_len=100).block_bits == 0
    assert pa._auto_block_bits(10**6, 5 * 10**5) in (1 << 16, 1 << 17, 1 << 18)
    assert pa._auto_block_bits(10**7, 5 * 10**6) in (1 << 18, 1 << 19, 1 << 20)
    with pytest.raises(InputError, match="block_bits"):
        ToeplitzHasher(np.zeros(10, np.uint8), n=6, out_len=5, block_bits=-1)


def test_failed_check_falls_back_to_float64(monkeypatch):
    monkeypatch.setattr(pa, "_MAX_FLOAT32_VALUE", -1.0)  # every float32 result rejected
    rng = np.random.default_rng(10)
    n, m = 3000, 1000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    for b in (0, 512):
        h = ToeplitzHasher(s, n=n, out_len=m, block_bits=b)
        assert np.array_equal(h(x), toeplitz_hash_reference(x, m, s))
        assert h.last_precision == "float64"


def test_biased_bits_fall_back_and_stay_exact():
    # strongly biased bits: the signed sequences have a large mean, float32 errors grow
    # past the 1/8 tolerance and the float64 path takes over; the result stays exact
    rng = np.random.default_rng(11)
    n, m = 600_000, 300_000
    x = (rng.random(n) < 0.99).astype(np.uint8)
    s = (rng.random(n + m - 1) < 0.99).astype(np.uint8)
    h = ToeplitzHasher(s, n=n, out_len=m)
    exact = ToeplitzHasher(s, n=n, out_len=m, precision="float64", block_bits=0)
    y = h(x)
    assert h.last_precision == "float64"
    assert np.array_equal(y, exact(x))
    for i in rng.choice(m, 8, replace=False):
        assert y[i] == int(s[i : i + n][::-1].astype(np.int64) @ x) % 2
