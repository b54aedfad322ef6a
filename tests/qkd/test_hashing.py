import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.hashing import universal_hash, verify_keys


def test_equal_keys_pass_and_leak_tag_bits():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 100_000, dtype=np.uint8)
    res = verify_keys(a, a.copy(), rng=rng)
    assert res.equal and bool(res)
    assert res.leaked_bits == 64 and res.collision_probability == 2.0**-64
    assert res.to_dict()["tag_bits"] == 64


def test_every_single_bit_difference_detected():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, 4096, dtype=np.uint8)
    for pos in [0, 1, 2047, 4095, *rng.choice(4096, 20, replace=False).tolist()]:
        b = a.copy()
        b[pos] ^= 1
        assert not verify_keys(a, b, rng=rng).equal


def test_collision_rate_matches_universality():
    # with 4 tag bits unequal keys collide with probability exactly 1/16
    rng = np.random.default_rng(2)
    trials, hits = 2000, 0
    for _ in range(trials):
        a = rng.integers(0, 2, 48, dtype=np.uint8)
        b = a ^ (rng.random(48) < 0.1).astype(np.uint8)
        if (a == b).all():
            b[rng.integers(48)] ^= 1
        hits += verify_keys(a, b, tag_bits=4, rng=rng).equal
    p = 1 / 16
    se = np.sqrt(p * (1 - p) / trials)
    assert abs(hits / trials - p) < 4 * se


def test_seeded_determinism_and_errors():
    a = np.random.default_rng(3).integers(0, 2, 500, dtype=np.uint8)
    s = np.random.default_rng(4).integers(0, 2, 500 + 32 - 1, dtype=np.uint8)
    assert np.array_equal(universal_hash(a, s, 32), universal_hash(a, s, 32))
    with pytest.raises(InputError, match="equal length"):
        verify_keys(a, a[:-1], rng=np.random.default_rng())
    with pytest.raises(InputError, match="tag_bits"):
        verify_keys(a, a, tag_bits=0, rng=np.random.default_rng())
    assert verify_keys(a[:0], a[:0], rng=np.random.default_rng()).equal
