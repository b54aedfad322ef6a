import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.ldpc_reconciliation import choose_rate, ldpc_matrix, ldpc_reconcile

pytest.importorskip("ldpc")


def _keys(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    return a, a ^ (rng.random(n) < q).astype(np.uint8)


def test_matrix_structure_and_seeding():
    h = ldpc_matrix(512, 0.75, 1)
    assert h.shape == (128, 512)
    dense = h.toarray().astype(np.int64)
    assert (dense.sum(axis=0) == 3).all()
    rows = dense.sum(axis=1)
    assert rows.max() - rows.min() <= 1  # balanced row weights
    overlap = dense @ dense.T
    np.fill_diagonal(overlap, 0)
    assert overlap.max() <= 1  # no 4-cycles
    assert (ldpc_matrix.__wrapped__(512, 0.75, 1) != h).nnz == 0


def test_rate_choice_monotone():
    rates = [choose_rate(q) for q in (0.005, 0.01, 0.02, 0.05, 0.08)]
    assert rates == sorted(rates, reverse=True)
    assert rates[0] <= 0.95 and rates[-1] == 0.5
    assert choose_rate(0.02, design_efficiency=1.2) > choose_rate(0.02)


def test_decodes_at_low_qber_and_leaks_the_syndrome():
    a, b = _keys(8 * 1024, 0.01, 2)
    out = ldpc_reconcile(a, b, qber_estimate=0.01, frame_bits=1024, rate=0.5)
    assert out.frame_errors == 0 and out.detected_failures == 0
    assert np.array_equal(out.corrected_bits, a)
    assert out.leaked_bits == 8 * 512


def test_default_rate_decodes_most_frames_at_3_percent():
    a, b = _keys(10 * 4096, 0.03, 3)
    out = ldpc_reconcile(a, b, qber_estimate=0.03)
    assert out.frame_errors <= 1
    assert out.leaked_bits == 10 * round(4096 * (1 - out.rate))


def test_high_qber_reports_frame_errors():
    a, b = _keys(4 * 1024, 0.15, 4)
    out = ldpc_reconcile(a, b, qber_estimate=0.15, frame_bits=1024)
    assert out.rate == 0.5
    assert out.detected_failures >= 3 and out.frame_errors >= out.detected_failures
    failed = ~out.decoded_per_frame
    # failed frames keep Bob's raw bits
    idx = np.flatnonzero(np.repeat(failed, 1024))
    assert np.array_equal(out.corrected_bits[idx], b[idx])


def test_shortened_last_frame():
    a, b = _keys(2 * 1024 + 300, 0.01, 5)
    out = ldpc_reconcile(a, b, qber_estimate=0.01, frame_bits=1024, rate=0.5)
    assert out.residual_errors_per_frame.size == 3
    assert np.array_equal(out.corrected_bits, a)


def test_bad_input():
    a, b = _keys(100, 0.01, 6)
    with pytest.raises(InputError, match="bp_method"):
        ldpc_reconcile(a, b, qber_estimate=0.01, frame_bits=64, bp_method="x")
    with pytest.raises(InputError, match="qber_estimate"):
        choose_rate(0.6)
