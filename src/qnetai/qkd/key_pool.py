"""Key pools of the QKD links: integer bit counts that fill over time and drain on use.

One :class:`KeyPools` object holds the pools of every QKD link as arrays (one entry per
link), so a time step is a few vectorised operations. Accounting is exact in integers:

``generated = consumed + left + overflow``

where ``overflow`` counts fresh key discarded because the pool was full (capacity).
The pools count bits only; the bits themselves are uniformly random and shared by the two
ends of a link (the output of privacy amplification), so the relay draws them when it
consumes them (:mod:`qnetai.qkd.relay`).

Example:
    >>> import numpy as np
    >>> pools = KeyPools(2, capacity_bits=100)
    >>> pools.add(np.array([60, 130]))
    >>> pools.levels.tolist(), pools.overflow.tolist()
    ([60, 100], [0, 30])
    >>> pools.try_consume([0, 1], 50), pools.levels.tolist()
    (True, [10, 50])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError

__all__ = ["KeyPools"]


class KeyPools:
    """Bit counts of ``n`` link key pools with a common capacity.

    Attributes (int64 arrays of length ``n``): ``levels`` (bits now in the pool),
    ``generated`` (all key produced, initial bits included), ``consumed`` (taken by the
    relay) and ``overflow`` (discarded because the pool was full).
    """

    def __init__(self, n: int, *, capacity_bits: int, initial_bits: int = 0) -> None:
        if n < 0:
            raise InputError(f"number of pools must be >= 0 (got {n})")
        if capacity_bits < 1:
            raise InputError(f"pool_capacity_bits must be >= 1 (got {capacity_bits})")
        if not 0 <= initial_bits <= capacity_bits:
            raise InputError(
                f"initial_pool_bits must be in [0, {capacity_bits}] (got {initial_bits})"
            )
        self.capacity_bits = int(capacity_bits)
        self.levels: NDArray[np.int64] = np.full(n, int(initial_bits), dtype=np.int64)
        self.generated: NDArray[np.int64] = self.levels.copy()
        self.consumed: NDArray[np.int64] = np.zeros(n, dtype=np.int64)
        self.overflow: NDArray[np.int64] = np.zeros(n, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.levels.size)

    def add(self, bits: ArrayLike) -> None:
        """Add fresh key (one non-negative count per pool); what exceeds capacity is lost."""
        b = np.asarray(bits, dtype=np.int64)
        if b.shape != self.levels.shape or np.any(b < 0):
            raise InputError(f"bits must be {len(self)} non-negative counts (got {b!r})")
        self.generated += b
        total = self.levels + b
        self.levels = np.minimum(total, self.capacity_bits)
        self.overflow += total - self.levels

    def can_serve(self, pools: Sequence[int] | NDArray[np.intp], bits: int) -> bool:
        """Whether every pool in ``pools`` holds at least ``bits``."""
        idx = np.asarray(pools, dtype=np.intp)
        return bool(idx.size) and bool(np.all(self.levels[idx] >= bits))

    def try_consume(self, pools: Sequence[int] | NDArray[np.intp], bits: int) -> bool:
        """Take ``bits`` from each of ``pools`` if all have enough (all or nothing).

        ``pools`` must not repeat an index (a path uses each link once).
        """
        idx = np.asarray(pools, dtype=np.intp)
        if not self.can_serve(idx, bits):
            return False
        self.levels[idx] -= bits
        self.consumed[idx] += bits
        return True

    def conserved(self) -> bool:
        """``generated == consumed + levels + overflow`` for every pool."""
        return bool(np.array_equal(self.generated, self.consumed + self.levels + self.overflow))
