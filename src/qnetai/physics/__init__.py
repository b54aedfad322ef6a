"""Pure, vectorised quantum-network physics: states, noise, operations, links, bounds.

Everything here is numpy on arrays with a leading batch axis of any shape, with
no I/O. Bell-diagonal states are ``(..., 4)`` arrays over
``(Phi+, Psi+, Psi-, Phi-)``; the fidelity is ``p[..., 0]``.

Example:
    >>> from qnetai import physics as ph
    >>> pair = ph.werner(0.95)
    >>> out, p_ok = ph.dejmps(pair, pair)
    >>> round(float(ph.fidelity(ph.swap(out, out))), 4)
    0.9323
"""

from qnetai.physics.bell import (
    BELL_LABELS,
    PAULI_BITS,
    bell_kets,
    bell_to_correlations,
    bell_to_density,
    compose_bell,
    correlations_to_bell,
    density_to_bell,
    fidelity,
    fidelity_from_werner_parameter,
    validate_bell,
    werner,
    werner_parameter,
)
from qnetai.physics.bounds import binary_entropy, plob_bound, tgw_bound
from qnetai.physics.links import (
    HeraldOutcome,
    double_click_herald,
    fibre_transmittance,
    free_space_transmittance,
    heralding_round_trip_s,
    single_click_herald,
)
from qnetai.physics.noise import (
    decay_werner_parameter,
    depolarise,
    t1_t2_factors,
    t1_t2_noise,
)
from qnetai.physics.operations import bbpssw, dejmps, swap

__all__ = [
    "BELL_LABELS",
    "PAULI_BITS",
    "HeraldOutcome",
    "bbpssw",
    "bell_kets",
    "bell_to_correlations",
    "bell_to_density",
    "binary_entropy",
    "compose_bell",
    "correlations_to_bell",
    "decay_werner_parameter",
    "dejmps",
    "density_to_bell",
    "depolarise",
    "double_click_herald",
    "fibre_transmittance",
    "fidelity",
    "fidelity_from_werner_parameter",
    "free_space_transmittance",
    "heralding_round_trip_s",
    "plob_bound",
    "single_click_herald",
    "swap",
    "t1_t2_factors",
    "t1_t2_noise",
    "tgw_bound",
    "validate_bell",
    "werner",
    "werner_parameter",
]
