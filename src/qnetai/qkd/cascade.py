"""Cascade information reconciliation, vectorised over blocks and frames.

Two families are implemented:

* ``"original"``: Brassard and Salvail (1993). Four passes, first block size
  ``k1 = ceil(0.73 / QBER)``, doubling each pass; BINARY searches on top-level blocks only.
* ``"option7"`` and ``"option8"``: the improved schedules of Martinez-Mateo, Pacher, Peev,
  Ciurana and Martin (2015), "Demystifying the information reconciliation protocol Cascade"
  (QIC 15, 453). 14 passes, sub-block reuse (every sub-block parity disclosed by a BINARY search
  stays known and later odd sub-blocks are searched from the smallest known one), and block sizes

  - option 7: ``k1 = 2**ceil(log2(1/Q))``, ``k2 = 4 k1``, ``k_i = n/2`` for ``i >= 3``;
  - option 8: ``a = log2(1/Q) - 1/2``, ``k1 = 2**ceil(a)``, ``k2 = 2**ceil((a + 12)/2)``,
    ``k3 = 4096``, ``k_i = n/2`` for ``i >= 4``.

The simulation works on the error pattern ``e = alice XOR bob``: Bob learns the parity of a
block of ``e`` by comparing his parity with the one Alice discloses, so every parity Alice sends
is one leaked bit. All frames and all blocks of a pass are processed in lockstep, which is how a
real implementation batches its messages: one round trip for the block parities of a pass, then
one round trip per BINARY level for all odd blocks being searched at once. After corrections,
odd blocks of earlier passes (the cascade effect) are searched in rounds: in each round every
frame searches, in lockstep, the odd blocks of its lowest pass that has any (smallest blocks
first); searches of different frames share the round trips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError

CASCADE_VARIANTS: tuple[str, ...] = ("original", "option7", "option8")
_MIN_QBER = 1e-5


def cascade_block_sizes(variant: str, qber: float, frame_bits: int) -> tuple[int, ...]:
    """Block size of every pass for ``variant`` at estimated ``qber`` and frame length.

    Sizes are clipped to ``[1, frame_bits]``.

    Example:
        >>> cascade_block_sizes("original", 0.01, 10_000)
        (73, 146, 292, 584)
    """
    if variant not in CASCADE_VARIANTS:
        raise InputError(f"cascade variant must be one of {CASCADE_VARIANTS} (got {variant!r})")
    if not 0.0 <= qber < 0.5:
        raise InputError(f"qber_estimate must be in [0, 0.5) (got {qber})")
    if frame_bits < 1:
        raise InputError(f"frame_bits must be >= 1 (got {frame_bits})")
    q = max(float(qber), _MIN_QBER)
    half = frame_bits // 2
    if variant == "original":
        k1 = math.ceil(0.73 / q)
        sizes = [k1 * 2**i for i in range(4)]
    elif variant == "option7":
        k1 = 2 ** math.ceil(math.log2(1.0 / q))
        sizes = [k1, 4 * k1] + [half] * 12
    else:
        alpha = math.log2(1.0 / q) - 0.5
        sizes = [2 ** math.ceil(alpha), 2 ** math.ceil((alpha + 12.0) / 2.0), 4096] + [half] * 11
    return tuple(int(min(max(k, 1), frame_bits)) for k in sizes)


@dataclass(frozen=True)
class CascadeOutcome:
    """Result of :func:`cascade_reconcile`.

    Attributes:
        corrected_bits: Bob's key after correction (uint8 0/1).
        leaked_bits_per_frame: parity bits Alice disclosed, per frame.
        residual_errors_per_frame: bits still differing from Alice's key, per frame
            (simulation ground truth; the protocol itself does not know them).
        round_trips: channel round trips with all frames' messages batched together.
        frame_bits: frame length used (the last frame may be shorter).
    """

    corrected_bits: NDArray[np.uint8]
    leaked_bits_per_frame: NDArray[np.int64]
    residual_errors_per_frame: NDArray[np.int64]
    round_trips: int
    frame_bits: int

    @property
    def leaked_bits(self) -> int:
        """Total parity bits disclosed."""
        return int(self.leaked_bits_per_frame.sum())

    @property
    def frame_errors(self) -> int:
        """Frames left with at least one error."""
        return int(np.count_nonzero(self.residual_errors_per_frame))


class _Pass:
    """Known leaves (disjoint ranges in permuted order with known parity) of one pass.

    Global permuted position ``q = f*n + r`` of frame ``f`` holds original bit
    ``f*n + perm[r]``: one public permutation per pass, shared by the frames of a batch.
    """

    __slots__ = ("hi", "inv", "lo", "n", "odd", "perm")

    def __init__(self, perm: NDArray, lo: NDArray, hi: NDArray, odd: NDArray) -> None:
        self.perm = perm
        self.n = perm.size
        self.inv = np.empty_like(perm)
        self.inv[perm] = np.arange(perm.size, dtype=perm.dtype)
        self.lo, self.hi, self.odd = lo, hi, odd

    def original(self, q: NDArray) -> NDArray:
        """Original (global) bit index of global permuted positions ``q``."""
        r = q % self.n
        return self.perm[r] + (q - r)

    def permuted(self, x: NDArray) -> NDArray:
        """Global permuted position of original (global) bit indices ``x``."""
        r = x % self.n
        return self.inv[r] + (x - r)

    def toggle(self, flipped: NDArray) -> None:
        """Update leaf parities after the bits ``flipped`` (original indices) changed."""
        if flipped.size == 0 or self.lo.size == 0:
            return
        pos = self.permuted(flipped)
        i = np.searchsorted(self.lo, pos, side="right") - 1
        ok = i >= 0
        ok[ok] = pos[ok] < self.hi[i[ok]]
        idx, cnt = np.unique(i[ok], return_counts=True)
        self.odd[idx] ^= (cnt & 1).astype(bool)


def _binary_search(
    e: NDArray[np.uint8], ps: _Pass, sel: NDArray, n: int, leak: NDArray, reuse: bool
) -> tuple[NDArray, int]:
    """BINARY on the odd leaves ``sel`` of pass ``ps`` in lockstep; return (found bits, levels)."""
    slo, shi = ps.lo[sel], ps.hi[sel]
    lengths = shi - slo
    offs = np.zeros(sel.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offs[1:])
    total = int(offs[-1])
    idx = np.repeat(slo - offs[:-1], lengths) + np.arange(total, dtype=np.int64)
    cs = np.zeros(total + 1, dtype=np.int32)
    np.cumsum(e[ps.original(idx)], out=cs[1:])
    shift = offs[:-1] - slo  # local index of permuted position p in range r: p + shift[r]
    cur_lo, cur_hi = slo.copy(), shi.copy()
    keep_lo: list[NDArray] = []
    keep_hi: list[NDArray] = []
    levels = 0
    while True:
        act = np.flatnonzero(cur_hi - cur_lo > 1)
        if act.size == 0:
            break
        a_lo, a_hi = cur_lo[act], cur_hi[act]
        mid = a_lo + (a_hi - a_lo) // 2
        sh = shift[act]
        left_odd = ((cs[mid + sh] - cs[a_lo + sh]) & 1).astype(bool)
        leak += np.bincount(a_lo // n, minlength=leak.size)
        levels += 1
        if reuse:  # the even half becomes a known leaf (if longer than one bit)
            ev_lo = np.where(left_odd, mid, a_lo)
            ev_hi = np.where(left_odd, a_hi, mid)
            big = ev_hi - ev_lo > 1
            keep_lo.append(ev_lo[big])
            keep_hi.append(ev_hi[big])
        cur_hi[act] = np.where(left_odd, mid, a_hi)
        cur_lo[act] = np.where(left_odd, a_lo, mid)
    found = ps.original(cur_lo)
    if reuse:  # replace the searched leaves by the even halves met on the way down
        rest = np.ones(ps.lo.size, dtype=bool)
        rest[sel] = False
        lo, hi, odd = ps.lo[rest], ps.hi[rest], ps.odd[rest]
        new_lo = np.concatenate(keep_lo) if keep_lo else np.zeros(0, dtype=np.int64)
        if new_lo.size:
            order = np.argsort(new_lo)
            new_lo, new_hi = new_lo[order], np.concatenate(keep_hi)[order]
            at = np.searchsorted(lo, new_lo)
            lo = np.insert(lo, at, new_lo)
            hi = np.insert(hi, at, new_hi)
            odd = np.insert(odd, at, False)
        ps.lo, ps.hi, ps.odd = lo, hi, odd
    return found, levels


def cascade_frames(
    errors: NDArray[np.uint8],
    block_sizes: tuple[int, ...],
    *,
    rng: np.random.Generator,
    reuse_subblocks: bool,
    concurrent: bool = False,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], int]:
    """Run Cascade on a batch of equal-length frames given their error patterns.

    Args:
        errors: (frames, n) array of ``alice XOR bob``.
        block_sizes: block size per pass.
        rng: source of the public random permutations (one per pass, shared by the frames).
        reuse_subblocks: keep sub-block parities from BINARY for later cascading.
        concurrent: search the odd blocks of all passes at once (fewer round trips, some
            redundant parities) instead of each frame's lowest odd pass only.

    Returns:
        (Bob's flips (frames, n), leaked bits per frame, round trips).

    The default schedule runs in the compiled kernel (:mod:`qnetai.qkd._cascade_numba`, same
    outputs); ``concurrent=True`` uses the batched NumPy implementation below.
    """
    n = errors.shape[1]
    if not concurrent:
        from qnetai.qkd._cascade_numba import cascade_kernel

        perms = np.stack([rng.permutation(n).astype(np.int64) for _ in block_sizes])
        flips, leak, rts = cascade_kernel(
            np.ascontiguousarray(errors, dtype=np.uint8),
            perms.reshape(len(block_sizes), n),
            np.asarray(block_sizes, dtype=np.int64),
            bool(reuse_subblocks),
        )
        return flips, leak, int(rts)
    return _cascade_frames_numpy(
        errors, block_sizes, rng=rng, reuse_subblocks=reuse_subblocks, concurrent=concurrent
    )


def _cascade_frames_numpy(
    errors: NDArray[np.uint8],
    block_sizes: tuple[int, ...],
    *,
    rng: np.random.Generator,
    reuse_subblocks: bool,
    concurrent: bool,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], int]:
    """Batched NumPy Cascade (all frames in lockstep); arguments as :func:`cascade_frames`."""
    frames, n = errors.shape
    e = np.ascontiguousarray(errors, dtype=np.uint8).reshape(-1).copy()
    leak = np.zeros(frames, dtype=np.int64)
    round_trips = 0
    base = np.arange(frames, dtype=np.int64)[:, None] * n
    passes: list[_Pass] = []
    for k in block_sizes:
        perm = rng.permutation(n).astype(np.int64)
        nb = -(-n // k)
        lo = (base + np.arange(nb, dtype=np.int64) * k).reshape(-1)
        hi = np.minimum(lo + k, np.repeat(base[:, 0] + n, nb))
        shuffled = e.reshape(frames, n)[:, perm].reshape(-1)
        odd = np.bitwise_xor.reduceat(shuffled, lo).astype(bool)
        leak += nb
        round_trips += 1
        passes.append(_Pass(perm, lo, hi, odd))
        while True:
            # each frame searches the odd leaves of its lowest pass that has any (smallest
            # blocks first); frames are independent, so different frames may be in different
            # passes while their messages still share round trips.
            odd_idx = [np.flatnonzero(ps.odd) for ps in passes]
            odd_frame = [ps.lo[oi] // n for ps, oi in zip(passes, odd_idx, strict=True)]
            lowest = np.full(frames, len(passes))
            for q in range(len(passes) - 1, -1, -1):
                lowest[odd_frame[q]] = q
            if (lowest == len(passes)).all():
                break
            found_parts, max_levels = [], 0
            for q, ps in enumerate(passes):
                sel = odd_idx[q]
                if not concurrent:
                    sel = sel[lowest[odd_frame[q]] == q]
                if sel.size == 0:
                    continue
                found, levels = _binary_search(e, ps, sel, n, leak, reuse_subblocks)
                found_parts.append(found)
                max_levels = max(max_levels, levels)
            round_trips += max_levels
            found = np.unique(np.concatenate(found_parts))
            e[found] ^= 1
            for ps in passes:
                ps.toggle(found)
    flips = (e ^ errors.reshape(-1)).reshape(frames, n)
    return flips, leak, round_trips


def _as_bits(x: object, name: str) -> NDArray[np.uint8]:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of bits (got shape {arr.shape})")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise InputError(f"{name} must contain only 0 and 1")
    return arr.astype(np.uint8, copy=False)


def cascade_reconcile(
    alice_bits: NDArray,
    bob_bits: NDArray,
    *,
    qber_estimate: float,
    rng: np.random.Generator,
    variant: str = "option8",
    frame_bits: int = 10_000,
) -> CascadeOutcome:
    """Correct Bob's key toward Alice's with Cascade, frame by frame.

    The key is cut into frames of ``frame_bits`` (the remainder forms one shorter frame);
    all frames run in lockstep and their messages are batched, so ``round_trips`` is the
    number of round trips of the whole key.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> a = rng.integers(0, 2, 20_000, dtype=np.uint8)
        >>> b = a ^ (rng.random(a.size) < 0.02).astype(np.uint8)
        >>> out = cascade_reconcile(a, b, qber_estimate=0.02, rng=rng)
        >>> bool((out.corrected_bits == a).all())
        True
    """
    a = _as_bits(alice_bits, "alice_bits")
    b = _as_bits(bob_bits, "bob_bits")
    if a.size != b.size:
        raise InputError(f"alice_bits and bob_bits must have equal length ({a.size} != {b.size})")
    if frame_bits < 2:
        raise InputError(f"frame_bits must be >= 2 (got {frame_bits})")
    reuse = variant != "original"
    err = a ^ b
    n_full = a.size // frame_bits
    chunks = []
    if n_full:
        chunks.append(err[: n_full * frame_bits].reshape(n_full, frame_bits))
    if a.size % frame_bits:
        chunks.append(err[n_full * frame_bits :].reshape(1, -1))
    flips_all, leaks, rts = [], [], 0
    for chunk in chunks:
        sizes = cascade_block_sizes(variant, qber_estimate, chunk.shape[1])
        flips, leak, rt = cascade_frames(chunk, sizes, rng=rng, reuse_subblocks=reuse)
        flips_all.append(flips.reshape(-1))
        leaks.append(leak)
        rts = max(rts, rt)  # both batches run concurrently
    flips = np.concatenate(flips_all) if flips_all else np.zeros(0, dtype=np.uint8)
    corrected = b ^ flips
    residual = corrected ^ a
    starts = np.arange(0, a.size, frame_bits)
    res_frames = np.add.reduceat(residual.astype(np.int64), starts) if a.size else starts
    return CascadeOutcome(
        corrected_bits=corrected,
        leaked_bits_per_frame=np.concatenate(leaks) if leaks else np.zeros(0, dtype=np.int64),
        residual_errors_per_frame=np.asarray(res_frames, dtype=np.int64),
        round_trips=int(rts),
        frame_bits=int(frame_bits),
    )
