import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.cascade import cascade_block_sizes, cascade_frames, cascade_reconcile


def _keys(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    b = a ^ (rng.random(n) < q).astype(np.uint8)
    return a, b, rng


def test_block_sizes_follow_the_papers():
    assert cascade_block_sizes("original", 0.01, 10_000) == (73, 146, 292, 584)
    assert cascade_block_sizes("option7", 0.02, 10_000) == (64, 256) + (5000,) * 12
    # option 8: a = log2(50) - 1/2 = 5.14 -> 2^6; (a + 12) / 2 = 8.57 -> 2^9; 4096; n/2
    assert cascade_block_sizes("option8", 0.02, 10_000) == (64, 512, 4096) + (5000,) * 11
    assert cascade_block_sizes("option8", 0.05, 1000)[:3] == (16, 256, 1000)  # clipped to n
    assert cascade_block_sizes("original", 0.0, 500) == (500,) * 4


def test_single_error_exact_leak_and_round_trips():
    # one error, option 7 at q=2% on 1024 bits: pass 1 has 16 blocks of 64 and BINARY needs
    # 6 parities; passes 2 (4 blocks of 256) and 3..14 (2 blocks of 512) find nothing.
    err = np.zeros((1, 1024), dtype=np.uint8)
    err[0, 333] = 1
    sizes = cascade_block_sizes("option7", 0.02, 1024)
    flips, leak, rt = cascade_frames(err, sizes, rng=np.random.default_rng(0), reuse_subblocks=True)
    assert flips[0, 333] == 1 and flips.sum() == 1
    assert leak.tolist() == [16 + 6 + 4 + 12 * 2]
    assert rt == 14 + 6


def test_no_errors_leaks_only_block_parities():
    a, _, rng = _keys(20_000, 0.0, 1)
    out = cascade_reconcile(a, a.copy(), qber_estimate=0.02, rng=rng, variant="original")
    assert (out.corrected_bits == a).all()
    blocks = sum(-(-10_000 // k) for k in cascade_block_sizes("original", 0.02, 10_000))
    assert out.leaked_bits == 2 * blocks
    assert out.round_trips == 4


@pytest.mark.parametrize("variant", ["original", "option7", "option8"])
@pytest.mark.parametrize("q", [0.01, 0.02, 0.05])
def test_corrects_all_frames_and_efficiency_band(variant, q):
    frames, n = 20, 10_000
    a, b, rng = _keys(frames * n, q, 11)
    out = cascade_reconcile(a, b, qber_estimate=q, rng=rng, variant=variant, frame_bits=n)
    # seeded: all 20 frames corrected (measured residual frame error rates are ~1e-3 or less)
    assert out.frame_errors == 0
    assert (out.corrected_bits == a).all()
    q_frames = (a ^ b).reshape(frames, n).mean(axis=1)
    bound = n * binary_entropy(q_frames)
    # Slepian-Wolf: at least n h2(q) bits must be disclosed
    assert out.leaked_bits >= bound.sum()
    f = out.leaked_bits / bound.sum()
    lo_hi = {"original": (1.05, 1.30), "option7": (1.0, 1.12), "option8": (1.0, 1.12)}[variant]
    assert lo_hi[0] < f < lo_hi[1]


def test_improved_variant_beats_original():
    a, b, rng = _keys(100_000, 0.03, 5)
    orig = cascade_reconcile(a, b, qber_estimate=0.03, rng=rng, variant="original")
    opt8 = cascade_reconcile(a, b, qber_estimate=0.03, rng=rng, variant="option8")
    assert opt8.leaked_bits < 0.95 * orig.leaked_bits
    assert opt8.round_trips > orig.round_trips  # the price: more interaction


def test_seeded_determinism_and_partial_last_frame():
    a, b, _ = _keys(25_123, 0.02, 3)
    r1 = cascade_reconcile(a, b, qber_estimate=0.02, rng=np.random.default_rng(9))
    r2 = cascade_reconcile(a, b, qber_estimate=0.02, rng=np.random.default_rng(9))
    assert r1.leaked_bits == r2.leaked_bits and r1.round_trips == r2.round_trips
    assert (r1.corrected_bits == r2.corrected_bits).all()
    assert r1.leaked_bits_per_frame.size == 3 and r1.residual_errors_per_frame.size == 3
    assert (r1.corrected_bits == a).all()


RNG = np.random.default_rng(0)


def test_bad_input():
    with pytest.raises(InputError, match="equal length"):
        cascade_reconcile(np.zeros(10), np.zeros(11), qber_estimate=0.01, rng=RNG)
    with pytest.raises(InputError, match="variant"):
        cascade_block_sizes("nope", 0.01, 100)
    with pytest.raises(InputError, match="qber_estimate"):
        cascade_block_sizes("original", 0.7, 100)
    with pytest.raises(InputError, match="only 0 and 1"):
        cascade_reconcile(np.full(10, 2), np.zeros(10), qber_estimate=0.01, rng=RNG)


@pytest.mark.parametrize("variant", ["original", "option7", "option8"])
def test_compiled_kernel_matches_batched_numpy_bit_for_bit(variant):
    from qnetai.qkd.cascade import _cascade_frames_numpy, cascade_block_sizes, cascade_frames

    for q, seed, (frames, n) in [(0.01, 0, (6, 2000)), (0.05, 1, (5, 1500)), (0.11, 2, (3, 777))]:
        rng = np.random.default_rng(seed)
        err = (rng.random((frames, n)) < q).astype(np.uint8)
        sizes = cascade_block_sizes(variant, q, n)
        reuse = variant != "original"
        fast = cascade_frames(
            err, sizes, rng=np.random.default_rng(seed + 10), reuse_subblocks=reuse
        )
        ref = _cascade_frames_numpy(
            err,
            sizes,
            rng=np.random.default_rng(seed + 10),
            reuse_subblocks=reuse,
            concurrent=False,
        )
        assert np.array_equal(fast[0], ref[0]) and np.array_equal(fast[1], ref[1])
        assert fast[2] == ref[2]
