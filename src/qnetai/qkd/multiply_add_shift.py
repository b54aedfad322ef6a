"""Privacy amplification with the multiply-add-shift hash family, computed with GMP (gmpy2).

The family (Dietzfelbinger 1996, "Universal hashing and k-wise independent random variables via
integer arithmetic without primes", STACS 1996, LNCS 1046, 569-580) maps an ``n``-bit input
``x`` (bit ``j`` of the key is bit ``j`` of the integer) to ``m`` bits:

    h_{a,b}(x) = ((a x + b) mod 2**W) >> (W - m),   W = n + m - 1,   a, b uniform in [0, 2**W).

Security argument. For ``W >= n + m - 1`` the family is *strongly universal* (2-independent):
for any inputs ``x != x'`` and outputs ``y, y'``, ``Pr_{a,b}[h(x) = y and h(x') = y'] =
2**(-2m)`` (Dietzfelbinger 1996, Theorem 3; checked exhaustively at small sizes in the tests).
Strong universality implies universality (collision probability ``2**-m``), which is all the
leftover hash lemma needs: extracting ``m`` bits from a key with smooth min-entropy ``H``
(conditioned on Eve's information, including the error-correction leak) is
``eps_PA = 2**(-(H - m) / 2) / 2``-secret (Tomamichel, Schaffner, Smith, Renner 2011), exactly the
bound used for Toeplitz hashing, so the finite-key analysis (:mod:`qnetai.qkd.finite_key`) is
unchanged. The price is the seed: ``2 W = 2 (n + m - 1)`` bits, twice the Toeplitz seed
(``n + m - 1`` bits), which Alice draws and sends over the authenticated channel.

Speed: one ``n`` x ``W``-bit integer product (GMP's FFT multiplication) and a shift, versus
three float FFTs of ``~1.5 n`` points for Toeplitz; the results are exact integers, so Alice and
Bob always get identical bits. Measured figures are in benchmarks/README.md.

Example:
    >>> rng = np.random.default_rng(0)
    >>> h = MultiplyAddShiftHasher.from_rng(rng, n=1000, out_len=100)
    >>> key = rng.integers(0, 2, 1000, dtype=np.uint8)
    >>> bool(np.array_equal(h(key), multiply_add_shift_reference(key, 100, h.seed_bits())))
    True
"""

from __future__ import annotations

import gmpy2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError


def seed_length(n: int, out_len: int) -> int:
    """Seed bits of the family for ``n`` input and ``out_len`` output bits: ``2 (n + m - 1)``."""
    return 2 * (n + out_len - 1)


def _pack_int(bits: NDArray[np.uint8]) -> bytes:
    return np.packbits(bits, bitorder="little").tobytes()


class MultiplyAddShiftHasher:
    """Multiply-add-shift hash of ``n``-bit inputs to ``out_len`` bits (module notes).

    ``seed_bits``: ``2 (n + out_len - 1)`` bits, ``a`` first then ``b``, each least significant
    bit first. :meth:`from_rng` draws the seed as random bytes (fast) instead.
    """

    def __init__(self, seed_bits: ArrayLike, *, n: int, out_len: int) -> None:
        _check_sizes(n, out_len)
        seed = np.asarray(seed_bits)
        w = n + out_len - 1
        if seed.ndim != 1 or seed.size != 2 * w:
            raise InputError(
                f"seed_bits must have 2 (n + out_len - 1) = {2 * w} bits (got shape {seed.shape})"
            )
        if seed.size and (int(seed.min()) < 0 or int(seed.max()) > 1):
            raise InputError("seed_bits must contain only 0 and 1")
        seed = seed.astype(np.uint8, copy=False)
        self._setup(_pack_int(seed[:w]), _pack_int(seed[w:]), n, out_len)

    @classmethod
    def from_rng(cls, rng: np.random.Generator, *, n: int, out_len: int) -> MultiplyAddShiftHasher:
        """A hasher with a fresh uniform seed drawn from ``rng`` (as bytes)."""
        _check_sizes(n, out_len)
        w = n + out_len - 1
        nbytes = (w + 7) // 8
        raw = rng.bytes(2 * nbytes)
        self = cls.__new__(cls)
        self._setup(raw[:nbytes], raw[nbytes:], n, out_len)
        return self

    def _setup(self, a_bytes: bytes, b_bytes: bytes, n: int, out_len: int) -> None:
        self.n, self.out_len = int(n), int(out_len)
        self.word_bits = self.n + self.out_len - 1
        mask = (gmpy2.mpz(1) << self.word_bits) - 1
        self._a = gmpy2.mpz.from_bytes(a_bytes, "little") & mask
        self._b = gmpy2.mpz.from_bytes(b_bytes, "little") & mask
        self._mask = mask

    def seed_bits(self) -> NDArray[np.uint8]:
        """The seed as ``2 W`` bits (``a`` then ``b``, least significant bit first)."""
        w = self.word_bits
        return np.concatenate([_int_bits(self._a, w), _int_bits(self._b, w)])

    def __call__(self, bits: ArrayLike) -> NDArray[np.uint8]:
        """Hash one ``n``-bit block (1-D array of 0/1) to ``out_len`` bits."""
        x = np.asarray(bits)
        if x.ndim != 1 or x.size != self.n:
            raise InputError(f"bits must have shape ({self.n},) (got {x.shape})")
        if x.size and (int(x.min()) < 0 or int(x.max()) > 1):
            raise InputError("bits must contain only 0 and 1")
        xi = gmpy2.mpz.from_bytes(_pack_int(x.astype(np.uint8, copy=False)), "little")
        y = ((self._a * xi + self._b) & self._mask) >> (self.word_bits - self.out_len)
        return _int_bits(y, self.out_len)


def _check_sizes(n: int, out_len: int) -> None:
    if n < 1:
        raise InputError(f"input length n must be >= 1 (got {n})")
    if not 1 <= out_len <= n:
        raise InputError(f"out_len must be in [1, n = {n}] (got {out_len})")


def _int_bits(value, width: int) -> NDArray[np.uint8]:
    raw = np.frombuffer(value.to_bytes((width + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:width]


def multiply_add_shift_hash(
    bits: ArrayLike, out_len: int, seed_bits: ArrayLike
) -> NDArray[np.uint8]:
    """``((a x + b) mod 2**W) >> (W - out_len)`` of a 1-D bit array with a ``2 W``-bit seed.

    Example:
        >>> x = np.array([1, 0, 1, 1], dtype=np.uint8)           # x = 13
        >>> seed = np.array([1, 1, 0, 0, 0] + [0, 0, 0, 0, 1], dtype=np.uint8)  # a=3, b=16
        >>> multiply_add_shift_hash(x, 2, seed).tolist()          # (39 + 16) mod 32 = 23 -> 23 >> 3
        [0, 1]
    """
    x = np.asarray(bits)
    return MultiplyAddShiftHasher(seed_bits, n=x.size, out_len=out_len)(x)


def multiply_add_shift_reference(
    bits: ArrayLike, out_len: int, seed_bits: ArrayLike
) -> NDArray[np.uint8]:
    """Same hash with Python integers and per-bit loops (slow; for tests)."""
    x_bits = [int(v) for v in np.asarray(bits).ravel()]
    seed = [int(v) for v in np.asarray(seed_bits).ravel()]
    n, m = len(x_bits), out_len
    w = n + m - 1
    if len(seed) != 2 * w:
        raise InputError(f"seed_bits must have {2 * w} bits (got {len(seed)})")
    x = sum(v << j for j, v in enumerate(x_bits))
    a = sum(v << j for j, v in enumerate(seed[:w]))
    b = sum(v << j for j, v in enumerate(seed[w:]))
    y = ((a * x + b) % (1 << w)) >> (w - m)
    return np.array([(y >> i) & 1 for i in range(m)], dtype=np.uint8)
