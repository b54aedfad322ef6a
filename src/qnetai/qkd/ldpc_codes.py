"""Irregular LDPC parity-check matrices for reconciliation over the binary symmetric channel.

Degree distributions (edge perspective, ``lambda(x) = sum_i lambda_i x**(i-1)`` with ``i`` the
variable-node degree) are the BSC-optimised ones of Elkouss, Leverrier, Alleaume and Boutros
(2009), "Efficient reconciliation protocol for discrete-variable quantum key distribution",
ISIT 2009 / arXiv:0901.2140, for rates 0.5-0.9 in steps of 0.05 (as tabulated in the public
re-implementation github.com/A-DaRo/qia-challenge-2025, file
caligo/configs/ldpc_degree_distributions.yaml, not re-checked against the paper; their design
rates ``1 - int(rho) / int(lambda)`` agree with the nominal rates to within 0.003, except 0.75
(0.739) and 0.85 (0.858), whose transcribed lambda sums to 1.0515, i.e. has a typo; node
degrees are always drawn from the normalised table, so that code is still valid, only its
distribution is not exactly the published one). Check nodes are made concentrated (degrees
``floor`` / ``ceil`` of the mean), which is what the published ``rho`` polynomials are, and the
number of rows is exactly ``round(n (1 - R))``.

Two constructions (:data:`CONSTRUCTIONS`, chosen with :func:`ldpc_matrix`): ``"random"``
(default, :func:`irregular_ldpc_matrix`, thousands of 4-cycles) and ``"girth6"``
(:func:`girth6_ldpc_matrix`): progressive edge growth limited to depth 2 (Hu, Eleftheriou and
Arnold 2005), compiled, no 4-cycles at ``n = 2**16`` for every rate. Measured with
``benchmarks/bench_ldpc_blind.py`` on the same frames they reconcile at the same f within
noise (the limit on f at QBER 1-2 % is the distributions at this length, not short cycles);
on short codes (``2**12``) the girth-6 codes decoded more frames to a wrong codeword with the
right syndrome (4 against 1 in 66 frames at QBER 3 %), so ``"random"`` stays the default.

Random construction (fast, vectorised): degree-2 columns are laid along random row
permutations (paths, so no short cycle of degree-2 columns, i.e. no low-weight codeword), the
other sockets are matched at random (configuration model) and degree-preserving edge swaps
remove repeated edges (optionally 4-cycles). It takes well under a second for ``n = 2**14`` and a
few seconds for ``2**16``; matrices are cached in memory per process (never on disk).
:func:`puncture_order` gives the bits to puncture first: a greedy "untainted" set (no check node
with two punctured neighbours, Elkouss, Martinez-Mateo and Martin 2012) from low-degree
variable nodes, then the remaining nodes by increasing degree.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from qnetai.errors import InputError

# rate -> ({variable degree: lambda_i}, {check degree: rho_i}), edge perspective.
ELKOUSS_2009: dict[float, tuple[dict[int, float], dict[int, float]]] = {
    0.90: (
        {2: 0.07689, 3: 0.28096, 5: 0.08933, 9: 0.19620, 12: 0.30631, 21: 0.05031},
        {50: 0.95025, 51: 0.04975},
    ),
    0.85: (
        {
            2: 0.04528,
            3: 0.20537,
            4: 0.05878,
            5: 0.09427,
            6: 0.08454,
            7: 0.01176,
            9: 0.05137,
            21: 0.50015,
        },
        {41: 0.54204, 42: 0.45795},
    ),
    0.80: (
        {2: 0.09420, 3: 0.18088, 6: 0.11972, 7: 0.08550, 8: 0.09816, 17: 0.07194, 26: 0.34960},
        {29: 0.58807, 30: 0.41193},
    ),
    0.75: (
        {
            2: 0.10805,
            3: 0.09511,
            4: 0.01449,
            5: 0.13764,
            6: 0.10667,
            7: 0.05288,
            28: 0.01107,
            31: 0.47408,
        },
        {24: 0.74161, 25: 0.25839},
    ),
    0.70: (
        {
            2: 0.05343,
            3: 0.29406,
            6: 0.00896,
            9: 0.15571,
            12: 0.12189,
            25: 0.19872,
            46: 0.09572,
            62: 0.02741,
            65: 0.04056,
            73: 0.00354,
        },
        {20: 0.76922, 21: 0.23077},
    ),
    0.65: (
        {
            2: 0.10451,
            3: 0.15652,
            4: 0.08057,
            5: 0.00056,
            9: 0.12151,
            13: 0.10485,
            15: 0.10719,
            21: 0.00771,
            51: 0.31656,
        },
        {2: 0.000578, 15: 0.06089, 16: 0.47001, 21: 0.46852},
    ),
    0.60: (
        {
            2: 0.11040,
            3: 0.20804,
            8: 0.14163,
            9: 0.14858,
            26: 0.14438,
            27: 0.08909,
            46: 0.00748,
            71: 0.15038,
        },
        {2: 0.00036, 10: 0.13063, 13: 0.31068, 18: 0.49341, 19: 0.064915},
    ),
    0.55: (
        {
            2: 0.16880,
            3: 0.20994,
            6: 0.18095,
            15: 0.03846,
            16: 0.02635,
            18: 0.23454,
            19: 0.05815,
            31: 0.08280,
        },
        {10: 0.27631, 11: 0.72369},
    ),
    0.50: (
        {
            2: 0.14438,
            3: 0.19026,
            4: 0.01836,
            5: 0.00233,
            6: 0.04697,
            8: 0.05394,
            9: 0.05590,
            10: 0.01290,
            11: 0.00162,
            14: 0.06159,
            15: 0.13115,
            17: 0.01481,
            47: 0.00879,
            49: 0.00650,
            55: 0.00210,
            56: 0.00099,
            57: 0.11178,
            58: 0.06238,
            59: 0.05094,
            66: 0.02230,
        },
        {10: 0.47575, 12: 0.46847, 13: 0.02952, 14: 0.02626},
    ),
}
MOTHER_RATES: tuple[float, ...] = tuple(sorted(ELKOUSS_2009))


def design_rate(rate: float) -> float:
    """Design rate ``1 - int(rho) / int(lambda)`` of the tabulated distribution for ``rate``."""
    lam, rho = ELKOUSS_2009[rate]
    return 1.0 - sum(v / d for d, v in rho.items()) / sum(v / d for d, v in lam.items())


def variable_degrees(n: int, rate: float) -> NDArray[np.int64]:
    """Node degrees (sorted ascending) realising the edge-perspective lambda for ``n`` nodes."""
    lam, _ = ELKOUSS_2009[rate]
    degs = np.array(sorted(lam), dtype=np.int64)
    frac = np.array([lam[d] / d for d in degs])
    frac /= frac.sum()
    counts = np.floor(frac * n).astype(np.int64)
    rest = n - counts.sum()
    order = np.argsort(-(frac * n - counts))
    counts[order[:rest]] += 1
    return np.repeat(degs, counts)


def _column_row_pairs(var: NDArray, chk: NDArray, m: int) -> tuple[NDArray, NDArray]:
    """For edges sorted by variable, every (row pair key, edge index of the second row)."""
    order = np.lexsort((chk, var))
    v, c = var[order], chk[order]
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    deg = np.diff(np.r_[starts, v.size])
    keys, second = [], []
    for d in np.unique(deg):
        if d < 2:
            continue
        st = starts[deg == d]
        i1, i2 = np.triu_indices(int(d), 1)
        e1 = st[:, None] + i1[None, :]
        e2 = st[:, None] + i2[None, :]
        keys.append((c[e1] * m + c[e2]).ravel())
        second.append(order[e2].ravel())
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(keys), np.concatenate(second)


@lru_cache(maxsize=24)
def irregular_ldpc_matrix(
    n: int, rate: float, seed: int = 0, *, swap_rounds: int = 0
) -> sp.csr_matrix:
    """Seeded irregular parity-check matrix (``round(n (1 - rate))`` x ``n``), cached.

    ``rate`` must be one of :data:`MOTHER_RATES`. Repeated edges are removed by edge swaps;
    ``swap_rounds > 0`` also swaps away 4-cycles for that many rounds (slow, seconds per round
    at ``n = 2**16``, and it leaves thousands at high rate: the high-degree columns of these
    distributions make 4-cycles unavoidable for a random graph at these lengths; BP
    performance measured with and without them was the same within noise, so it is off).

    Example:
        >>> h = irregular_ldpc_matrix(2048, 0.8)
        >>> h.shape
        (410, 2048)
    """
    rate = round(float(rate), 2)
    if rate not in ELKOUSS_2009:
        raise InputError(f"rate must be one of {MOTHER_RATES} (got {rate})")
    if n < 64:
        raise InputError(f"LDPC block length must be >= 64 (got {n})")
    m = round(n * (1.0 - rate))
    rng = np.random.default_rng([seed, n, int(rate * 100)])
    vdeg = variable_degrees(n, rate)
    vdeg = np.minimum(vdeg, m)
    var = np.repeat(np.arange(n), vdeg)
    e = var.size
    cdeg = np.full(m, e // m, dtype=np.int64)
    cdeg[: e - cdeg.sum()] += 1
    # degree-2 columns: consecutive rows along random row permutations ("layers" of paths),
    # so the degree-2 subgraph has no short cycles (a cycle of degree-2 columns is a
    # low-weight codeword: undetected frame errors)
    two = np.flatnonzero(vdeg == 2)
    chk = np.full(e, -1, dtype=np.int64)
    first_edge = np.r_[0, np.cumsum(vdeg)[:-1]]
    done = 0
    while done < two.size and m > 2:
        perm = rng.permutation(m)
        take = min(m - 1, two.size - done)
        cols = two[done : done + take]
        chk[first_edge[cols]] = perm[:take]
        chk[first_edge[cols] + 1] = perm[1 : take + 1]
        done += take
    used = np.bincount(chk[chk >= 0], minlength=m)
    rest = np.maximum(cdeg - used, 0)
    free = np.flatnonzero(chk < 0)
    pool = np.repeat(np.arange(m), rest)
    if pool.size < free.size:  # pragma: no cover - degree-2 layers used too many sockets
        pool = np.concatenate([pool, rng.integers(0, m, free.size - pool.size)])
    chk[free] = rng.permutation(pool)[: free.size]
    movable = np.zeros(e, dtype=bool)
    movable[free] = True
    for rnd in range(swap_rounds + 50):
        key = var * m + chk
        srt = np.argsort(key, kind="stable")
        dup = np.zeros(e, dtype=bool)
        dup[srt[1:][key[srt[1:]] == key[srt[:-1]]]] = True
        pkeys, second = _column_row_pairs(var, chk, m) if rnd < swap_rounds else ((), ())
        if len(pkeys):
            ps = np.argsort(pkeys, kind="stable")
            rep = pkeys[ps[1:]] == pkeys[ps[:-1]]
            dup[second[ps[1:][rep]]] = True
        bad = np.flatnonzero(dup & movable)
        if bad.size == 0 and rnd >= swap_rounds:
            break
        partner = free[rng.integers(0, free.size, bad.size)]
        ok = ~dup[partner]
        bad, partner = bad[ok], partner[ok]
        _, first = np.unique(partner, return_index=True)
        bad, partner = bad[first], partner[first]
        chk[bad], chk[partner] = chk[partner], chk[bad].copy()
    # any repeated edge left is dropped (its column loses one degree)
    key = np.unique(var * m + chk)
    rows, cols = key % m, key // m
    h = sp.csr_matrix((np.ones(rows.size, dtype=np.uint8), (rows, cols)), shape=(m, n))
    h.sort_indices()
    return h


CONSTRUCTIONS = ("random", "girth6")
DEFAULT_CONSTRUCTION = "random"


@lru_cache(maxsize=24)
def girth6_ldpc_matrix(n: int, rate: float, seed: int = 0) -> sp.csr_matrix:
    """Seeded irregular parity-check matrix without 4-cycles (girth >= 6), cached in memory.

    Same degree distributions, shape and concentrated check degrees as
    :func:`irregular_ldpc_matrix`; the edges are placed by progressive edge growth (Hu,
    Eleftheriou and Arnold 2005) limited to depth 2: columns in decreasing degree order, each
    socket joined to a random free check socket among the checks that share no column with the
    column's checks so far (compiled, :func:`qnetai.qkd._ldpc_numba.girth6_fill`; about a second
    for ``n = 2**16``). Degree-2 columns: the first ``m - 1`` lie along one random row
    permutation (a path: no cycle among them, i.e. no low-weight codeword made of degree-2
    columns); any further ones (the rate-0.9 and 0.85 distributions have more degree-2
    columns than checks) are placed last by the same rule. 6-cycles are not avoided.
    When no admissible check is left a 4-cycle is accepted (:func:`count_four_cycles` says
    how many): none at ``n = 2**16`` for any rate (tested), at most one at ``2**14`` and
    ``2**15``, but thousands below ``2**13``, where a column of degree 21-73 reaches most
    checks within distance 2.

    Example:
        >>> h = girth6_ldpc_matrix(8192, 0.8)
        >>> h.shape, count_four_cycles(h)
        ((1638, 8192), 0)
    """
    from qnetai.qkd._ldpc_numba import girth6_fill

    rate = round(float(rate), 2)
    if rate not in ELKOUSS_2009:
        raise InputError(f"rate must be one of {MOTHER_RATES} (got {rate})")
    if n < 64:
        raise InputError(f"LDPC block length must be >= 64 (got {n})")
    m = round(n * (1.0 - rate))
    rng = np.random.default_rng([seed, n, int(rate * 100), 6])
    vdeg = np.minimum(variable_degrees(n, rate), m)
    vptr = np.r_[0, np.cumsum(vdeg)].astype(np.int64)
    e = int(vptr[-1])
    cdeg = np.full(m, e // m, dtype=np.int64)
    cdeg[: e - cdeg.sum()] += 1
    vchk = np.full(e, -1, dtype=np.int64)
    two = rng.permutation(np.flatnonzero(vdeg == 2))
    path = two[: m - 1]
    perm = rng.permutation(m)
    vchk[vptr[path]] = perm[: path.size]
    vchk[vptr[path] + 1] = perm[1 : path.size + 1]
    cadj = np.full((m, int(cdeg.max()) + 1), -1, dtype=np.int64)
    ccount = np.zeros(m, dtype=np.int64)
    for v in path:  # at most m - 1 columns, two checks each
        for c in vchk[vptr[v] : vptr[v] + 2]:
            cadj[c, ccount[c]] = v
            ccount[c] += 1
    pool = rng.permutation(np.repeat(np.arange(m), np.maximum(cdeg - ccount, 0))).astype(np.int64)
    high = np.flatnonzero(vdeg > 2)
    high = high[np.lexsort((rng.random(high.size), -vdeg[high]))]
    order = np.concatenate([high, two[m - 1 :], np.flatnonzero(vdeg < 2)]).astype(np.int64)
    girth6_fill(vptr, vchk, cadj, ccount, pool, order, int(rng.integers(1, 2**62)))
    cols = np.repeat(np.arange(n), vdeg)
    keep = vchk >= 0
    h = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.uint8), (vchk[keep], cols[keep])), shape=(m, n)
    )
    h.sum_duplicates()
    h.data[:] = 1
    h.sort_indices()
    return h


def ldpc_matrix(
    n: int, rate: float, seed: int = 0, construction: str = DEFAULT_CONSTRUCTION
) -> sp.csr_matrix:
    """Parity-check matrix of the mother code: ``construction`` one of :data:`CONSTRUCTIONS`.

    ``"random"`` (default): the configuration-model codes of :func:`irregular_ldpc_matrix`
    (with 4-cycles); ``"girth6"``: :func:`girth6_ldpc_matrix` (no 4-cycles at ``2**16``).

    Example:
        >>> ldpc_matrix(2048, 0.9).shape
        (205, 2048)
    """
    if construction == "girth6":
        return girth6_ldpc_matrix(n, rate, seed)
    if construction == "random":
        return irregular_ldpc_matrix(n, rate, seed)
    raise InputError(f"construction must be one of {CONSTRUCTIONS} (got {construction!r})")


def count_four_cycles(h: sp.spmatrix) -> int:
    """Number of row pairs sharing two or more columns (each such pair closes a 4-cycle)."""
    hh = sp.csr_matrix(h, dtype=np.int64)
    ov = (hh @ hh.T).tocoo()
    return int(np.count_nonzero((ov.row < ov.col) & (ov.data > 1)))


@lru_cache(maxsize=24)
def puncture_order(
    n: int, rate: float, seed: int = 0, construction: str = DEFAULT_CONSTRUCTION
) -> NDArray[np.int64]:
    """All ``n`` columns ordered for puncturing: a greedy untainted set first, then the rest.

    The untainted set is built over columns of increasing degree (random order within a
    degree): a column joins when none of its checks already has a punctured neighbour, so each
    check sees at most one punctured bit and every punctured bit is recoverable in one step.
    """
    h = ldpc_matrix(n, rate, seed, construction).tocsc()
    rng = np.random.default_rng([seed, n, round(rate * 100), 7])
    deg = np.diff(h.indptr)
    cand = np.lexsort((rng.random(n), deg))
    tainted = np.zeros(h.shape[0], dtype=bool)
    chosen = np.zeros(n, dtype=bool)
    ip, ix = h.indptr, h.indices
    for v in cand:
        rows = ix[ip[v] : ip[v + 1]]
        if not tainted[rows].any():
            chosen[v] = True
            tainted[rows] = True
    first = cand[chosen[cand]]
    rest = cand[~chosen[cand]]
    return np.concatenate([first, rest]).astype(np.int64)
