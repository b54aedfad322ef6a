import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.privacy_amplification import (
    ToeplitzHasher,
    privacy_amplify,
    toeplitz_hash,
    toeplitz_hash_reference,
)

SIZES = [
    (1, 1),
    (2, 1),
    (1, 5),
    (7, 3),
    (17, 40),
    (64, 64),
    (100, 37),
    (255, 256),
    (1000, 333),
    (1023, 1),
    (1024, 1024),
    (1500, 999),
    (2049, 700),
    (3001, 2999),
]


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_fft_equals_direct_reference(n, m):
    rng = np.random.default_rng(n * 7919 + m)
    for density in (0.5, 0.95):  # dense inputs give the largest convolution sums
        x = (rng.random(n) < density).astype(np.uint8)
        s = (rng.random(n + m - 1) < density).astype(np.uint8)
        ref = toeplitz_hash_reference(x, m, s)
        assert np.array_equal(toeplitz_hash(x, m, s), ref)
        if n > 1:
            assert np.array_equal(ToeplitzHasher(s, n=n, out_len=m)._split(x), ref)


def test_reference_matches_matrix_definition():
    rng = np.random.default_rng(2)
    n, m = 9, 4
    x = rng.integers(0, 2, n)
    s = rng.integers(0, 2, n + m - 1)
    t = np.array([[s[i - j + n - 1] for j in range(n)] for i in range(m)])
    assert np.array_equal(toeplitz_hash_reference(x, m, s), (t @ x) % 2)


def test_large_input_exact_against_blockwise_reference():
    # 2^20-bit input: compare with the sum of the FFT hashes of column blocks, each checked
    # by the definition on a few output rows
    rng = np.random.default_rng(4)
    n, m = 1 << 20, 1 << 19
    x = (rng.random(n) < 0.9).astype(np.uint8)
    s = (rng.random(n + m - 1) < 0.9).astype(np.uint8)
    y = toeplitz_hash(x, m, s)
    rows = rng.choice(m, 16, replace=False)
    for i in rows:
        row = s[i : i + n][::-1]
        assert y[i] == int(row.astype(np.int64) @ x) % 2


def test_batch_and_linearity():
    rng = np.random.default_rng(5)
    n, m = 700, 300
    s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    h = ToeplitzHasher(s, n=n, out_len=m)
    xs = rng.integers(0, 2, (3, n), dtype=np.uint8)
    batch = h(xs)
    for k in range(3):
        assert np.array_equal(batch[k], toeplitz_hash_reference(xs[k], m, s))
    assert np.array_equal(h(xs[0] ^ xs[1]), batch[0] ^ batch[1])


def test_privacy_amplify_and_errors():
    rng = np.random.default_rng(6)
    key = rng.integers(0, 2, 5000, dtype=np.uint8)
    out, seed = privacy_amplify(key, 1200, rng=rng)
    assert out.shape == (1200,) and seed.shape == (5000 + 1200 - 1,)
    assert np.array_equal(out, toeplitz_hash_reference(key, 1200, seed))
    assert 0.45 < out.mean() < 0.55
    with pytest.raises(InputError, match="seed_bits"):
        toeplitz_hash(key, 10, seed)
    with pytest.raises(InputError, match="out_len"):
        privacy_amplify(key, 6000, rng=rng)
    with pytest.raises(InputError, match="only 0 and 1"):
        toeplitz_hash(np.full(4, 3), 2, np.zeros(5, dtype=np.uint8))
