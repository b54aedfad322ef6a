"""Privacy amplification by Toeplitz hashing, computed exactly with real FFTs.

The Toeplitz matrix of an ``n``-bit input and ``m``-bit output is built from ``n + m - 1``
seed bits: ``T[i, j] = seed[i - j + n - 1]``. Its product with the key is a window of the linear
convolution ``c = seed * x``: ``y_i = c[i + n - 1] mod 2``.

Speed trick (signed convolution): with ``x' = 1 - 2x`` and ``s' = 1 - 2s`` (values +-1),

    sum_j s'_{i-j} x'_j = N - 2 S_i - 2 X + 4 P_i,

where ``N = n`` terms, ``S_i`` is the number of ones in the seed window of output ``i``,
``X`` the number of ones in ``x`` and ``P_i`` the 0/1 product we want. ``S_i`` and ``X`` are
exact integer prefix sums, so ``P_i`` follows from the signed convolution known to within an
absolute error below 2 (the admissible values are 4 apart), and ``y_i = P_i mod 2``. The signed
sequences have zero mean, so their spectra carry no huge DC term and the FFT rounding error is
of order ``eps * sqrt(n)`` instead of ``eps * n``: a float32 FFT (about twice as fast as
float64 at these sizes) gives errors of ~1e-3 at ``n = 10**6`` and ~6e-3 at ``n = 10**7``.

Exactness: the float32 bound is statistical, not a worst-case bound, so every result is
checked: each recovered ``4 P_i`` must lie within 1/8 of a multiple of 4 and the signed
convolution below ``2**19`` in magnitude, where float32 spacing is at most 1/16 (errors seen
are 25-100x smaller for uniform bits); if any does not, the block is recomputed in float64
(whose results must lie within 0.5 of the lattice). For float64 the standard
worst-case FFT-convolution bound ``eps * log2(L) * ||s'|| * ||x'|| <= 1.1e-16 * 30 * 1.3 n``
is below 1e-6 for ``n <= 2**28``, far under 2, so the float64 path is exact; it is checked too
and, should the check ever fail, the input is split into column blocks (``T x = T1 x1 XOR
T2 x2``, each block again Toeplitz) until it passes.

A circular convolution of length ``L >= n + m - 1`` suffices: aliasing only touches output
indices below ``n - 1``. :class:`ToeplitzHasher` caches the seed's FFT (both precisions, built on
demand) to hash many blocks, e.g. Alice's and Bob's keys in one batched call.

Large inputs (``n + m > 2**19``) use a *uniformly partitioned* float32 convolution instead of
one long transform: with ``x~`` the reversed signed key, ``y_i = sum_u s'[i + u] x~[u]``;
``x~`` is cut into ``P`` blocks of ``b`` bits and the output into ``R`` blocks, and output
block ``q`` is ``sum_p corr(s'[(q + p) b : (q + p) b + 2b], x~_p)``, each a length-``2b``
circular cross-correlation without wrap-around. The ``P + R - 1`` seed-segment spectra are
cached, the key blocks are transformed in one batched call, the products are accumulated in
the frequency domain and the ``R`` output blocks come back in one batched inverse. The
transform work is the same ``2 (n + m)`` points as one long FFT forward and back, but in
transforms of ``2b = 2**17-2**21`` points, which stay in cache (per-point cost 2-3x lower here
than at ``1.5 * 10**7`` points), plus ``P R (b + 1)`` complex multiply-adds; ``b`` balances
the two. The same lattice check and float64 fallback apply.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError

PRECISIONS: tuple[str, ...] = ("auto", "float32", "float64")
_MAX_LATTICE_ERROR = 0.5  # allowed |error| of the signed convolution (values are 4 apart)
#: float32 results are trusted only below this magnitude (ulp <= 1/16, so errors stay visible)
_MAX_FLOAT32_VALUE = float(2**19)
#: float32 results are trusted only when every rounding error is below this (seen: ~1e-3 at
#: n = 1e6 and ~5e-3 at 1e7 for uniform bits; strongly biased bits, whose signed mean is far
#: from 0, reach 0.3 and then go to float64)
_MAX_FLOAT32_ERROR = 0.125
#: n + out_len above which the partitioned float32 convolution is used
_BLOCKED_MIN_LEN = 1 << 19


def _auto_block_bits(n: int, m: int) -> int:
    """Block length ``b`` (a power of two) of the partitioned convolution for ``n``, ``m``.

    Minimises ``2 (n + m) c(2b) + 1.5 n m / b`` (ns): transforms at ``c(L)`` ns per point
    (measured on the project machine, pocketfft float32: ~4.5 at 2**17, 5.5 at 2**18,
    8 at 2**19, 9 at 2**20, 15 at 2**21) plus 1.5 ns per complex multiply-add.
    """
    cost_per_point = {16: 4.5, 17: 5.5, 18: 8.0, 19: 9.0, 20: 15.0}
    best = min(
        cost_per_point,
        key=lambda lb: 2.0 * (n + m) * cost_per_point[lb] + 1.5 * n * m / (1 << lb),
    )
    return 1 << best


def _bits(x: ArrayLike, name: str) -> NDArray[np.uint8]:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of bits (got shape {arr.shape})")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > 1):
        raise InputError(f"{name} must contain only 0 and 1")
    return arr.astype(np.uint8, copy=False)


def _signed(bits: NDArray, dtype: type) -> NDArray:
    out: NDArray = bits.astype(dtype)
    out *= -2
    out += 1
    return out


class ToeplitzHasher:
    """Toeplitz hash of ``n``-bit inputs to ``out_len`` bits with a fixed seed (FFT cached).

    ``precision``: ``"auto"`` (float32 FFT, checked, float64 fallback; default),
    ``"float32"`` (same as auto) or ``"float64"`` (worst-case exact, about 2x slower).
    ``last_precision`` records which path produced the last result (``"float32"``,
    ``"float32-blocked"``, ``"float64"`` or ``"split"``). ``block_bits``: block length of the
    partitioned float32 convolution (module notes); ``None`` chooses it when
    ``n + out_len > 2**19`` (0 below), 0 forces one long transform.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> seed = rng.integers(0, 2, 1000 + 100 - 1, dtype=np.uint8)
        >>> h = ToeplitzHasher(seed, n=1000, out_len=100)
        >>> h(rng.integers(0, 2, 1000, dtype=np.uint8)).shape
        (100,)
    """

    def __init__(
        self,
        seed_bits: ArrayLike,
        *,
        n: int,
        out_len: int,
        workers: int = -1,
        precision: str = "auto",
        block_bits: int | None = None,
    ) -> None:
        if n < 1:
            raise InputError(f"input length n must be >= 1 (got {n})")
        if not 1 <= out_len:
            raise InputError(f"out_len must be >= 1 (got {out_len})")
        if precision not in PRECISIONS:
            raise InputError(f"precision must be one of {PRECISIONS} (got {precision!r})")
        seed = _bits(seed_bits, "seed_bits")
        if seed.size != n + out_len - 1:
            raise InputError(
                f"seed_bits must have n + out_len - 1 = {n + out_len - 1} bits (got {seed.size})"
            )
        self.n, self.out_len, self.workers = int(n), int(out_len), int(workers)
        self.precision = precision
        self.seed = seed
        self.fft_len = sfft.next_fast_len(n + out_len - 1, real=True)
        # ones in the seed window of output i: seed[i : i + n]
        csum = np.concatenate(([0], np.cumsum(seed, dtype=np.int64)))
        self._seed_window_ones = csum[n : n + out_len] - csum[:out_len]
        self._seed_fft: dict[type, NDArray] = {}
        self.last_precision: str | None = None
        if block_bits is None:
            blocked = n + out_len > _BLOCKED_MIN_LEN
            block_bits = _auto_block_bits(n, out_len) if blocked else 0
        if block_bits < 0:
            raise InputError(f"block_bits must be >= 0 (got {block_bits})")
        #: block length of the partitioned float32 convolution (0: one long transform)
        self.block_bits = int(block_bits)
        self._block_spectra: NDArray | None = None
        self._lattice_offset: NDArray | None = None

    def _spectrum(self, dtype: type) -> NDArray:
        if dtype not in self._seed_fft:
            self._seed_fft[dtype] = sfft.rfft(
                _signed(self.seed, dtype), self.fft_len, workers=self.workers
            )
        return self._seed_fft[dtype]

    def _blocked_spectra(self) -> NDArray:
        if self._block_spectra is None:
            b = self.block_bits
            d = -(-self.n // b) + -(-self.out_len // b) - 1
            s = np.zeros((d + 1) * b, np.float32)
            s[: self.seed.size] = _signed(self.seed, np.float32)
            segments = np.lib.stride_tricks.sliding_window_view(s, 2 * b)[::b][:d]
            self._block_spectra = sfft.rfft(segments, axis=-1, workers=self.workers)
        return self._block_spectra

    def _try_blocked(self, x: NDArray) -> NDArray[np.uint8] | None:
        """Partitioned float32 convolution (module notes); None when the check fails."""
        n, m, b = self.n, self.out_len, self.block_bits
        p_blocks, r_blocks = -(-n // b), -(-m // b)
        lead = x.shape[:-1]
        if x.size == 0:
            return np.zeros((*lead, m), np.uint8)
        spectra = self._blocked_spectra()
        xr = np.zeros((*lead, p_blocks * b), np.float32)
        xr[..., :n] = x[..., ::-1]
        xr[..., :n] *= -2.0
        xr[..., :n] += 1.0
        xf = sfft.rfft(xr.reshape(*lead, p_blocks, b), 2 * b, axis=-1, workers=self.workers)
        np.conjugate(xf, out=xf)
        acc = np.empty((*lead, r_blocks, b + 1), np.complex64)
        tmp = np.empty((*lead, b + 1), np.complex64)
        for q in range(r_blocks):
            out = acc[..., q, :]
            np.multiply(spectra[q], xf[..., 0, :], out=out)
            for p in range(1, p_blocks):
                np.multiply(spectra[q + p], xf[..., p, :], out=tmp)
                out += tmp
        conv = sfft.irfft(acc, 2 * b, axis=-1, workers=self.workers, overwrite_x=True)
        window = conv[..., :b].reshape(*lead, r_blocks * b)[..., :m]
        rounded = np.rint(window)
        err = window - rounded
        if (
            max(float(err.max()), -float(err.min())) > _MAX_FLOAT32_ERROR
            or max(float(rounded.max()), -float(rounded.min())) > _MAX_FLOAT32_VALUE
        ):
            return None
        # |4 P_i| <= 4 n: int32 holds it for n < 2**29
        itype = np.int32 if n < (1 << 29) else np.int64
        if self._lattice_offset is None:
            self._lattice_offset = (2 * self._seed_window_ones - n).astype(itype)
        ones = np.count_nonzero(x, axis=-1)[..., None].astype(itype)
        # 4 P_i = c'_i - n + 2 S_i + 2 X must be a multiple of 4
        four_p = rounded.astype(itype)
        four_p += self._lattice_offset
        four_p += 2 * ones
        if np.any(four_p & 3):
            return None
        four_p >>= 2
        four_p &= 1
        return four_p.astype(np.uint8)

    def _try(self, x: NDArray, dtype: type) -> NDArray[np.uint8] | None:
        xf = sfft.rfft(_signed(x, dtype), self.fft_len, axis=-1, workers=self.workers)
        xf *= self._spectrum(dtype)
        conv = sfft.irfft(xf, self.fft_len, axis=-1, workers=self.workers, overwrite_x=True)
        window = conv[..., self.n - 1 : self.n - 1 + self.out_len].astype(np.float64)
        ones = np.count_nonzero(x, axis=-1)[..., None]
        # 4 P_i = c'_i - n + 2 S_i + 2 X
        four_p = window + (2 * self._seed_window_ones + (2 * ones - self.n)).astype(np.float64)
        quarter = np.rint(four_p * 0.25)
        tol = _MAX_FLOAT32_ERROR if dtype is np.float32 else _MAX_LATTICE_ERROR
        if np.abs(four_p - 4.0 * quarter).max(initial=0.0) > tol:
            return None
        if dtype is np.float32 and np.abs(window).max(initial=0.0) > _MAX_FLOAT32_VALUE:
            return None  # float32 spacing too coarse to see an error there
        return (quarter.astype(np.int64) & 1).astype(np.uint8)

    def __call__(self, bits: ArrayLike) -> NDArray[np.uint8]:
        """Hash one ``n``-bit block, or a (blocks, n) batch, to ``out_len`` bits each."""
        x = np.asarray(bits)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n:
            raise InputError(f"bits must have shape (n,) or (blocks, n) with n = {self.n}")
        if x.size and (int(x.min()) < 0 or int(x.max()) > 1):
            raise InputError("bits must contain only 0 and 1")
        x = x.astype(np.uint8, copy=False)
        if self.precision != "float64":
            blocked = self.block_bits > 0
            out = self._try_blocked(x) if blocked else self._try(x, np.float32)
            if out is not None:
                self.last_precision = "float32-blocked" if blocked else "float32"
                return out
        out = self._try(x, np.float64)
        if out is not None:
            self.last_precision = "float64"
            return out
        return self._split(x)  # pragma: no cover - beyond the float64 error bound

    def _split(self, x: NDArray) -> NDArray[np.uint8]:
        h = self.n // 2
        n2 = self.n - h
        m = self.out_len
        w = self.workers
        # columns [0, h): seed[n - h : n - h + h + m - 1]; columns [h, n): seed[0 : n2 + m - 1]
        left = ToeplitzHasher(
            self.seed[n2 : n2 + h + m - 1], n=h, out_len=m, workers=w, precision="float64"
        )
        right = ToeplitzHasher(
            self.seed[: n2 + m - 1], n=n2, out_len=m, workers=w, precision="float64"
        )
        self.last_precision = "split"
        return left(x[..., :h]) ^ right(x[..., h:])


def toeplitz_hash(
    bits: ArrayLike,
    out_len: int,
    seed_bits: ArrayLike,
    *,
    workers: int = -1,
    precision: str = "auto",
) -> NDArray[np.uint8]:
    """Multiply ``bits`` (length n) by the Toeplitz matrix of ``seed_bits`` over GF(2).

    ``seed_bits`` has ``n + out_len - 1`` bits and defines ``T[i, j] = seed[i - j + n - 1]``.
    Exact (see the module notes); equals :func:`toeplitz_hash_reference`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.integers(0, 2, 500, dtype=np.uint8)
        >>> s = rng.integers(0, 2, 500 + 64 - 1, dtype=np.uint8)
        >>> bool((toeplitz_hash(x, 64, s) == toeplitz_hash_reference(x, 64, s)).all())
        True
    """
    x = _bits(bits, "bits")
    hasher = ToeplitzHasher(
        seed_bits, n=x.size, out_len=out_len, workers=workers, precision=precision
    )
    return hasher(x)


def toeplitz_hash_reference(
    bits: ArrayLike, out_len: int, seed_bits: ArrayLike
) -> NDArray[np.uint8]:
    """Direct O(n * out_len) Toeplitz product over GF(2), for tests (builds the matrix)."""
    x = _bits(bits, "bits").astype(np.int64)
    seed = _bits(seed_bits, "seed_bits").astype(np.int64)
    n = x.size
    if seed.size != n + out_len - 1:
        raise InputError(
            f"seed_bits must have n + out_len - 1 = {n + out_len - 1} bits (got {seed.size})"
        )
    rows = np.lib.stride_tricks.sliding_window_view(seed, n)[:out_len, ::-1]  # T[i, j]
    return ((rows @ x) & 1).astype(np.uint8)


PA_FAMILIES: tuple[str, ...] = ("toeplitz", "multiply-add-shift")


def privacy_amplify(
    key_bits: ArrayLike,
    out_len: int,
    *,
    rng: np.random.Generator,
    workers: int = -1,
    family: str = "toeplitz",
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Compress ``key_bits`` to ``out_len`` bits with a fresh random seed.

    ``family``: ``"toeplitz"`` (default, what deployed systems and standards use; seed of
    ``n + out_len - 1`` bits) or ``"multiply-add-shift"`` (strongly universal as well, same
    leftover-hash-lemma bound, seed of ``2 (n + out_len - 1)`` bits, 3-5x faster here; see
    :mod:`qnetai.qkd.multiply_add_shift`). Returns ``(final_key, seed_bits)``; the seed is
    public (sent over the authenticated channel).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> key = rng.integers(0, 2, 1000, dtype=np.uint8)
        >>> out, seed = privacy_amplify(key, 300, rng=rng, family="multiply-add-shift")
        >>> out.shape, seed.shape
        ((300,), (2598,))
    """
    x = _bits(key_bits, "key_bits")
    if not 1 <= out_len <= max(x.size, 1):
        raise InputError(f"out_len must be in [1, {x.size}] (got {out_len})")
    if family not in PA_FAMILIES:
        raise InputError(f"family must be one of {PA_FAMILIES} (got {family!r})")
    if family == "multiply-add-shift":
        from qnetai.qkd.multiply_add_shift import MultiplyAddShiftHasher

        hasher = MultiplyAddShiftHasher.from_rng(rng, n=x.size, out_len=out_len)
        return hasher(x), hasher.seed_bits()
    seed = rng.integers(0, 2, x.size + out_len - 1, dtype=np.uint8)
    return toeplitz_hash(x, out_len, seed, workers=workers), seed
