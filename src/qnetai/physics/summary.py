"""A small table of headline figures for one fibre link (used by ``qnetai physics``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from qnetai.physics.bell import werner
from qnetai.physics.bounds import plob_bound, tgw_bound
from qnetai.physics.links import (
    double_click_herald,
    fibre_transmittance,
    heralding_round_trip_s,
    single_click_herald,
)
from qnetai.physics.noise import depolarise
from qnetai.physics.operations import bbpssw, dejmps, swap


def link_figures(
    *,
    length_km: float,
    t_coh_s: float | None,
    attenuation_db_per_km: float = 0.2,
    detector_efficiency: float = 0.9,
    dark_count_probability: float = 0.0,
    bright_state_parameter: float = 0.05,
    fidelity: float = 0.95,
    gate_fidelity: float = 1.0,
    measurement_error: float = 0.0,
    speed_km_per_s: float = 2.0e5,
) -> dict[str, Any]:
    """Figures of a fibre link with a midpoint station, as a JSON-ready nested dict.

    Heralding (both schemes) with ``length_km / 2`` of fibre on each side; the
    pair's fidelity when the herald reaches the nodes (one round trip of
    depolarising memory with ``t_coh_s``); the PLOB/TGW bounds of the whole
    fibre; and one swap / BBPSSW / DEJMPS round on two Werner pairs of
    ``fidelity``. Rates assume one attempt per heralding round trip.

    Example:
        >>> figs = link_figures(length_km=50.0, t_coh_s=1.0)
        >>> round(figs["link"]["transmittance"], 3)
        0.1
    """
    eta_total = float(fibre_transmittance(length_km, attenuation_db_per_km))
    eta_half = float(fibre_transmittance(length_km / 2.0, attenuation_db_per_km))
    round_trip = float(heralding_round_trip_s(length_km, speed_km_per_s))
    attempt_rate = 1.0 / round_trip if round_trip > 0 else float("inf")

    def scheme(out: Any) -> dict[str, float]:
        stored = depolarise(out.state, round_trip, t_coh_s)
        p = float(out.p_success)
        return {
            "p_success": p,
            "fidelity": float(out.state[0]),
            "fidelity_at_herald": float(stored[0]),
            "rate_hz": p * attempt_rate,
        }

    common = {
        "detector_efficiency": detector_efficiency,
        "dark_count_probability": dark_count_probability,
    }
    dc = double_click_herald(eta_half, eta_half, **common)
    sc = single_click_herald(
        eta_half, eta_half, bright_state_parameter=bright_state_parameter, **common
    )
    pair = werner(fidelity)
    noise = {"gate_fidelity": gate_fidelity, "measurement_error": measurement_error}
    swapped = swap(pair, pair, **noise)
    bb_state, bb_p = bbpssw(pair, pair, **noise)
    de_state, de_p = dejmps(pair, pair, **noise)
    return {
        "inputs": {
            "length_km": length_km,
            "t_coh_s": t_coh_s,
            "attenuation_db_per_km": attenuation_db_per_km,
            "detector_efficiency": detector_efficiency,
            "dark_count_probability": dark_count_probability,
            "bright_state_parameter": bright_state_parameter,
            "fidelity": fidelity,
            "gate_fidelity": gate_fidelity,
            "measurement_error": measurement_error,
            "speed_km_per_s": speed_km_per_s,
        },
        "link": {
            "transmittance": eta_total,
            "transmittance_to_midpoint": eta_half,
            "round_trip_s": round_trip,
            "attempt_rate_hz": attempt_rate,
        },
        "double_click": scheme(dc),
        "single_click": scheme(sc),
        "bounds": {
            "plob_bits_per_use": float(plob_bound(eta_total)),
            "tgw_bits_per_use": float(tgw_bound(eta_total)),
            "plob_bits_per_s": float(plob_bound(eta_total)) * attempt_rate,
        },
        "swap": {"fidelity": float(swapped[0])},
        "bbpssw": {"fidelity": float(bb_state[0]), "p_success": float(np.asarray(bb_p))},
        "dejmps": {"fidelity": float(de_state[0]), "p_success": float(np.asarray(de_p))},
    }
