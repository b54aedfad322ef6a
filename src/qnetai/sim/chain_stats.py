"""Streaming statistics in bounded memory: running moments and a value-count quantile sketch.

Both accept data chunk by chunk and never keep the samples themselves, so a Monte Carlo of any
length summarises in a fixed amount of memory. Fed the same chunks in the same order they give
the same figures, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["RunningMoments", "ValueCounts"]

#: Distinct values a :class:`ValueCounts` keeps exactly (two arrays of this length, ~2 MB).
MAX_DISTINCT_VALUES = 1 << 17


class RunningMoments:
    """Count, mean and sum of squared deviations of a stream (Chan et al. chunk merging).

    Example:
        >>> m = RunningMoments()
        >>> m.add(np.array([1.0, 2.0])); m.add(np.array([3.0]))
        >>> m.count, m.mean, m.std
        (3, 2.0, 1.0)
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self._m2 = 0.0

    def add(self, x: np.ndarray) -> None:
        """Fold the 1-D array ``x`` into the moments."""
        n_b = int(x.shape[0])
        if n_b == 0:
            return
        mean_b = float(np.mean(x))
        m2_b = float(np.sum(np.square(x - mean_b)))
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n) if n_a else mean_b
        self._m2 += m2_b + delta * delta * (n_a * n_b / n)
        self.count = n

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); 0 for fewer than two values."""
        return math.sqrt(max(self._m2, 0.0) / (self.count - 1)) if self.count > 1 else 0.0

    @property
    def sem(self) -> float:
        """Standard error of the mean."""
        return self.std / math.sqrt(self.count) if self.count else 0.0


class ValueCounts:
    """Sorted distinct values with their counts, for percentiles of a stream.

    Percentiles follow ``numpy.percentile`` (linear interpolation) and are exact while the stream
    has at most ``max_distinct`` distinct values (the delivery rounds and stored-pair counts of a
    repeater chain are whole numbers, so this is the usual case). Beyond that, neighbouring
    entries are merged pairwise (each keeps the value of its larger part), so memory stays fixed
    and a percentile is off by at most the rank of one merged entry, ``~2 n / max_distinct``.
    """

    def __init__(self, max_distinct: int = MAX_DISTINCT_VALUES) -> None:
        if max_distinct < 2:
            raise ValueError(f"max_distinct must be >= 2 (got {max_distinct})")
        self.max_distinct = int(max_distinct)
        self.values = np.zeros(0)
        self.counts = np.zeros(0, dtype=np.int64)
        self.exact = True

    @property
    def total(self) -> int:
        """Number of values seen."""
        return int(self.counts.sum())

    def add(self, x: np.ndarray) -> None:
        """Fold the 1-D array ``x`` into the counts."""
        if x.shape[0] == 0:
            return
        v, c = np.unique(x, return_counts=True)
        if self.values.size:
            allv = np.concatenate([self.values, v])
            allc = np.concatenate([self.counts, c])
            order = np.argsort(allv, kind="stable")
            allv, allc = allv[order], allc[order]
            first = np.ones(allv.size, dtype=bool)
            first[1:] = allv[1:] != allv[:-1]
            starts = np.flatnonzero(first)
            v, c = allv[starts], np.add.reduceat(allc, starts)
        while v.size > self.max_distinct:
            v, c = self._halve(v, c)
            self.exact = False
        self.values, self.counts = v, c.astype(np.int64)

    @staticmethod
    def _halve(v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = v.size // 2 * 2
        a_v, b_v, a_c, b_c = v[0:m:2], v[1:m:2], c[0:m:2], c[1:m:2]
        nv = np.where(b_c > a_c, b_v, a_v)
        nc = a_c + b_c
        if m < v.size:
            nv, nc = np.append(nv, v[-1]), np.append(nc, c[-1])
        return nv, nc

    def _at_rank(self, k: np.ndarray) -> np.ndarray:
        cum = np.cumsum(self.counts)
        return self.values[np.searchsorted(cum, k, side="right")]

    def percentile(self, q: float | tuple[float, ...]) -> np.ndarray:
        """Percentiles ``q`` in [0, 100] as ``numpy.percentile(samples, q)`` would give."""
        n = self.total
        if n == 0:
            raise ValueError("no values")
        qs = np.atleast_1d(np.asarray(q, dtype=np.float64)) / 100.0
        h = qs * (n - 1)
        lo = np.floor(h)
        t = h - lo
        a = self._at_rank(lo.astype(np.int64))
        b = self._at_rank(np.minimum(lo.astype(np.int64) + 1, n - 1))
        diff = b - a
        out = np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)
        return out if np.ndim(q) else out[0]
