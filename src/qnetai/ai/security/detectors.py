"""Attack detectors over per-block QKD telemetry, as scikit-learn estimators.

* :class:`SupervisedDetector`: gradient boosting (``method="gbm"``, histogram trees, NaN
  aware) or a small multi-layer perceptron (``method="mlp"``, median imputation and
  scaling in front) trained on labelled blocks.
* :class:`OneClassDetector`: trained on honest blocks only. Optional *context* columns
  (e.g. the log signal gain, which tracks the link loss) are regressed out of the other
  features by a quadratic ridge fit, then the residuals are scored by their Mahalanobis
  distance (Ledoit-Wolf covariance) and their largest robust z-score, whichever is more
  extreme relative to the honest training blocks. ``decision_function < 0`` flags the
  ``contamination`` tail of the training blocks.
* :class:`CusumDetector`: Page's CUSUM over a stream of per-block scores, standardised on
  honest streams: ``S_t = max(0, S_{t-1} + z_t - drift)``, alarm when ``S_t > threshold``.

:func:`derived_features` turns rows of :data:`~qnetai.qkd.monitoring.TELEMETRY_FEATURE_NAMES`
into the scale-free features the detectors use (log gains, gain ratios, ...).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> SupervisedDetector(max_iter=20, random_state=0).fit(X, y).score(X, y) > 0.9
    True
    >>> oc = OneClassDetector().fit(X)
    >>> bool(oc.decision_function(np.array([[9.0, 9.0, 9.0]]))[0] < 0)
    True
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, OutlierMixin
from sklearn.covariance import LedoitWolf
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from qnetai.ai.security._cusum import cusum_path
from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES

__all__ = [
    "DERIVED_FEATURE_NAMES",
    "CusumDetector",
    "OneClassDetector",
    "SupervisedDetector",
    "derived_features",
    "episode_deltas",
    "window_means",
]

_IDX = {n: i for i, n in enumerate(TELEMETRY_FEATURE_NAMES)}
_PASS = (
    "qber_z_signal",
    "qber_z_decoy",
    "qber_x_signal",
    "qber_x_decoy",
    "sifted_fraction",
    "double_click_rate",
    "afterpulse_rate",
    "single_photon_fraction",
    "e1_upper",
    "click_balance_z",
    "click_balance_x",
    "timing_mean_ps",
    "timing_std_ps",
    "monitor_photodiode_nw",
)
#: Columns of :func:`derived_features` (the first is the context column: log10 signal gain).
DERIVED_FEATURE_NAMES: tuple[str, ...] = (
    "log10_gain_signal",
    "decoy_signal_gain_ratio",
    "vacuum_signal_gain_ratio",
    "double_per_gain",
    *_PASS,
)


def derived_features(x: ArrayLike, *, mu: float = 0.5, nu: float = 0.1) -> NDArray[np.float64]:
    """Scale-free detector features from telemetry rows (:data:`DERIVED_FEATURE_NAMES`).

    ``decoy_signal_gain_ratio`` is ``(Q_nu / nu) / (Q_mu / mu)`` (about 1 on an honest
    link at any distance); ``double_per_gain`` the double-click rate per signal gain.
    """
    t = np.asarray(x, dtype=float)
    if t.ndim != 2 or t.shape[1] != len(TELEMETRY_FEATURE_NAMES):
        raise ValueError(f"expected (n, {len(TELEMETRY_FEATURE_NAMES)}) telemetry rows")
    qs = t[:, _IDX["gain_signal"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        cols = [
            np.log10(np.where(qs > 0, qs, np.nan)),
            (t[:, _IDX["gain_decoy"]] / nu) / (qs / mu),
            t[:, _IDX["gain_vacuum"]] / qs,
            t[:, _IDX["double_click_rate"]] / qs,
            *(t[:, _IDX[n]] for n in _PASS),
        ]
    out = np.column_stack(cols)
    out[~np.isfinite(out)] = np.nan
    return out


def episode_deltas(
    x: ArrayLike,
    episode: ArrayLike,
    block: ArrayLike,
    *,
    reference_blocks: int = 4,
) -> NDArray[np.float64]:
    """``[x, x - reference]``: features beside their change from the link's own reference.

    The reference of an episode (one link) is the median of its first ``reference_blocks``
    blocks, the commissioning period a deployed system records before it starts keying
    (the data sets start attacks later). This removes what differs from link to link
    (distance, receiver, monitor baseline), so small changes stand out.

    Example:
        >>> episode_deltas([[1.0], [1.0], [3.0]], [0, 0, 0], [0, 1, 2], reference_blocks=2)
        array([[1., 0.],
               [1., 0.],
               [3., 2.]])
    """
    xa = np.asarray(x, dtype=float)
    ep = np.asarray(episode)
    blk = np.asarray(block)
    ref = np.full_like(xa, np.nan)
    for e in np.unique(ep):
        m = ep == e
        first = m & (blk < reference_blocks)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref[m] = np.nanmedian(xa[first], axis=0)
    return np.column_stack([xa, xa - ref])


def window_means(
    x: ArrayLike, episode: ArrayLike, block: ArrayLike, *, window: int = 4
) -> NDArray[np.float64]:
    """Causal rolling mean of each column over a link's last ``window`` blocks (this one too).

    Pooling blocks trades delay for sensitivity: a change of a few percent hidden in one
    block's noise shows in the mean of four. NaN entries are skipped.

    Example:
        >>> window_means([[1.0], [3.0], [5.0]], [0, 0, 0], [0, 1, 2], window=2).ravel()
        array([1., 2., 4.])
    """
    xa = np.asarray(x, dtype=float)
    ep = np.asarray(episode)
    blk = np.asarray(block)
    out = np.full_like(xa, np.nan)
    for e in np.unique(ep):
        idx = np.flatnonzero(ep == e)
        idx = idx[np.argsort(blk[idx], kind="stable")]
        v = xa[idx]
        ok = np.isfinite(v)
        csum = np.cumsum(np.where(ok, v, 0.0), axis=0)
        ccnt = np.cumsum(ok, axis=0)
        lag_s = np.vstack([np.zeros((window, v.shape[1])), csum])[: len(v)]
        lag_c = np.vstack([np.zeros((window, v.shape[1])), ccnt])[: len(v)]
        n = ccnt - lag_c
        with np.errstate(invalid="ignore", divide="ignore"):
            out[idx] = np.where(n > 0, (csum - lag_s) / np.maximum(n, 1), np.nan)
    return out


class SupervisedDetector(ClassifierMixin, BaseEstimator):
    """Supervised attack detector: gradient boosting or a small MLP (see module doc).

    Args:
        method: ``"gbm"`` (:class:`~sklearn.ensemble.HistGradientBoostingClassifier`) or
            ``"mlp"`` (:class:`~sklearn.neural_network.MLPClassifier`).
        max_iter: boosting iterations or MLP epochs.
        hidden_units: MLP hidden layer widths.
        random_state: seed or :class:`numpy.random.RandomState` of the learner.
    """

    def __init__(
        self,
        method: str = "gbm",
        max_iter: int = 200,
        hidden_units: tuple[int, ...] = (32, 16),
        random_state: Any = None,
    ) -> None:
        self.method = method
        self.max_iter = max_iter
        self.hidden_units = hidden_units
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _make(self) -> Any:
        if self.method == "gbm":
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=0.1, random_state=self.random_state
            )
        if self.method == "mlp":
            from sklearn.impute import SimpleImputer
            from sklearn.neural_network import MLPClassifier
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(
                SimpleImputer(strategy="median", keep_empty_features=True),
                StandardScaler(),
                MLPClassifier(
                    hidden_layer_sizes=self.hidden_units,
                    max_iter=self.max_iter,
                    alpha=1e-3,
                    early_stopping=True,
                    n_iter_no_change=20,
                    random_state=self.random_state,
                ),
            )
        raise ValueError(f"method must be 'gbm' or 'mlp' (got {self.method!r})")

    def fit(self, X: ArrayLike, y: ArrayLike) -> SupervisedDetector:
        """Fit on blocks ``X`` with labels ``y``; returns ``self``."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_ = self._make().fit(X, y)
        last = self.model_[-1] if self.method == "mlp" else self.model_
        self.n_iter_ = int(last.n_iter_)
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities, columns in :attr:`classes_` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return np.asarray(self.model_.predict_proba(X), dtype=float)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """Binary: log-odds of the second class; more classes: log-probabilities.

        Binary output is > 0 where the second class is predicted (the attack score when
        labels are 0/1); with more classes the shape is ``(n, n_classes)``.
        """
        p = np.clip(self.predict_proba(X), 1e-12, 1.0)
        if p.shape[1] == 2:
            return np.log(p[:, 1]) - np.log(p[:, 0])
        return np.log(p)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Most probable class per block."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class OneClassDetector(OutlierMixin, BaseEstimator):
    """Honest-only anomaly detector: context regression, then Mahalanobis distance.

    Args:
        context: column indices whose quadratic ridge fit is subtracted from the others
            (empty: plain Mahalanobis distance).
        ridge: ridge penalty of the context regression.
        contamination: fraction of training blocks with ``decision_function < 0``.
    """

    def __init__(
        self, context: tuple[int, ...] = (), ridge: float = 1e-3, contamination: float = 0.01
    ) -> None:
        self.context = context
        self.ridge = ridge
        self.contamination = contamination

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _design(self, c: NDArray[np.float64]) -> NDArray[np.float64]:
        parts = [np.ones((c.shape[0], 1)), c, c**2]
        return np.column_stack(parts)

    def _residuals(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        X = np.where(np.isfinite(X), X, self.medians_)
        if not self.context_:
            return (X - self.center_) / self.scale_
        c = (X[:, self.context_] - self.center_[self.context_]) / self.scale_[self.context_]
        z = (X[:, self.others_] - self.center_[self.others_]) / self.scale_[self.others_]
        r = z - self._design(c) @ self.coef_
        return np.column_stack([c, r])

    def fit(self, X: ArrayLike, y: Any = None) -> OneClassDetector:
        """Fit on honest blocks ``X`` (``y`` is ignored); returns ``self``."""
        xa = np.asarray(validate_data(self, X, ensure_all_finite="allow-nan"), dtype=float)
        if not 0.0 < self.contamination < 0.5:
            raise ValueError(f"contamination must be in (0, 0.5) (got {self.contamination})")
        with np.errstate(all="ignore"):
            med = np.nanmedian(xa, axis=0) if xa.size else np.zeros(xa.shape[1])
        self.medians_ = np.where(np.isfinite(med), med, 0.0)
        Xf = np.where(np.isfinite(xa), xa, self.medians_)
        self.center_ = Xf.mean(axis=0)
        sd = Xf.std(axis=0)
        self.scale_ = np.where(sd > 1e-12, sd, 1.0)
        self.context_ = [int(i) for i in self.context]
        self.others_ = [i for i in range(xa.shape[1]) if i not in self.context_]
        if self.context_:
            c = (Xf[:, self.context_] - self.center_[self.context_]) / self.scale_[self.context_]
            z = (Xf[:, self.others_] - self.center_[self.others_]) / self.scale_[self.others_]
            a = self._design(c)
            self.coef_ = np.linalg.solve(a.T @ a + self.ridge * np.eye(a.shape[1]), a.T @ z)
        r = self._residuals(xa)
        self.cov_ = LedoitWolf().fit(r)
        self.res_center_ = np.median(r, axis=0)
        mad = np.median(np.abs(r - self.res_center_), axis=0) * 1.4826
        self.res_scale_ = np.where(mad > 1e-12, mad, 1.0)
        maha, maxz = self._stats(r)
        self.maha_ref_ = float(np.quantile(maha, 0.99)) or 1.0
        self.maxz_ref_ = float(np.quantile(maxz, 0.99)) or 1.0
        self.offset_ = float(np.quantile(self.score_samples(xa), self.contamination))
        return self

    def _stats(self, r: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        maha = np.asarray(self.cov_.mahalanobis(r), dtype=float)
        z = np.abs(r - self.res_center_) / self.res_scale_
        maxz = z.max(axis=1) if z.shape[1] else np.zeros(r.shape[0])
        return maha, maxz

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """Higher = more like honest data: minus the larger of two normalised statistics.

        The squared Mahalanobis distance of the residuals (sensitive to many small
        changes) and the largest robust z-score of one residual (sensitive to one feature
        moving, e.g. the monitor photodiode), each divided by its 99th percentile on the
        training blocks.
        """
        check_is_fitted(self)
        xa = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        maha, maxz = self._stats(self._residuals(np.asarray(xa, dtype=float)))
        return -np.maximum(maha / self.maha_ref_, maxz / self.maxz_ref_)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """``score_samples - offset_``: negative for outliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """``+1`` for honest-looking blocks, ``-1`` for outliers."""
        return np.where(self.decision_function(X) < 0, -1, 1).astype(np.int64)


class CusumDetector(BaseEstimator):
    """Page's CUSUM over per-block scores (one column, ordered in time).

    ``fit`` standardises on honest scores (mean and std); ``statistic`` gives the CUSUM
    path of a stream; ``first_alarm`` the first index where it exceeds ``threshold``.

    Example:
        >>> honest = np.array([[0.0], [1.0]] * 25)
        >>> cs = CusumDetector(drift=0.5, threshold=5.0).fit(honest)
        >>> cs.first_alarm(np.array([[0.5]] * 5 + [[3.0]] * 5))
        6
    """

    def __init__(self, drift: float = 0.5, threshold: float = 5.0) -> None:
        self.drift = drift
        self.threshold = threshold

    def fit(self, X: ArrayLike, y: Any = None) -> CusumDetector:
        """Standardisation from honest scores ``X`` of shape ``(n, 1)``; returns ``self``."""
        s = np.asarray(X, dtype=float).reshape(-1)
        s = s[np.isfinite(s)]
        self.mean_ = float(s.mean()) if s.size else 0.0
        sd = float(s.std()) if s.size else 1.0
        self.std_ = sd if sd > 1e-12 else 1.0
        return self

    def statistic(self, X: ArrayLike) -> NDArray[np.float64]:
        """CUSUM path of the stream ``X`` (NaN scores count as the honest mean)."""
        check_is_fitted(self)
        z = (np.asarray(X, dtype=float).reshape(-1) - self.mean_) / self.std_
        return cusum_path(z, self.drift)

    def first_alarm(self, X: ArrayLike) -> int | None:
        """Index of the first block where the statistic exceeds ``threshold`` (or None)."""
        hit = np.flatnonzero(self.statistic(X) > self.threshold)
        return int(hit[0]) if hit.size else None
