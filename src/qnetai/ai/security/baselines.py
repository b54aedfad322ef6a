"""Textbook QKD security checks, scored like the learned detectors.

* :class:`QberThresholdBaseline`: abort when the signal Z-basis QBER exceeds the threshold
  (11 %, the BB84 one-way limit used by :mod:`qnetai.qkd.estimation`); its score is the
  QBER itself.
* :class:`DecoyConsistencyBaseline`: the decoy-state check: the share of signal detections
  that the vacuum + weak decoy bound attributes to single photons,
  ``Y1^L mu e^-mu / Q_mu`` (``single_photon_fraction``); a photon-number-splitting Eve
  drives it down. Its score is minus that share; it flags blocks below the ``quantile``
  of honest blocks seen in ``fit`` (or below zero, where the bound fails).

Both read rows of :data:`~qnetai.qkd.monitoring.TELEMETRY_FEATURE_NAMES`.

Example:
    >>> import numpy as np
    >>> from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES
    >>> X = np.zeros((2, len(TELEMETRY_FEATURE_NAMES)))
    >>> X[1, TELEMETRY_FEATURE_NAMES.index("qber_z_signal")] = 0.2
    >>> QberThresholdBaseline().fit(X).predict(X).tolist()
    [0, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from qnetai.qkd.estimation import DEFAULT_QBER_THRESHOLD
from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES

__all__ = ["DecoyConsistencyBaseline", "QberThresholdBaseline"]


def _col(X: ArrayLike, name: str) -> NDArray[np.float64]:
    t = np.asarray(X, dtype=float)
    if t.ndim != 2 or t.shape[1] != len(TELEMETRY_FEATURE_NAMES):
        raise ValueError(f"expected (n, {len(TELEMETRY_FEATURE_NAMES)}) telemetry rows")
    return t[:, TELEMETRY_FEATURE_NAMES.index(name)]


class QberThresholdBaseline(BaseEstimator):
    """Flag (abort) blocks whose signal Z-basis QBER exceeds ``threshold``."""

    def __init__(self, threshold: float = DEFAULT_QBER_THRESHOLD) -> None:
        self.threshold = threshold

    def fit(self, X: ArrayLike, y: Any = None) -> QberThresholdBaseline:
        """Nothing to learn; returns ``self``."""
        self.threshold_ = float(self.threshold)
        return self

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """The QBER (NaN -> 0.5: no sifted bits is suspicious)."""
        q = _col(X, "qber_z_signal")
        return np.where(np.isfinite(q), q, 0.5)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """1 where the block would abort, else 0."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)


class DecoyConsistencyBaseline(BaseEstimator):
    """Flag blocks whose decoy single-photon share is below the honest ``quantile``."""

    def __init__(self, quantile: float = 0.01) -> None:
        self.quantile = quantile

    def fit(self, X: ArrayLike, y: Any = None) -> DecoyConsistencyBaseline:
        """Calibrate on honest blocks ``X``; returns ``self``."""
        s = self.decision_function(X)
        self.threshold_ = float(min(np.quantile(s, 1.0 - self.quantile), 0.0))
        return self

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """Minus the single-photon share (NaN -> 0: no bound)."""
        f = _col(X, "single_photon_fraction")
        return -np.where(np.isfinite(f), f, 0.0)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """1 where the decoy bound is inconsistent with honest operation, else 0."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)
