"""Quantum key distribution: pulse-level simulation, post-processing, analytic rates and bounds.

The public names live here, flat; the modules behind them are private in spirit and
imported on first use (``import qnetai.qkd`` costs nothing until a name is touched).

* **Link**: :class:`ChannelModel` (fibre + Bob's detectors), :data:`DEFAULT_CHANNEL` (the
  GYS link, the defaults of every entry point), :data:`GYS`, :data:`LIM2014`.
* **Analytic rates**: :func:`rate_summary`, :func:`bb84_decoy_rate`,
  :func:`optimise_mu_nu`, :func:`finite_key_rate`, :func:`bbm92_rate`.
* **Simulation**: :func:`run_bb84` (pulses to final key), :class:`BB84Setup`,
  :func:`iter_blocks`, attacks (:class:`AttackSpec`, :data:`ATTACKS`), per-block telemetry
  for detectors (:func:`block_features`, :func:`feature_matrix`, :data:`FEATURE_NAMES`).
* **Post-processing**: :func:`reconcile` with a :class:`ReconciliationMethod` (built-ins
  :class:`Cascade`, :class:`Ldpc` in :data:`BUILTIN_RECONCILIATION`, or your own object),
  :func:`verify_keys`, :func:`privacy_amplify` / :class:`ToeplitzHasher`.
* **Networks**: :class:`KeyPools`, :func:`simulate_key_network`,
  :func:`check_key_network`, :func:`entanglement_key`.

Example:
    >>> import numpy as np
    >>> from qnetai import qkd
    >>> r = qkd.run_bb84(distance_km=25.0, pulses=2_000_000, rng=np.random.default_rng(7),
    ...                  reconciliation=qkd.Cascade(variant="option7"))
    >>> r.status, r.reconciliation, r.setup["eta_bob"] == qkd.DEFAULT_CHANNEL.eta_bob
    ('ok', 'cascade-option7', True)
"""

# ruff: noqa: F401  -- the TYPE_CHECKING block re-exports the lazy names for type checkers

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> module (under ``qnetai.qkd``) that defines it.
_EXPORTS: dict[str, str] = {
    # link
    "ChannelModel": "channel",
    "DEFAULT_CHANNEL": "channel",
    "GYS": "channel",
    "GYS_F_EC": "channel",
    "LIM2014": "channel",
    "LIM2014_F_EC": "channel",
    # analytic rates and bounds
    "RateResult": "rates",
    "bb84_decoy_rate": "rates",
    "gllp_key_rate": "rates",
    "infinite_decoy_key_rate": "rates",
    "vacuum_weak_key_rate": "rates",
    "IntensityOptimum": "optimise",
    "FiniteKeyOptimum": "optimise",
    "cutoff_distance_km": "optimise",
    "optimise_finite_key": "optimise",
    "optimise_mu": "optimise",
    "optimise_mu_nu": "optimise",
    "rate_summary": "optimise",
    "FiniteKeyResult": "finite_key",
    "finite_key_length": "finite_key",
    "finite_key_rate": "finite_key",
    "Bbm92Result": "bbm92",
    "bbm92_rate": "bbm92",
    # simulation
    "BB84Setup": "pulses",
    "BlockResult": "pulses",
    "iter_blocks": "pulses",
    "ATTACKS": "attacks",
    "AttackSpec": "attacks",
    "QKDRunResult": "pipeline",
    "expected_key_bits": "pipeline",
    "run_bb84": "pipeline",
    "EstimationResult": "estimation",
    "estimate_parameters": "estimation",
    "expected_statistics": "estimation",
    "SiftCounts": "sifting",
    "block_counts": "sifting",
    # telemetry for detectors
    "FEATURE_NAMES": "monitoring",
    "LABELS": "monitoring",
    "block_features": "monitoring",
    "feature_matrix": "monitoring",
    "labelled_block_features": "monitoring",
    # reconciliation, verification, privacy amplification
    "BUILTIN_RECONCILIATION": "reconciliation",
    "RECONCILIATION_METHODS": "reconciliation",
    "Cascade": "reconciliation",
    "Ldpc": "reconciliation",
    "ReconciliationMethod": "reconciliation",
    "ReconciliationOutcome": "reconciliation",
    "reconcile": "reconciliation",
    "resolve_reconciliation": "reconciliation",
    "VerificationResult": "hashing",
    "verify_keys": "hashing",
    "ToeplitzHasher": "privacy_amplification",
    "privacy_amplify": "privacy_amplification",
    "toeplitz_hash": "privacy_amplification",
    "MultiplyAddShiftHasher": "multiply_add_shift",
    # networks
    "KeyPools": "key_pool",
    "KeyNetworkResult": "network",
    "check_key_network": "network",
    "simulate_key_network": "network",
    "EntanglementKey": "network_entanglement",
    "entanglement_key": "network_entanglement",
    "xor_relay": "relay",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qnetai.qkd' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"qnetai.qkd.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # pragma: no cover - static view of the lazy names
    from qnetai.qkd.attacks import ATTACKS, AttackSpec
    from qnetai.qkd.bbm92 import Bbm92Result, bbm92_rate
    from qnetai.qkd.channel import (
        DEFAULT_CHANNEL,
        GYS,
        GYS_F_EC,
        LIM2014,
        LIM2014_F_EC,
        ChannelModel,
    )
    from qnetai.qkd.estimation import EstimationResult, estimate_parameters, expected_statistics
    from qnetai.qkd.finite_key import FiniteKeyResult, finite_key_length, finite_key_rate
    from qnetai.qkd.hashing import VerificationResult, verify_keys
    from qnetai.qkd.key_pool import KeyPools
    from qnetai.qkd.monitoring import (
        FEATURE_NAMES,
        LABELS,
        block_features,
        feature_matrix,
        labelled_block_features,
    )
    from qnetai.qkd.multiply_add_shift import MultiplyAddShiftHasher
    from qnetai.qkd.network import KeyNetworkResult, check_key_network, simulate_key_network
    from qnetai.qkd.network_entanglement import EntanglementKey, entanglement_key
    from qnetai.qkd.optimise import (
        FiniteKeyOptimum,
        IntensityOptimum,
        cutoff_distance_km,
        optimise_finite_key,
        optimise_mu,
        optimise_mu_nu,
        rate_summary,
    )
    from qnetai.qkd.pipeline import QKDRunResult, expected_key_bits, run_bb84
    from qnetai.qkd.privacy_amplification import ToeplitzHasher, privacy_amplify, toeplitz_hash
    from qnetai.qkd.pulses import BB84Setup, BlockResult, iter_blocks
    from qnetai.qkd.rates import (
        RateResult,
        bb84_decoy_rate,
        gllp_key_rate,
        infinite_decoy_key_rate,
        vacuum_weak_key_rate,
    )
    from qnetai.qkd.reconciliation import (
        BUILTIN_RECONCILIATION,
        RECONCILIATION_METHODS,
        Cascade,
        Ldpc,
        ReconciliationMethod,
        ReconciliationOutcome,
        reconcile,
        resolve_reconciliation,
    )
    from qnetai.qkd.relay import xor_relay
    from qnetai.qkd.sifting import SiftCounts, block_counts
