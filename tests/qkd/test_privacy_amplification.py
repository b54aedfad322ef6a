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


def test_multiply_add_shift_matches_reference_and_is_exact():
    from qnetai.qkd.multiply_add_shift import (
        MultiplyAddShiftHasher,
        multiply_add_shift_hash,
        multiply_add_shift_reference,
        seed_length,
    )

    rng = np.random.default_rng(11)
    for n, m in [(1, 1), (7, 3), (64, 64), (1000, 500), (4099, 1031)]:
        x = rng.integers(0, 2, n, dtype=np.uint8)
        s = rng.integers(0, 2, seed_length(n, m), dtype=np.uint8)
        ref = multiply_add_shift_reference(x, m, s)
        assert np.array_equal(multiply_add_shift_hash(x, m, s), ref)
    # Alice and Bob with the same seed and key get the same bits (exact integer arithmetic)
    alice = MultiplyAddShiftHasher.from_rng(np.random.default_rng(3), n=200_000, out_len=90_000)
    bob = MultiplyAddShiftHasher(alice.seed_bits(), n=200_000, out_len=90_000)
    key = rng.integers(0, 2, 200_000, dtype=np.uint8)
    assert np.array_equal(alice(key), bob(key))
    out, seed = privacy_amplify(key, 90_000, rng=rng, family="multiply-add-shift")
    assert seed.size == seed_length(200_000, 90_000)
    assert np.array_equal(out, MultiplyAddShiftHasher(seed, n=200_000, out_len=90_000)(key))
    assert 0.49 < out.mean() < 0.51
    with pytest.raises(InputError, match="family"):
        privacy_amplify(key, 10, rng=rng, family="x")
    with pytest.raises(InputError, match="seed_bits"):
        multiply_add_shift_hash(key[:10], 5, np.zeros(5, np.uint8))
    with pytest.raises(InputError, match="out_len"):
        MultiplyAddShiftHasher.from_rng(rng, n=10, out_len=11)


@pytest.mark.parametrize(("n", "m"), [(3, 1), (3, 2), (4, 2)])
def test_multiply_add_shift_is_strongly_universal_exhaustively(n, m):
    """Over all seeds, every pair x != x' maps to every pair of outputs equally often."""
    w = n + m - 1
    a = np.arange(1 << w, dtype=np.int64)[:, None]
    b = np.arange(1 << w, dtype=np.int64)[None, :]
    xs = np.arange(1 << n)
    h = np.stack([(((a * x + b) % (1 << w)) >> (w - m)).ravel() for x in xs])  # (2^n, seeds)
    seeds = 1 << (2 * w)
    for x1 in range(1 << n):
        for x2 in range(x1 + 1, 1 << n):
            counts = np.bincount(h[x1] * (1 << m) + h[x2], minlength=1 << (2 * m))
            assert (counts == seeds >> (2 * m)).all()
    # and the array implementation agrees with this integer formula on a few seeds
    from qnetai.qkd.multiply_add_shift import multiply_add_shift_hash

    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.integers(0, 2, 2 * w, dtype=np.uint8)
        av = int(sum(int(v) << j for j, v in enumerate(s[:w])))
        bv = int(sum(int(v) << j for j, v in enumerate(s[w:])))
        x = int(rng.integers(0, 1 << n))
        bits = np.array([(x >> j) & 1 for j in range(n)], np.uint8)
        y = ((av * x + bv) % (1 << w)) >> (w - m)
        assert multiply_add_shift_hash(bits, m, s).tolist() == [(y >> i) & 1 for i in range(m)]
