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
    order = puncture_order(N, 0.8, 0, "random")
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
    [
        (0.01, 1.0, "layered"),
        (0.05, 1.0, "layered"),
        (0.02, 1.3, "layered"),
        (0.02, 1.0, "ldpc"),
        (0.01, 1.0, "batch"),
        (0.05, 1.0, "batch"),
        (0.02, 1.3, "batch"),
    ],
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


@pytest.mark.parametrize("decoder", ["layered", "ldpc", "batch", "batch-minsum"])
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
    with pytest.raises(InputError, match="batch_frames"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, batch_frames=0)
    with pytest.raises(InputError, match="ms_offset"):
        ldpc_reconcile(a, b, qber_estimate=0.01, code_bits=N, ms_offset=-1.0)
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


def _reconcile(a, b, q, decoder, seed=1, **kw):
    return ldpc_reconcile(
        a, b, qber_estimate=q, rng=np.random.default_rng(seed), code_bits=N, decoder=decoder, **kw
    )


@pytest.mark.parametrize("q", [0.02, 0.05])
def test_batch_decoder_agrees_with_reference_and_accounts_leak(q):
    """Same frames for both decoders; on frames both decode the keys agree with Alice's, and
    every frame leaks the syndrome minus the bits still punctured after its blind rounds."""
    k = key_bits_per_frame(N)
    a, b = _keys(5 * k - 300, q, int(q * 1000) + 3)
    ref = _reconcile(a, b, q, "layered")
    new = _reconcile(a, b, q, "batch", batch_frames=2)
    both = ref.decoded_per_frame & new.decoded_per_frame
    assert both.sum() >= 4
    for f in np.flatnonzero(both):
        sl = slice(f * k, (f + 1) * k)
        assert np.array_equal(new.corrected_bits[sl], ref.corrected_bits[sl])
        assert np.array_equal(new.corrected_bits[sl], a[sl])
    h2 = float(-q * np.log2(q) - (1 - q) * np.log2(1 - q))
    step = max(1, int(np.ceil(0.02 * k * h2)))
    m = round(N * (1 - new.rate))
    for out in (ref, new):
        left = np.maximum(out.initial_punctured - (out.rounds_per_frame - 1) * step, 0)
        assert np.array_equal(out.leaked_bits_per_frame, m - left)
    # the float32 decoder needs about as many blind rounds as the float64 one
    assert abs(int(new.leaked_bits) - int(ref.leaked_bits)) <= 3 * step * 5


def test_batch_decoder_is_deterministic_and_width_independent():
    k = key_bits_per_frame(N)
    a, b = _keys(3 * k, 0.03, 11)
    one = _reconcile(a, b, 0.03, "batch", seed=4, batch_frames=1)
    three = _reconcile(a, b, 0.03, "batch", seed=4, batch_frames=3)
    again = _reconcile(a, b, 0.03, "batch", seed=4, batch_frames=3)
    for x, y in ((one, three), (three, again)):
        assert np.array_equal(x.corrected_bits, y.corrected_bits)
        assert np.array_equal(x.leaked_bits_per_frame, y.leaked_bits_per_frame)
        assert np.array_equal(x.rounds_per_frame, y.rounds_per_frame)
    # (frame 1 here is decoded to a wrong pattern with the right syndrome: an undetected
    # error at this short length, caught by the hash verification of qkd/hashing.py)
    assert three.decoded_per_frame.all() and three.frame_errors <= 1


def test_minsum_decoder_decoded_frames_are_correct():
    k = key_bits_per_frame(N)
    a, b = _keys(3 * k, 0.02, 12)
    out = _reconcile(a, b, 0.02, "batch-minsum", ms_scaling_factor=0.8, ms_offset=0.1)
    ok = out.decoded_per_frame
    assert ok.sum() >= 2
    assert (out.residual_errors_per_frame[ok] == 0).all()
    assert np.array_equal(out.corrected_bits[~np.repeat(ok, k)], b[~np.repeat(ok, k)])


def test_log_phi_table_matches_exact_function():
    from qnetai.qkd._ldpc_numba import phi_log_table

    x = np.geomspace(2.0**-20, 31.9, 20_000).astype(np.float32)
    exact = -np.log(np.tanh(x.astype(np.float64) / 2))
    assert np.abs(phi_log_table(x) - exact).max() < 2e-5
    assert phi_log_table(np.array([0.0, 1e-9], np.float32)).min() == pytest.approx(14.556, 1e-3)
    assert phi_log_table(np.array([40.0, np.inf], np.float32)).max() < 1e-13


@pytest.mark.parametrize("rule", [0, 1])
def test_batch_kernel_single_check_closed_form(rule):
    """One check, three variables, one iteration: the messages of sum-product / min-sum."""
    from qnetai.qkd._ldpc_numba import PHI_LOG_SLOPE, PHI_LOG_VAL, layered_decode_batch

    indptr = np.array([0, 3], dtype=np.int64)
    cols = np.array([0, 1, 2], dtype=np.int64)
    llr = np.array([1.5, -0.7, 2.5], dtype=np.float32)
    post = llr.copy()  # one frame: flat layout equals the plain vector
    r = np.zeros(3, np.float32)
    syn = np.array([0], np.uint8)  # hard decision 0,1,0 has parity 1: unsatisfied
    state, iters = np.zeros(1, np.int64), np.zeros(1, np.int64)
    best, since = np.full(1, -1, np.int64), np.zeros(1, np.int64)
    hard = np.zeros(3, np.uint8)
    layered_decode_batch(
        indptr,
        cols,
        syn,
        r,
        post,
        hard,
        state,
        iters,
        best,
        since,
        1,
        0,
        1,
        rule,
        0.8,
        0.1,
        PHI_LOG_VAL,
        PHI_LOG_SLOPE,
    )
    x = llr.astype(np.float64)
    if rule == 0:
        t = np.tanh(x / 2)
        expect = [2 * np.arctanh(np.prod(np.delete(t, i))) for i in range(3)]
    else:
        expect = [
            np.prod(np.sign(np.delete(x, i))) * 0.8 * max(np.abs(np.delete(x, i)).min() - 0.1, 0)
            for i in range(3)
        ]
    assert r == pytest.approx(expect, abs=2e-4)
    assert post == pytest.approx(x + np.array(expect), abs=2e-4)
    # the middle bit flips to 0: the hard decision 0,0,0 now satisfies the check
    assert iters[0] == 1 and state[0] == 1 and hard.tolist() == [0, 0, 0]
