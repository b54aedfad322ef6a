"""Compiled Cascade kernel: one frame at a time, same protocol and outputs as the batched one.

Frames are independent (they only share the public permutations), so the lockstep schedule of
:func:`qnetai.qkd.cascade.cascade_frames` is reproduced frame by frame: for every pass ``q``
and round ``r`` the kernel records the BINARY levels the frame needed, and the round trips of
the batch are ``passes + sum_{q, r} max_frames levels[q, r]``. Known leaves of a pass are kept
per permuted position (``leaf_of``: start of the leaf holding it, or -1), so replacing a
searched leaf by the even halves met on the way down and toggling parities after a flip cost
O(leaf size) and O(passes) instead of array copies and insertions over every leaf.

Example:
    >>> rng = np.random.default_rng(0)
    >>> errors = (rng.random((2, 500)) < 0.03).astype(np.uint8)
    >>> perms = np.stack([rng.permutation(500) for _ in range(4)])
    >>> flips, leak, rt = cascade_kernel(errors, perms, np.array([24, 48, 96, 192]), True)
    >>> bool((flips == errors).all())
    True
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _frame(
    e, perms, invs, sizes, reuse, leaf_of, leaf_hi, odd, cand, cand_len, in_cand, found, levels_max
):
    passes, n = perms.shape
    leak = 0
    for q in range(passes):
        k = sizes[q]
        perm = perms[q]
        for s in range(0, n, k):
            hi = min(s + k, n)
            par = 0
            for j in range(s, hi):
                par ^= e[perm[j]]
                leaf_of[q, j] = s
            leaf_hi[q, s] = hi
            odd[q, s] = par
            if par:
                cand[q, cand_len[q]] = s
                cand_len[q] += 1
                in_cand[q, s] = 1
            leak += 1
        rnd = 0
        while True:
            # lowest pass with an odd leaf (stale candidates are dropped on the way)
            low = -1
            for p in range(q + 1):
                kept = 0
                for i in range(cand_len[p]):
                    s = cand[p, i]
                    in_cand[p, s] = 0
                    if leaf_of[p, s] == s and odd[p, s]:
                        cand[p, kept] = s
                        kept += 1
                for i in range(kept):
                    in_cand[p, cand[p, i]] = 1
                cand_len[p] = kept
                if kept:
                    low = p
                    break
            if low < 0:
                break
            p = low
            perm = perms[p]
            nfound = 0
            lv_max = 0
            for i in range(cand_len[p]):
                lo = cand[p, i]
                in_cand[p, lo] = 0
                hi = leaf_hi[p, lo]
                if reuse:
                    for j in range(lo, hi):
                        leaf_of[p, j] = -1
                levels = 0
                while hi - lo > 1:
                    mid = lo + (hi - lo) // 2
                    par = 0
                    for j in range(lo, mid):
                        par ^= e[perm[j]]
                    leak += 1
                    levels += 1
                    if par:
                        ev_lo, ev_hi = mid, hi
                        hi = mid
                    else:
                        ev_lo, ev_hi = lo, mid
                        lo = mid
                    if reuse and ev_hi - ev_lo > 1:  # the even half becomes a known leaf
                        for j in range(ev_lo, ev_hi):
                            leaf_of[p, j] = ev_lo
                        leaf_hi[p, ev_lo] = ev_hi
                        odd[p, ev_lo] = 0
                found[nfound] = perm[lo]
                nfound += 1
                lv_max = max(lv_max, levels)
            cand_len[p] = 0
            levels_max[q, rnd] = max(levels_max[q, rnd], lv_max)
            rnd += 1
            for i in range(nfound):
                x = found[i]
                e[x] ^= 1
                for t in range(q + 1):
                    s = leaf_of[t, invs[t, x]]
                    if s >= 0:
                        odd[t, s] ^= 1
                        if odd[t, s] and not in_cand[t, s]:
                            in_cand[t, s] = 1
                            cand[t, cand_len[t]] = s
                            cand_len[t] += 1
    return leak


@numba.njit(cache=True)
def cascade_kernel(errors: np.ndarray, perms: np.ndarray, sizes: np.ndarray, reuse: bool):
    """Cascade on ``errors`` (frames, n) with one permutation per pass (``perms``, passes x n).

    Returns ``(flips (frames, n) uint8, leak per frame, round trips)``; the same as the
    batched NumPy implementation with the same permutations.
    """
    frames, n = errors.shape
    passes = perms.shape[0]
    invs = np.empty_like(perms)
    for q in range(passes):
        for j in range(n):
            invs[q, perms[q, j]] = j
    leaf_of = np.empty((passes, n), np.int64)
    leaf_hi = np.empty((passes, n), np.int64)
    odd = np.zeros((passes, n), np.uint8)
    cand = np.empty((passes, n), np.int64)
    cand_len = np.zeros(passes, np.int64)
    in_cand = np.zeros((passes, n), np.uint8)
    found = np.empty(n, np.int64)
    levels_max = np.zeros((passes, n + 1), np.int64)
    flips = np.empty((frames, n), np.uint8)
    leak = np.zeros(frames, np.int64)
    for f in range(frames):
        e = errors[f].copy()
        odd[:] = 0
        in_cand[:] = 0
        cand_len[:] = 0
        leak[f] = _frame(
            e,
            perms,
            invs,
            sizes,
            reuse,
            leaf_of,
            leaf_hi,
            odd,
            cand,
            cand_len,
            in_cand,
            found,
            levels_max,
        )
        for j in range(n):
            flips[f, j] = e[j] ^ errors[f, j]
    return flips, leak, passes + levels_max.sum()
