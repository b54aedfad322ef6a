"""Girth-6 mother codes: no 4-cycles, exact degrees, seeding, both constructions decode."""

import numpy as np
import pytest
import scipy.sparse as sp

from qnetai.errors import InputError
from qnetai.qkd.ldpc_codes import (
    CONSTRUCTIONS,
    count_four_cycles,
    girth6_ldpc_matrix,
    irregular_ldpc_matrix,
    ldpc_matrix,
    puncture_order,
    variable_degrees,
)
from qnetai.qkd.ldpc_reconciliation import choose_code, ldpc_reconcile


def _four_cycles_brute(h: sp.csr_matrix) -> int:
    """Row pairs sharing >= 2 columns, counted pair by pair with Python sets (independent)."""
    rows = [set(h.indices[h.indptr[i] : h.indptr[i + 1]]) for i in range(h.shape[0])]
    return sum(
        len(rows[i] & rows[j]) >= 2 for i in range(len(rows)) for j in range(i + 1, len(rows))
    )


@pytest.mark.parametrize("rate", [0.9, 0.85, 0.8, 0.7, 0.6])
def test_shipped_size_has_girth_at_least_six(rate):
    h = girth6_ldpc_matrix(1 << 16, rate)
    assert count_four_cycles(h) == 0
    m, n = h.shape
    assert m == round(n * (1 - rate)) and h.data.max() == 1
    col = np.diff(h.tocsc().indptr)
    assert np.array_equal(np.sort(col), np.minimum(variable_degrees(n, rate), m))  # exact
    row = np.diff(h.indptr)
    assert row.max() - row.min() <= 1  # concentrated checks as in rho


def test_four_cycle_count_agrees_with_brute_force_and_random_codes_have_them():
    # below ~2**13 the high-degree columns make 4-cycles unavoidable (thousands remain)
    h = girth6_ldpc_matrix(8192, 0.9)
    r = irregular_ldpc_matrix(8192, 0.9)
    assert count_four_cycles(h) == _four_cycles_brute(h) == 0
    assert count_four_cycles(r) == _four_cycles_brute(r) > 10_000


def test_girth6_is_seeded_and_degree_two_columns_form_no_short_cycle():
    a = girth6_ldpc_matrix.__wrapped__(1 << 13, 0.8, 3)
    assert (a != girth6_ldpc_matrix(1 << 13, 0.8, 3)).nnz == 0
    assert (a != girth6_ldpc_matrix(1 << 13, 0.8, 4)).nnz > 0
    two = a.tocsc()[:, np.diff(a.tocsc().indptr) == 2]
    pairs = {tuple(two.indices[two.indptr[i] : two.indptr[i + 1]]) for i in range(two.shape[1])}
    assert len(pairs) == two.shape[1]  # no weight-2 codeword


def test_construction_switch_and_errors():
    assert (ldpc_matrix(2048, 0.8) != irregular_ldpc_matrix(2048, 0.8)).nnz == 0  # default
    assert (ldpc_matrix(2048, 0.8, 0, "girth6") != girth6_ldpc_matrix(2048, 0.8)).nnz == 0
    order = puncture_order(2048, 0.8, 0, "girth6")
    assert np.array_equal(np.sort(order), np.arange(2048))
    h = girth6_ldpc_matrix(2048, 0.8).tocsc()
    assert np.asarray(h[:, order[:100]].sum(axis=1)).max() <= 1  # untainted head
    with pytest.raises(InputError, match="construction"):
        ldpc_matrix(2048, 0.8, 0, "peg")
    with pytest.raises(InputError, match="rate"):
        girth6_ldpc_matrix(2048, 0.42)
    with pytest.raises(InputError, match="code_construction"):
        ldpc_reconcile(np.zeros(10, np.uint8), np.zeros(10, np.uint8), qber_estimate=0.02,
                       code_construction="peg")  # fmt: skip
    with pytest.raises(InputError, match="min_punctured_fraction"):
        ldpc_reconcile(np.zeros(10, np.uint8), np.zeros(10, np.uint8), qber_estimate=0.02,
                       min_punctured_fraction=2.0)  # fmt: skip


def test_min_punctured_fraction_picks_higher_rate():
    assert choose_code(0.01, min_punctured_fraction=0.5)[0] == 0.85
    rate, p0 = choose_code(0.01, min_punctured_fraction=0.1)
    assert rate == 0.9 and 0.1 * 6554 <= p0 <= 6554


@pytest.mark.parametrize("construction", CONSTRUCTIONS)
def test_both_constructions_reconcile(construction):
    rng = np.random.default_rng(5)
    a = rng.integers(0, 2, 30_000, dtype=np.uint8)
    b = a ^ (rng.random(a.size) < 0.03).astype(np.uint8)
    out = ldpc_reconcile(
        a, b, qber_estimate=0.03, rng=rng, code_bits=1 << 13, code_construction=construction
    )
    assert out.frame_errors == 0 and np.array_equal(out.corrected_bits, a)
    assert out.leaked_bits > 30_000 * 0.19  # above the Shannon limit h2(0.03) = 0.194
