"""Compiled layered (row-serial) sum-product syndrome decoder for binary LDPC codes.

The check-node update works in the ``phi`` domain, ``phi(x) = -log(tanh(x / 2))`` (its own
inverse): for a check ``c`` with incoming variable-to-check messages ``Q_j``,
``R_i = (-1)**(s_c + #{j != i: Q_j < 0}) * phi(sum_{j != i} phi(|Q_j|))``. ``phi`` is read from
a table with linear interpolation on ``[2**-5, 32)`` (step ``2**-10``; interpolation error
below ``3e-5``), computed exactly as ``-log(x / 2) + x**2 / 12`` below ``2**-5`` (series error
below ``1e-8``) and taken as 0 above 32 (true value below ``3e-14``). The layered schedule
updates the posterior ``L_v`` after every check, so information spreads within an iteration
and decoding converges in about half the iterations of flooding BP.

The state (``R`` per edge, ``L`` per variable) is kept by the caller, so a decode can be
resumed (warm start) after channel values change, which is what blind reconciliation does
when it discloses punctured bits.

Example:
    >>> import scipy.sparse as sp
    >>> h = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=np.uint8))
    >>> llr = np.full(4, 2.0)
    >>> r, post = np.zeros(h.nnz), llr.copy()
    >>> syndrome = np.array([1, 0, 0], dtype=np.uint8)   # one error on bit 0
    >>> layered_decode(h.indptr, h.indices, syndrome, r, post, 20, PHI_TABLE)
    1
    >>> (post < 0).astype(int).tolist()
    [1, 0, 0, 0]
"""

from __future__ import annotations

import math

import numba
import numpy as np

PHI_LO = 2.0**-5
PHI_HI = 32.0
PHI_STEP_INV = 1024.0
X_MIN = 1e-12  # |Q| floor before the small-x series: phi <= 28.3


def _phi_exact(x: np.ndarray) -> np.ndarray:
    return -np.log(np.tanh(x / 2.0))


PHI_TABLE = _phi_exact(np.arange(int(PHI_HI * PHI_STEP_INV) + 2) / PHI_STEP_INV + 1e-300)


@numba.njit(cache=True, inline="always")
def _phi(x: float, table: np.ndarray) -> float:
    if x < PHI_LO:
        x = max(x, X_MIN)
        return -math.log(0.5 * x) + x * x / 12.0
    if x >= PHI_HI:
        return 0.0
    t = x * PHI_STEP_INV
    i = int(t)
    w = t - i
    return table[i] + w * (table[i + 1] - table[i])


@numba.njit(cache=True)
def unsatisfied_checks(
    indptr: np.ndarray, cols: np.ndarray, syndrome: np.ndarray, post: np.ndarray
) -> int:
    """Number of checks whose parity under the hard decision ``post < 0`` differs."""
    bad = 0
    for c in range(indptr.size - 1):
        par = syndrome[c]
        for e in range(indptr[c], indptr[c + 1]):
            par ^= post[cols[e]] < 0.0
        bad += par
    return bad


@numba.njit(cache=True)
def layered_decode(
    indptr: np.ndarray,
    cols: np.ndarray,
    syndrome: np.ndarray,
    r: np.ndarray,
    post: np.ndarray,
    max_iter: int,
    table: np.ndarray,
    patience: int = 0,
) -> int:
    """Run up to ``max_iter`` layered iterations in place; iterations used, or -1 on failure.

    ``indptr``/``cols``: CSR structure of the parity-check matrix (rows = checks);
    ``r``: check-to-variable messages per edge (zeros for a cold start); ``post``: posterior
    LLRs (channel LLRs plus the sum of ``r`` over the column; the channel LLRs for a cold
    start). Returns 0 when the hard decision already satisfies the syndrome. ``patience > 0``
    gives up early once the number of unsatisfied checks has not reached a new minimum for
    that many iterations (the state is kept, so the caller can resume after new information).
    """
    best = unsatisfied_checks(indptr, cols, syndrome, post)
    if best == 0:
        return 0
    since = 0
    m = indptr.size - 1
    dmax = 0
    for c in range(m):
        dmax = max(dmax, indptr[c + 1] - indptr[c])
    q = np.empty(dmax)
    ph = np.empty(dmax)
    for it in range(max_iter):
        for c in range(m):
            lo = indptr[c]
            hi = indptr[c + 1]
            sg = 1.0 - 2.0 * syndrome[c]  # product of the signs, times (-1)**s_c
            total = 0.0
            for j in range(hi - lo):
                v = post[cols[lo + j]] - r[lo + j]
                q[j] = v
                sg = math.copysign(sg, sg * v)  # branchless sign product
                p = _phi(abs(v), table)
                ph[j] = p
                total += p
            for j in range(hi - lo):
                e = lo + j
                rv = math.copysign(_phi(max(total - ph[j], 0.0), table), sg * q[j])
                r[e] = rv
                post[cols[e]] = q[j] + rv
        bad = unsatisfied_checks(indptr, cols, syndrome, post)
        if bad == 0:
            return it + 1
        if bad < best:
            best, since = bad, 0
        else:
            since += 1
            if patience and since >= patience:
                return -1
    return -1


# --- multi-frame (SIMD across frames) layered decoders, float32 -------------------------------
# Messages are laid out ``[edge, frame]`` / ``[variable, frame]`` so the innermost loop runs over
# the frames of a batch with unit stride and compiles to vector instructions. ``phi`` is read
# from a table indexed by the float32 bit pattern of ``x`` (exponent plus the top
# ``PHI_LOG_BITS`` mantissa bits: a log-spaced grid, relative step ``2**-PHI_LOG_BITS``) with
# linear interpolation in ``x`` inside each bin; inputs are clamped to ``[2**-20, 32)``
# (``phi(2**-20) = 14.56``, ``phi(32) = 2.5e-14``). The lookup is branch-free, so it vectorises
# (gathers) where the scalar decoder's series/table branch did not.

PHI_LOG_BITS = 7
_SHIFT = 23 - PHI_LOG_BITS
_X_LO32 = np.float32(2.0**-20)
_X_HI32 = np.float32(np.nextafter(np.float32(32.0), np.float32(0.0)))
_BASE = int(np.array(_X_LO32, dtype=np.float32).view(np.int32)) >> _SHIFT
_MASK = (1 << _SHIFT) - 1
_TOP = int(np.array(_X_HI32, dtype=np.float32).view(np.int32)) >> _SHIFT


def _log_phi_table() -> tuple[np.ndarray, np.ndarray]:
    """Values and slopes (per unit of the in-bin mantissa fraction) of ``phi`` on the grid."""
    idx = np.arange(_BASE, _TOP + 2, dtype=np.int64)
    x = (idx << _SHIFT).astype(np.int32).view(np.float32).astype(np.float64)
    val = _phi_exact(x)
    val = np.where(np.isfinite(val), val, 0.0)
    slope = np.diff(val)
    return val[:-1].astype(np.float32), slope.astype(np.float32)


PHI_LOG_VAL, PHI_LOG_SLOPE = _log_phi_table()


def phi_log_table(x: np.ndarray) -> np.ndarray:
    """``phi`` of a float32 array through the log-spaced table (reference for tests)."""
    xx = np.clip(np.asarray(x, dtype=np.float32), _X_LO32, _X_HI32)
    b = xx.view(np.int32)
    i = (b >> _SHIFT) - _BASE
    w = (b & ((1 << _SHIFT) - 1)).astype(np.float32) * np.float32(2.0**-_SHIFT)
    return PHI_LOG_VAL[i] + w * PHI_LOG_SLOPE[i]


@numba.njit(cache=True)
def _phi_rows(xs: np.ndarray, xi: np.ndarray, out: np.ndarray, n: int, val, slope) -> None:
    """``out[:n] = phi(xs[:n])`` with ``xi`` the int32 view of ``xs`` (clamped in place)."""
    lo = _X_LO32
    hi = _X_HI32
    nn = np.uint64(n)
    for t in range(nn):
        xs[t] = min(max(xs[t], lo), hi)
    scale = np.float32(2.0**-_SHIFT)
    for t in range(nn):
        b = xi[t]
        i = np.uint64((b >> _SHIFT) - _BASE)
        w = np.float32(b & _MASK) * scale
        out[t] = val[i] + w * slope[i]


@numba.njit(cache=True)
def _unsatisfied_batch(indptr, cols, synd, post, nf, bad) -> None:
    """``bad[f]`` = checks of frame ``f`` whose hard-decision parity differs from ``synd``.

    ``synd`` (``m * nf``) and ``post`` (``n * nf``) are flat, frame index fastest.
    """
    u = np.uint64(nf)
    par = np.empty(nf, dtype=np.uint8)
    bad[:] = 0
    for c in range(indptr.size - 1):
        sb = np.uint64(c) * u
        for f in range(u):
            par[f] = synd[sb + f]
        for e in range(indptr[c], indptr[c + 1]):
            pb = np.uint64(cols[e]) * u
            for f in range(u):
                par[f] ^= np.uint8(post[pb + f] < 0)
        for f in range(u):
            bad[f] += par[f]


@numba.njit(cache=True)
def _check_update_batch(lo, d, c, cols, synd, r, post, nf, rule, a32, b32, val, slope, buf):
    """One check (row ``c``, edges ``lo:lo+d``) of the layered schedule for ``nf`` frames."""
    u = np.uint64(nf)
    q, aq, aqi, ph, sg, acc, m2, live = buf
    one = np.float32(1.0)
    zero = np.float32(0.0)
    sb = np.uint64(c) * u
    for f in range(u):
        sg[f] = one - np.float32(2.0) * np.float32(synd[sb + f])
    big = np.float32(1e30)
    for f in range(u):
        acc[f] = zero if rule == 0 else big
    for f in range(u):
        m2[f] = big
    for j in range(d):
        pb = np.uint64(cols[lo + j]) * u
        rb = np.uint64(lo + j) * u
        qb = np.uint64(j) * u
        for f in range(u):
            q[qb + f] = post[pb + f] - r[rb + f]
    dn = np.uint64(d) * u
    for t in range(dn):
        aq[t] = abs(q[t])
    for j in range(d):
        qb = np.uint64(j) * u
        for f in range(u):
            sg[f] = sg[f] if q[qb + f] >= zero else -sg[f]
    if rule == 0:
        _phi_rows(aq, aqi, ph, d * nf, val, slope)
        for j in range(d):
            qb = np.uint64(j) * u
            for f in range(u):
                acc[f] += ph[qb + f]
        for j in range(d):
            qb = np.uint64(j) * u
            for f in range(u):
                aq[qb + f] = max(acc[f] - ph[qb + f], zero)
        _phi_rows(aq, aqi, ph, d * nf, val, slope)
    else:
        for j in range(d):
            qb = np.uint64(j) * u
            for f in range(u):
                x = aq[qb + f]
                t = acc[f] if acc[f] > x else x
                m2[f] = m2[f] if m2[f] < t else t
                acc[f] = acc[f] if acc[f] < x else x
        for j in range(d):
            qb = np.uint64(j) * u
            for f in range(u):
                mm = m2[f] if aq[qb + f] == acc[f] else acc[f]
                mm = mm - b32
                ph[qb + f] = a32 * (mm if mm > zero else zero)
    for j in range(d):
        qb = np.uint64(j) * u
        for f in range(u):
            s = sg[f] if q[qb + f] >= zero else -sg[f]
            ph[qb + f] = s * ph[qb + f]
    for j in range(d):
        pb = np.uint64(cols[lo + j]) * u
        rb = np.uint64(lo + j) * u
        qb = np.uint64(j) * u
        for f in range(u):
            r[rb + f] = ph[qb + f] if live[f] else r[rb + f]
        for f in range(u):
            post[pb + f] = q[qb + f] + ph[qb + f] if live[f] else post[pb + f]


@numba.njit(cache=True)
def layered_decode_batch(
    indptr: np.ndarray,
    cols: np.ndarray,
    synd: np.ndarray,
    r: np.ndarray,
    post: np.ndarray,
    hard: np.ndarray,
    state: np.ndarray,
    iters: np.ndarray,
    best: np.ndarray,
    since: np.ndarray,
    max_iter: int,
    patience: int,
    min_running: int,
    rule: int,
    alpha: float,
    beta: float,
    val: np.ndarray,
    slope: np.ndarray,
) -> int:
    """Layered decoding of ``F = state.size`` frames at once, float32, in place.

    Flat arrays, frame index fastest: ``synd`` (``m * F`` uint8), ``r`` (``nnz * F``
    check-to-variable messages), ``post`` (``n * F`` posterior LLRs), ``hard`` (``n * F`` uint8
    out). ``rule``: 0 sum-product (``phi`` from the log-spaced table ``val``/``slope``), 1
    min-sum with normalisation ``alpha`` and offset ``beta`` (``|r| = alpha * max(min - beta,
    0)``). Per-frame state (in/out): ``state`` 0 running, 1 decoded (``hard`` holds the hard
    decision reached then), 2 gave up (``max_iter`` iterations in all, or ``patience``
    iterations without a new minimum ``best`` of unsatisfied checks, ``since`` counting them);
    ``iters`` iterations done. Frames no longer running keep their messages (their lanes are
    computed and discarded: wasted work), so the call returns once fewer than ``min_running``
    frames run, for the caller to drop the others; returns the number still running. Every
    frame's result is independent of the other frames in the batch.
    """
    m = indptr.size - 1
    nf = state.size
    u = np.uint64(nf)
    n = post.size // nf
    dmax = 0
    for c in range(m):
        dmax = max(dmax, indptr[c + 1] - indptr[c])
    aq = np.empty(dmax * nf, dtype=np.float32)
    buf = (
        np.empty(dmax * nf, dtype=np.float32),
        aq,
        aq.view(np.int32),
        np.empty(dmax * nf, dtype=np.float32),
        np.empty(nf, dtype=np.float32),
        np.empty(nf, dtype=np.float32),
        np.empty(nf, dtype=np.float32),
        np.zeros(nf, dtype=np.bool_),
    )
    live = buf[7]
    bad = np.zeros(nf, dtype=np.int64)
    a32 = np.float32(alpha)
    b32 = np.float32(beta)
    first = True
    running = 0
    while True:
        if not first:
            for c in range(m):
                lo = indptr[c]
                _check_update_batch(
                    lo,
                    indptr[c + 1] - lo,
                    c,
                    cols,
                    synd,
                    r,
                    post,
                    nf,
                    rule,
                    a32,
                    b32,
                    val,
                    slope,
                    buf,
                )
        _unsatisfied_batch(indptr, cols, synd, post, nf, bad)
        running = 0
        for f in range(nf):
            if state[f] != 0:
                continue
            if not first:
                iters[f] += 1
            if bad[f] == 0:
                state[f] = 1
                for v in range(n):
                    hard[np.uint64(v) * u + np.uint64(f)] = (
                        post[np.uint64(v) * u + np.uint64(f)] < 0
                    )
                continue
            if best[f] < 0 or bad[f] < best[f]:
                best[f] = bad[f]
                since[f] = 0
            elif not first:
                since[f] += 1
            if iters[f] >= max_iter or (patience > 0 and since[f] >= patience):
                state[f] = 2
            else:
                running += 1
        for f in range(nf):
            live[f] = state[f] == 0
        first = False
        if running < max(min_running, 1):
            return running


@numba.njit(cache=True)
def _xorshift(state: np.ndarray) -> np.uint64:
    """xorshift64* step on ``state[0]`` (deterministic, seeded by the caller's Generator)."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(2685821657736338717)


@numba.njit(cache=True)
def girth6_fill(vptr, vchk, cadj, ccount, pool, order, seed):  # pragma: no cover - compiled
    """Connect the sockets of the columns in ``order`` to checks without closing a 4-cycle.

    ``vchk[vptr[v]:vptr[v + 1]]`` holds column ``v``'s checks (``-1`` = open socket; columns
    already filled are respected), ``cadj[c, :ccount[c]]`` the columns of check ``c`` and
    ``pool`` one entry per free check socket (so check degrees come out exactly as the pool
    says). For each open socket a check is drawn at random from the pool (up to 64 tries, then
    a scan of the pool) among those at distance > 2 from the column's checks so far, i.e. not
    sharing a column with any of them (this is progressive edge growth limited to depth 2:
    girth >= 6). When none is left, a check not yet adjacent is taken anyway (a forced 4-cycle,
    counted) or, if every pooled check is adjacent, the socket is dropped (``-1``).
    Returns ``(forced 4-cycles, dropped sockets)``.
    """
    m = ccount.size
    mark = np.full(m, -1, dtype=np.int64)
    state = np.array([np.uint64(seed) | np.uint64(1)], dtype=np.uint64)
    size = pool.size
    forced = 0
    dropped = 0
    for v in order:
        for e in range(vptr[v], vptr[v + 1]):  # checks already there: mark their neighbourhood
            c = vchk[e]
            if c >= 0:
                for k in range(ccount[c]):
                    u = cadj[c, k]
                    for f in range(vptr[u], vptr[u + 1]):
                        if vchk[f] >= 0:
                            mark[vchk[f]] = v
        for e in range(vptr[v], vptr[v + 1]):
            if vchk[e] >= 0:
                continue
            if size == 0:
                dropped += 1
                continue
            pick = np.int64(-1)
            for _ in range(64):
                i = np.int64(_xorshift(state) % np.uint64(size))
                if mark[pool[i]] != v:
                    pick = i
                    break
            if pick < 0:
                start = np.int64(_xorshift(state) % np.uint64(size))
                for j in range(size):
                    i = (start + j) % size
                    if mark[pool[i]] != v:
                        pick = i
                        break
            if pick < 0:  # no check at distance > 2 left: accept a 4-cycle, never a repeat
                start = np.int64(_xorshift(state) % np.uint64(size))
                for j in range(size):
                    i = (start + j) % size
                    c = pool[i]
                    rep = False
                    for f in range(vptr[v], vptr[v + 1]):
                        if vchk[f] == c:
                            rep = True
                    if not rep:
                        pick = i
                        forced += 1
                        break
            if pick < 0:
                dropped += 1
                continue
            c = pool[pick]
            size -= 1
            pool[pick] = pool[size]
            vchk[e] = c
            for k in range(ccount[c]):
                u = cadj[c, k]
                for f in range(vptr[u], vptr[u + 1]):
                    if vchk[f] >= 0:
                        mark[vchk[f]] = v
            mark[c] = v
            cadj[c, ccount[c]] = v
            ccount[c] += 1
    return forced, dropped
