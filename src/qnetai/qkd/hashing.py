"""Key verification after reconciliation with a 2-universal (Toeplitz) hash.

Alice draws a fresh random Toeplitz seed of ``n + tag_bits - 1`` bits, sends it and the tag
``T a`` (``tag_bits`` bits, all of them leaked); Bob compares with ``T b``. The Toeplitz family is
universal: for any fixed ``a != b``, ``Pr_seed[T a = T b] = 2**-tag_bits`` exactly (the first
differing column makes the tag difference uniform), which is below the ``n / 2**tag_bits`` bound of
polynomial hashing over GF(2^64). Equal keys always pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.qkd.privacy_amplification import ToeplitzHasher, _bits


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of :func:`verify_keys`.

    Attributes:
        equal: the tags matched (keys equal except with probability collision_probability).
        leaked_bits: tag bits disclosed (``tag_bits``).
        tag_bits: hash output length.
        collision_probability: probability that unequal keys pass (``2**-tag_bits``).
    """

    equal: bool
    leaked_bits: int
    tag_bits: int
    collision_probability: float

    def __bool__(self) -> bool:
        return self.equal

    def to_dict(self) -> dict[str, object]:
        """Plain-dict view for JSON output."""
        return asdict(self)


def universal_hash(bits: ArrayLike, seed_bits: ArrayLike, tag_bits: int) -> NDArray[np.uint8]:
    """Toeplitz hash of ``bits`` to ``tag_bits`` bits (seed of ``n + tag_bits - 1`` bits)."""
    x = _bits(bits, "bits")
    if x.size == 0:
        return np.zeros(tag_bits, dtype=np.uint8)
    return ToeplitzHasher(seed_bits, n=x.size, out_len=tag_bits)(x)


def verify_keys(
    alice_bits: ArrayLike,
    bob_bits: ArrayLike,
    *,
    tag_bits: int = 64,
    rng: np.random.Generator,
) -> VerificationResult:
    """Check that two keys are equal by comparing fresh Toeplitz-hash tags.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.integers(0, 2, 1000, dtype=np.uint8)
        >>> b = a.copy(); b[17] ^= 1
        >>> verify_keys(a, a, rng=rng).equal, verify_keys(a, b, rng=rng).equal
        (True, False)
    """
    a = _bits(alice_bits, "alice_bits")
    b = _bits(bob_bits, "bob_bits")
    if a.size != b.size:
        raise InputError(f"alice_bits and bob_bits must have equal length ({a.size} != {b.size})")
    if not 1 <= tag_bits <= 1024:
        raise InputError(f"tag_bits must be in [1, 1024] (got {tag_bits})")
    if a.size == 0:
        equal = True
    else:
        seed = rng.integers(0, 2, a.size + tag_bits - 1, dtype=np.uint8)
        hasher = ToeplitzHasher(seed, n=a.size, out_len=tag_bits)
        tags = hasher(np.stack([a, b]))
        equal = bool((tags[0] == tags[1]).all())
    return VerificationResult(
        equal=equal,
        leaked_bits=int(tag_bits),
        tag_bits=int(tag_bits),
        collision_probability=float(2.0**-tag_bits),
    )
