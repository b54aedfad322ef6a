"""Event-wise sampler of the repeater chain with probabilistic swaps and/or a cut-off.

Vectorised over samples: the state of a batch of chains is held in ``(N, batch)`` arrays and each
step advances *every* running chain to its own next event (its next link generation, drawn as a
geometric number of rounds when a segment becomes free, or its next cut-off discard). Only the
loops over segments (inside one step) and over steps are Python loops. Finished chains are
compacted away. The model and its conventions are documented in :mod:`qnetai.sim.chain`.

State per segment ``i`` (row ``i``) and chain (column):

* ``present``: a pair covers the segment; ``start``: the segment is the left-most of its pair;
* ``nextgen``: for a free segment, the round in which its next link appears;
* per pair, copied on each of its segments: ``logw`` (log Werner parameter when the pair was
  created), ``tc`` (creation round) and ``g`` (generation round of its oldest elementary link).
"""

from __future__ import annotations

import numpy as np

from qnetai.sim.chain_fast import chunk_samples, geometric_rounds

#: Chains simulated together in one batch (fewer, a power of two, beyond 16 segments).
EVENT_BATCH = 1 << 15
_EVENT_ELEMENTS = 16 * EVENT_BATCH
_NEVER = np.int64(1) << np.int64(62)


def _geom_int(rng: np.random.Generator, p: float, size: int | tuple[int, ...]) -> np.ndarray:
    return geometric_rounds(rng, p, size).astype(np.int64)


def sample_events(
    n: int,
    p: float,
    log_w0: float,
    c: float,
    p_swap: float,
    cut_rounds: int | None,
    samples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Delivery rounds (int64) and log Werner parameters of ``samples`` independent chains.

    ``c = attempt_s / t_coh_s``; ``cut_rounds`` is the cut-off in whole rounds (a pair whose
    oldest link was generated in round ``g`` is discarded at the end of round ``g + cut_rounds``)
    or ``None``.
    """
    rounds = np.empty(samples, dtype=np.int64)
    log_w = np.empty(samples)
    step = chunk_samples(n, EVENT_BATCH, _EVENT_ELEMENTS)
    for lo in range(0, samples, step):
        hi = min(samples, lo + step)
        _run_batch(n, p, log_w0, c, p_swap, cut_rounds, rng, rounds[lo:hi], log_w[lo:hi])
    return rounds, log_w


def _run_batch(
    n: int,
    p: float,
    log_w0: float,
    c: float,
    p_swap: float,
    cut: int | None,
    rng: np.random.Generator,
    out_rounds: np.ndarray,
    out_log_w: np.ndarray,
) -> None:
    size = out_rounds.shape[0]
    active = np.arange(size)
    present = np.zeros((n, size), dtype=bool)
    start = np.zeros((n, size), dtype=bool)
    nextgen = _geom_int(rng, p, (n, size))
    logw = np.zeros((n, size))
    tc = np.zeros((n, size), dtype=np.int64)
    g = np.zeros((n, size), dtype=np.int64)
    while active.size:
        # 1. The next event of every chain: a link appears, or (with a cut-off) a pair expires.
        t = np.where(present, _NEVER, nextgen).min(axis=0)
        if cut is not None:
            np.minimum(t, np.where(present, g + cut, _NEVER).min(axis=0), out=t)
        tt = np.broadcast_to(t, present.shape)
        # 2. New elementary links.
        new = ~present & (nextgen == tt)
        present |= new
        start |= new
        logw[new] = log_w0
        tc[new] = tt[new]
        g[new] = tt[new]
        # 3. Swap-asap: every node where two pairs meet swaps now, all at the same instant.
        node = np.zeros_like(present)
        node[1:] = present[:-1] & present[1:] & start[1:]
        if node.any():
            _swap_blocks(node, present, start, nextgen, logw, tc, g, tt, c, p, p_swap, rng)
        # 4. Delivery: one pair spans the whole chain.
        done = present.all(axis=0)
        if n > 1:
            done &= ~start[1:].any(axis=0)
        # 5. Cut-off: pairs whose oldest link reaches the limit are discarded at this round.
        if cut is not None:
            expired = present & (g + cut <= tt) & ~done
            if expired.any():
                present &= ~expired
                nextgen[expired] = tt[expired] + _geom_int(rng, p, int(expired.sum()))
        # 6. Record finished chains and compact the rest.
        if done.any():
            fin = active[done]
            out_rounds[fin] = t[done]
            out_log_w[fin] = logw[0, done] - (t[done] - tc[0, done]) * c
            keep = ~done
            active = active[keep]
            present, start, nextgen = present[:, keep], start[:, keep], nextgen[:, keep]
            logw, tc, g = logw[:, keep], tc[:, keep], g[:, keep]


def _swap_blocks(
    node: np.ndarray,
    present: np.ndarray,
    start: np.ndarray,
    nextgen: np.ndarray,
    logw: np.ndarray,
    tc: np.ndarray,
    g: np.ndarray,
    tt: np.ndarray,
    c: float,
    p: float,
    p_swap: float,
    rng: np.random.Generator,
) -> None:
    """Merge each run of adjacent pairs into one pair, or discard the whole run (in place).

    A run with ``s`` swap nodes succeeds with probability ``p_swap**s`` (independent swaps);
    if any of its swaps fails, all of its pairs are discarded and its segments start again.
    """
    n = present.shape[0]
    fail = None
    if p_swap < 1.0:
        fail = np.zeros_like(node)
        fail[node] = rng.random(int(node.sum())) >= p_swap
    cont = np.zeros_like(present)  # segment i continues the run of segment i - 1
    cont[1:] = present[:-1] & present[1:]
    # Per-pair values at this instant, counted once per pair (at its left-most segment).
    acc_lw = np.where(start, logw - (tt - tc) * c, 0.0)
    acc_g = g.copy()
    acc_node = node.copy()
    for i in range(1, n):  # forward scan: run totals accumulate at each run's last segment
        ci = cont[i]
        np.add(acc_lw[i], acc_lw[i - 1], out=acc_lw[i], where=ci)
        np.minimum(acc_g[i], acc_g[i - 1], out=acc_g[i], where=ci)
        acc_node[i] |= ci & acc_node[i - 1]
        if fail is not None:
            fail[i] |= ci & fail[i - 1]
    for i in range(n - 2, -1, -1):  # backward: copy the totals over the whole run
        ci = cont[i + 1]
        np.copyto(acc_lw[i], acc_lw[i + 1], where=ci)
        np.copyto(acc_g[i], acc_g[i + 1], where=ci)
        np.copyto(acc_node[i], acc_node[i + 1], where=ci)
        if fail is not None:
            np.copyto(fail[i], fail[i + 1], where=ci)
    merged = present & acc_node
    if fail is None:
        ok, lost = merged, None
    else:
        lost = merged & fail
        ok = merged & ~fail
    start[ok] = ~cont[ok]
    logw[ok] = acc_lw[ok]
    tc[ok] = tt[ok]
    g[ok] = acc_g[ok]
    if lost is not None and lost.any():
        present &= ~lost
        nextgen[lost] = tt[lost] + _geom_int(rng, p, int(lost.sum()))
