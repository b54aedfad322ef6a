"""A learned change-point detector over a link's block stream (scikit-learn estimator).

:class:`ChangePointDetector` outputs, for every block ``t`` of a link, the posterior that
an attack (a change) has started at or before ``t``. It is gradient boosting
(:class:`~sklearn.ensemble.HistGradientBoostingClassifier`) over *accumulated* statistics of
the stream, computed causally by :func:`stream_statistics`:

* ``z``: each feature's change from the link's own reference (median of its first
  ``reference_blocks`` blocks, the commissioning period), in units of the honest spread of
  that change (robust MAD over honest training blocks);
* the causal mean of ``z`` over the last ``window`` blocks;
* the cumulative sum of ``z`` since the reference, divided by the square root of the
  number of blocks (the likelihood-ratio statistic of a mean shift right after the
  reference);
* Page's two-sided CUSUM of ``z`` for each drift in ``drifts``:
  ``S+_t = max(0, S+_{t-1} + z_t - k)``, ``S-_t = max(0, S-_{t-1} - z_t - k)``;
* two pooled statistics: ``sum z^2`` and the largest CUSUM over features.

The classifier learns which accumulated statistic of which feature reveals each attack,
instead of one hand-set CUSUM over one score. Streams are passed as the ``stream`` and
``block`` keyword arguments of ``fit`` / ``predict_proba`` (metadata routing style); without
them ``X`` is one stream in time order. Because the statistics accumulate over a stream,
predictions depend on the order of the rows, unlike an i.i.d. classifier.

Nothing is shipped: the detector is trained from the seed of ``qnetai bench security``.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> n_streams, T = 40, 12
    >>> X = rng.normal(size=(n_streams * T, 2))
    >>> stream = np.repeat(np.arange(n_streams), T); block = np.tile(np.arange(T), n_streams)
    >>> y = ((stream % 2 == 1) & (block >= 6)).astype(int)
    >>> X[y == 1, 0] += 0.8  # a small shift, hidden in one block's noise
    >>> cpd = ChangePointDetector(max_iter=50, random_state=0)
    >>> cpd = cpd.fit(X, y, stream=stream, block=block)
    >>> p = cpd.predict_proba(X, stream=stream, block=block)[:, 1]
    >>> bool(p[(y == 1) & (block >= 9)].mean() > p[y == 0].mean() + 0.4)
    True
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ChangePointDetector", "stream_order", "stream_statistics"]


def stream_order(
    n: int, stream: ArrayLike | None, block: ArrayLike | None
) -> list[NDArray[np.int64]]:
    """Row indices of each stream in time order (one stream of all rows when ``None``)."""
    if stream is None:
        return [np.arange(n, dtype=np.int64)]
    st = np.asarray(stream)
    if st.shape != (n,):
        raise ValueError(f"stream must have one entry per row ({n}), got shape {st.shape}")
    blk = np.arange(n) if block is None else np.asarray(block)
    if blk.shape != (n,):
        raise ValueError(f"block must have one entry per row ({n}), got shape {blk.shape}")
    out = []
    for s in np.unique(st):
        idx = np.flatnonzero(st == s)
        out.append(idx[np.argsort(blk[idx], kind="stable")].astype(np.int64))
    return out


def _reference_deltas(
    x: NDArray[np.float64], groups: list[NDArray[np.int64]], reference_blocks: int
) -> NDArray[np.float64]:
    out = np.full_like(x, np.nan)
    for idx in groups:
        v = x[idx]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.nanmedian(v[:reference_blocks], axis=0)
        out[idx] = v - ref
    return out


def stream_statistics(
    x: ArrayLike,
    *,
    stream: ArrayLike | None = None,
    block: ArrayLike | None = None,
    scale: ArrayLike | None = None,
    reference_blocks: int = 4,
    window: int = 4,
    drifts: tuple[float, ...] = (0.25, 1.0),
) -> NDArray[np.float64]:
    """Causal accumulated statistics of each stream (see the module doc).

    Returns ``(n, f * (3 + 2 * len(drifts)) + 2)`` columns: ``z``, window mean,
    cumulative-sum statistic, then ``S+`` and ``S-`` per drift (each block of ``f``
    columns), then ``sum z^2`` and the largest CUSUM. ``scale`` (per feature, default 1)
    divides the changes; missing values count as no change.

    Example:
        >>> s = stream_statistics([[0.0], [0.0], [2.0], [2.0]], reference_blocks=2,
        ...     window=2, drifts=(0.5,))
        >>> s[:, 3].tolist()  # S+ with drift 0.5
        [0.0, 0.0, 1.5, 3.0]
    """
    xa = np.asarray(x, dtype=float)
    if xa.ndim != 2:
        raise ValueError(f"x must be 2-d (rows, features), got shape {xa.shape}")
    if reference_blocks < 1 or window < 1:
        raise ValueError("reference_blocks and window must be >= 1")
    n, f = xa.shape
    sc = np.ones(f) if scale is None else np.asarray(scale, dtype=float)
    groups = stream_order(n, stream, block)
    z = _reference_deltas(xa, groups, reference_blocks) / sc
    z = np.where(np.isfinite(z), z, 0.0)
    nd = len(drifts)
    out = np.zeros((n, f * (3 + 2 * nd) + 2))
    for idx in groups:
        v = z[idx]
        t = len(idx)
        csum = np.cumsum(v, axis=0)
        lag = np.vstack([np.zeros((window, f)), csum])[:t]
        cnt = np.minimum(np.arange(1, t + 1), window)[:, None]
        win = (csum - lag) / cnt
        after = np.arange(t) >= reference_blocks
        n_after = np.maximum(np.cumsum(after), 1)[:, None]
        glr = np.cumsum(np.where(after[:, None], v, 0.0), axis=0) / np.sqrt(n_after)
        cus = np.zeros((t, 2 * nd, f))
        acc = np.zeros((2 * nd, f))
        for i in range(t):
            for j, k in enumerate(drifts):
                acc[2 * j] = np.maximum(0.0, acc[2 * j] + v[i] - k)
                acc[2 * j + 1] = np.maximum(0.0, acc[2 * j + 1] - v[i] - k)
            cus[i] = acc
        pooled = np.column_stack(
            [np.sum(v**2, axis=1), cus.reshape(t, -1).max(axis=1) if f else np.zeros(t)]
        )
        out[idx] = np.column_stack([v, win, glr, cus.reshape(t, -1), pooled])
    return out


class ChangePointDetector(ClassifierMixin, BaseEstimator):
    """Posterior that a change has happened by each block, from accumulated statistics.

    Args:
        reference_blocks: first blocks of a stream that define its reference.
        window: blocks of the causal window mean.
        drifts: CUSUM drifts ``k`` (in honest standard deviations).
        max_iter: boosting iterations.
        learning_rate: boosting learning rate.
        random_state: seed of the booster.

    ``fit(X, y, stream=..., block=...)``: ``y`` per block, the first class (sorted, e.g.
    ``0``) meaning "no change yet"; its blocks set the honest spread (``scale_``).
    """

    def __init__(
        self,
        reference_blocks: int = 4,
        window: int = 4,
        drifts: tuple[float, ...] = (0.25, 1.0),
        max_iter: int = 200,
        learning_rate: float = 0.1,
        random_state: Any = None,
    ) -> None:
        self.reference_blocks = reference_blocks
        self.window = window
        self.drifts = drifts
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _design(
        self, X: NDArray[np.float64], stream: ArrayLike | None, block: ArrayLike | None
    ) -> NDArray[np.float64]:
        stats = stream_statistics(
            X,
            stream=stream,
            block=block,
            scale=self.scale_,
            reference_blocks=self.reference_blocks,
            window=self.window,
            drifts=tuple(self.drifts),
        )
        return np.column_stack([X, stats])

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        stream: ArrayLike | None = None,
        block: ArrayLike | None = None,
    ) -> ChangePointDetector:
        """Fit on the blocks of labelled streams; returns ``self``."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        xa = np.asarray(X, dtype=float)
        groups = stream_order(xa.shape[0], stream, block)
        d = _reference_deltas(xa, groups, self.reference_blocks)
        pos = np.empty(xa.shape[0], dtype=np.int64)
        for idx in groups:
            pos[idx] = np.arange(idx.size)
        honest = (np.asarray(y) == self.classes_[0]) & (pos >= self.reference_blocks)
        if not honest.any():
            honest = np.asarray(y) == self.classes_[0]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dh = d[honest]
            mad = 1.4826 * np.nanmedian(np.abs(dh - np.nanmedian(dh, axis=0)), axis=0)
            sd = np.nanstd(dh, axis=0)
        sc = np.where(np.isfinite(mad) & (mad > 1e-12), mad, sd)
        self.scale_ = np.where(np.isfinite(sc) & (sc > 1e-12), sc, 1.0)
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            random_state=self.random_state,
        ).fit(self._design(xa, stream, block), y)
        self.n_iter_ = int(self.model_.n_iter_)
        return self

    def predict_proba(
        self, X: ArrayLike, *, stream: ArrayLike | None = None, block: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Class probabilities per block (columns in :attr:`classes_` order)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        design = self._design(np.asarray(X, dtype=float), stream, block)
        return np.asarray(self.model_.predict_proba(design), dtype=float)

    def decision_function(
        self, X: ArrayLike, *, stream: ArrayLike | None = None, block: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Binary: log-odds that a change has happened; more classes: log-probabilities."""
        p = np.clip(self.predict_proba(X, stream=stream, block=block), 1e-12, 1.0)
        if p.shape[1] == 2:
            return np.log(p[:, 1]) - np.log(p[:, 0])
        return np.log(p)

    def predict(
        self, X: ArrayLike, *, stream: ArrayLike | None = None, block: ArrayLike | None = None
    ) -> NDArray[Any]:
        """Most probable class per block."""
        proba = self.predict_proba(X, stream=stream, block=block)
        return self.classes_[np.argmax(proba, axis=1)]

    def first_alarm(self, X: ArrayLike, threshold: float = 0.0) -> int | None:
        """First row of one stream (time order) whose log-odds exceed ``threshold``."""
        hit = np.flatnonzero(self.decision_function(X) > threshold)
        return int(hit[0]) if hit.size else None
