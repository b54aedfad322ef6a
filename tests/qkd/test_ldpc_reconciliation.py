import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.ldpc_codes import (
    ELKOUSS_2009,
    MOTHER_RATES,
    design_rate,
    irregular_ldpc_matrix,
    puncture_order,
    variable_degrees,
)
from qnetai.qkd.ldpc_reconciliation import choose_code, key_bits_per_frame, ldpc_reconcile

N = 2048


def _keys(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    return a, a ^ (rng.random(n) < q).astype(np.uint8)


def test_distributions_are_normalised_and_match_their_rate():
    for rate, (lam, rho) in ELKOUSS_2009.items():
        if rate == 0.85:  # transcribed lambda sums to 1.0515 (a typo in the source table)
            continue
        assert sum(lam.values()) == pytest.approx(1.0, abs=2e-3)
        assert sum(rho.values()) == pytest.approx(1.0, abs=2e-3)
        assert design_rate(rate) == pytest.approx(rate, abs=0.012)


def test_matrix_degrees_seeding_and_puncturing():
    for rate in (0.5, 0.7, 0.9):
        h = irregular_ldpc_matrix(N, rate)
        m = round(N * (1 - rate))
        assert h.shape == (m, N) and h.data.max() == 1  # no repeated edges
        col = np.asarray(h.sum(axis=0)).ravel()
        assert np.abs(np.sort(col) - variable_degrees(N, rate)).max() <= 1
        row = np.asarray(h.sum(axis=1)).ravel()
        assert row.max() - row.min() <= 3  # concentrated checks
        # degree-2 columns never repeat (no weight-2 codewords)
        two = h.tocsc()[:, col == 2]
        pairs = {tuple(two.indices[two.indptr[i] : two.indptr[i + 1]]) for i in range(two.shape[1])}
        assert len(pairs) >= two.shape[1] - 2
    assert (irregular_ldpc_matrix.__wrapped__(N, 0.8, 0) != irregular_ldpc_matrix(N, 0.8)).nnz == 0
    order = puncture_order(N, 0.8)
    assert np.array_equal(np.sort(order), np.arange(N))
    h = irregular_ldpc_matrix(N, 0.8).tocsc()
    # the leading untainted set: no check has two punctured neighbours
    head = order[: N // 20]
    counts = np.asarray(h[:, head].sum(axis=1)).ravel()
    assert counts.max() <= 1


def test_code_choice():
    for q in (0.01, 0.02, 0.05):
        rate, p0 = choose_code(q, code_bits=N)
        d = round(0.1 * N)
        assert rate in MOTHER_RATES and d / 2 <= p0 <= d
    assert choose_code(0.01)[0] > choose_code(0.05)[0]
    with pytest.raises(InputError, match="qber_estimate"):
        choose_code(0.6)


@pytest.mark.parametrize(
    ("q", "growth", "decoder"),
    [(0.01, 1.0, "layered"), (0.05, 1.0, "layered"), (0.02, 1.3, "layered"), (0.02, 1.0, "ldpc")],
)
def test_blind_reconciliation_corrects_and_accounts(q, growth, decoder):
    if decoder == "ldpc":
        pytest.importorskip("ldpc")
    k = key_bits_per_frame(N)
    a, b = _keys(4 * k - 100, q, int(q * 1000))
    out = ldpc_reconcile(
        a,
        b,
        qber_estimate=q,
        rng=np.random.default_rng(1),
        code_bits=N,
        step_growth=growth,
        decoder=decoder,
    )
    assert out.frame_bits == k and out.residual_errors_per_frame.size == 4
    assert out.frame_errors == 0 and np.array_equal(out.corrected_bits, a)
    assert out.failed_frames == ()
    m = round(N * (1 - out.rate))
    # leak = syndrome minus still-punctured bits: between m - d and m per frame
    assert (
        (out.leaked_bits_per_frame >= m - round(0.1 * N)) & (out.leaked_bits_per_frame <= m)
    ).all()
    assert out.round_trips == out.rounds_per_frame.max() >= 1


@pytest.mark.parametrize("decoder", ["layered", "ldpc"])
def test_non_blind_failure_is_flagged_and_keeps_raw_bits(decoder):
    if decoder == "ldpc":
        pytest.importorskip("ldpc")
    a, b = _keys(2 * key_bits_per_frame(N), 0.12, 4)
    out = ldpc_reconcile(
        a,
        b,
        qber_estimate=0.03,
        rng=np.random.default_rng(0),
        code_bits=N,
        blind=False,
        decoder=decoder,
    )
    assert out.detected_failures == 2 and out.failed_frames == (0, 1)
    assert (out.rounds_per_frame == 1).all()
    assert np.array_equal(out.corrected_bits, b)


def test_bad_input():
    a, b = _keys(100, 0.01, 6)
    with pytest.raises(InputError, match="bp_method"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, bp_method="x")
    with pytest.raises(InputError, match="ms_scaling_factor"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, ms_scaling_factor=0.0)
    with pytest.raises(InputError, match="step_growth"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, step_growth=0.9)
    with pytest.raises(InputError, match="max_iter"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, max_iter=0)
    with pytest.raises(InputError, match="decoder"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, decoder="x")
    with pytest.raises(InputError, match="patience"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, patience=-1)
    with pytest.raises(InputError, match="code_bits"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=64)
    with pytest.raises(InputError, match="rate"):
        irregular_ldpc_matrix(1024, 0.42)


def test_phi_table_matches_exact_function():
    from qnetai.qkd._ldpc_numba import PHI_TABLE, _phi

    x = np.concatenate([np.geomspace(1e-9, 0.03, 200), np.linspace(0.03, 40.0, 5000)])
    exact = -np.log(np.tanh(x / 2))
    approx = np.array([_phi(v, PHI_TABLE) for v in x])
    assert np.abs(approx - exact).max() < 5e-5


def test_layered_decoder_warm_start_after_disclosure():
    """A frame the decoder cannot finish converges once half the bits are revealed to it."""
    from qnetai.qkd._ldpc_numba import PHI_TABLE, layered_decode, unsatisfied_checks

    h = irregular_ldpc_matrix(N, 0.8)
    rng = np.random.default_rng(5)
    err = (rng.random(N) < 0.05).astype(np.uint8)  # far beyond this code's threshold
    syn = (np.asarray(h @ err) & 1).astype(np.uint8)
    llr = np.full(N, np.log(0.95 / 0.05))
    r, post = np.zeros(h.nnz), llr.copy()
    assert layered_decode(h.indptr, h.indices, syn, r, post, 30, PHI_TABLE, 4) == -1
    shown = rng.permutation(N)[: N // 2]
    post[shown] += np.where(err[shown] == 1, -27.6, 27.6)  # warm start: only these change
    assert layered_decode(h.indptr, h.indices, syn, r, post, 50, PHI_TABLE, 0) > 0
    assert np.array_equal((post < 0).astype(np.uint8), err)
    assert unsatisfied_checks(h.indptr, h.indices, syn, post) == 0
