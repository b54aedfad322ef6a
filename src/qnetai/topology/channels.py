"""The optical channel of a link spec: one place that maps a :class:`LinkSpec` to physics.

Example:
    >>> from qnetai.config import LinkSpec
    >>> round(float(link_transmittance(LinkSpec(endpoints=("a", "b"), length_km=50.0))), 4)
    0.1
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.config.models import LinkSpec
from qnetai.physics.links import fibre_transmittance, free_space_transmittance


def link_transmittance(link: LinkSpec, *, extra_loss_db: ArrayLike = 0.0) -> NDArray[np.float64]:
    """End-to-end channel transmittance of ``link`` (no source, coupling or detector losses).

    Fibre: ``10^(-attenuation_db_per_km * length_km / 10)``; free space: beam spreading,
    atmosphere and pointing loss of :func:`qnetai.physics.free_space_transmittance`. An
    ``extra_loss_db`` (e.g. the time-varying loss of a free-space link) multiplies in; the
    result is clipped to ``[0, 1]`` and broadcasts over ``extra_loss_db``.
    """
    if link.kind == "fibre":
        total = fibre_transmittance(link.length_km, link.attenuation_db_per_km)
    else:
        fs = link.free_space
        assert fs is not None  # LinkSpec fills it in for free-space links
        total = free_space_transmittance(
            link.length_km,
            tx_aperture_m=fs.tx_aperture_m,
            rx_aperture_m=fs.rx_aperture_m,
            wavelength_nm=fs.wavelength_nm,
            atmospheric_attenuation_db_per_km=fs.atmospheric_attenuation_db_per_km,
            atmosphere_thickness_km=fs.atmosphere_thickness_km,
            pointing_loss_db=fs.pointing_loss_db,
        )
    extra = 10.0 ** (-np.asarray(extra_loss_db, dtype=float) / 10.0)
    return np.clip(np.asarray(total, dtype=float) * extra, 0.0, 1.0)
