"""Closed-structure sampler of the repeater chain for ``p_swap = 1`` and no cut-off.

Every sample is ``N`` geometric generation rounds ``K_i``; the delivery round is ``T = max K_i``
and the stored-pair count is ``D = (T - K_0) + sum_{i>=1} max(0, K_{i-1} - K_i)`` (see
:mod:`qnetai.sim.chain_exact`). Nothing loops over samples; arrays are laid out ``(N, batch)``
so that reductions over segments run along contiguous rows.
"""

from __future__ import annotations

import math

import numpy as np

#: Samples drawn per chunk (bounds the memory to ~8 * N * chunk bytes per array).
FAST_CHUNK = 1 << 17
#: Segments x samples per chunk at most: chains longer than 16 segments use smaller chunks
#: (a power of two, so a divisor of ``FAST_CHUNK``), keeping each array under ~16 MB.
_FAST_ELEMENTS = 16 * FAST_CHUNK


def chunk_samples(n: int, base: int, elements: int) -> int:
    """Samples per chunk for ``n`` segments: ``base`` halved until ``n * chunk <= elements``.

    Depends only on ``n`` (never on the machine), so seeded runs repeat everywhere.

    Example:
        >>> chunk_samples(8, 1 << 17, 1 << 21), chunk_samples(100, 1 << 17, 1 << 21)
        (131072, 16384)
    """
    chunk = base
    while chunk > 1 and n * chunk > elements:
        chunk //= 2
    return chunk


def geometric_rounds(rng: np.random.Generator, p: float, size: tuple[int, ...] | int) -> np.ndarray:
    """Iid geometric(``p``) draws on {1, 2, ...} as float64 (exact whole numbers).

    ``ceil(E / -log(1 - p))`` with ``E`` standard exponential has ``P(K > k) = (1 - p)**k``;
    it is several times faster than ``rng.geometric`` for ``p >= 1/3``.

    Example:
        >>> k = geometric_rounds(np.random.default_rng(0), 1.0, 3)
        >>> k.tolist()
        [1.0, 1.0, 1.0]
    """
    out = rng.standard_exponential(size)
    rate = -math.log1p(-p) if p < 1.0 else math.inf
    np.divide(out, rate, out=out)
    np.ceil(out, out=out)
    np.maximum(out, 1.0, out=out)
    return out


def sample_fast(
    n: int, p: float, w0: float, c: float, samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Delivery rounds (float64) and Werner parameters of ``samples`` independent chains.

    ``c = attempt_s / t_coh_s``; ``w0`` is the Werner parameter of a fresh link.
    """
    rounds = np.empty(samples)
    werner = np.empty(samples)
    w0_n = w0**n
    step = chunk_samples(n, FAST_CHUNK, _FAST_ELEMENTS)
    for lo in range(0, samples, step):
        hi = min(samples, lo + step)
        k = geometric_rounds(rng, p, (n, hi - lo))
        t = rounds[lo:hi]
        np.max(k, axis=0, out=t)
        d = t - k[0]
        if n > 1:
            diff = k[:-1] - k[1:]
            np.maximum(diff, 0.0, out=diff)
            d += diff.sum(axis=0)
        w = werner[lo:hi]
        np.multiply(d, -c, out=w)
        np.exp(w, out=w)
        w *= w0_n
    return rounds, werner
