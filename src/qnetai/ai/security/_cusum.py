"""Page's one-sided CUSUM, shared by the alerts of ``qnetai run`` and :class:`CusumDetector`.

A module of its own, importing numpy only, so the run's alerts need not import scikit-learn.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def cusum_path(z: NDArray[np.float64], drift: float) -> NDArray[np.float64]:
    """Page's CUSUM ``S_t = max(0, S_{t-1} + z_t - drift)`` of standardised scores ``z``.

    Non-finite scores count as 0 (the honest mean).

    Example:
        >>> cusum_path(np.array([0.0, 2.0, 2.0, -5.0]), 0.5).tolist()
        [0.0, 1.5, 3.0, 0.0]
    """
    out = np.empty_like(z, dtype=float)
    acc = 0.0
    for i, v in enumerate(np.where(np.isfinite(z), z, 0.0)):
        acc = max(0.0, acc + float(v) - drift)
        out[i] = acc
    return out
