"""State and network tomography: classical and learned estimators of what the network delivers.

State tomography (local Pauli settings, finite shots, readout error; up to 6 qubits):
:func:`measure_state` -> :class:`TomographyData` -> :func:`linear_inversion`,
:func:`maximum_likelihood`, :func:`bayesian_mean`, :class:`NeuralEstimator`
(:func:`train_neural_estimator`), :func:`direct_fidelity`; :func:`bench_state_tomography`
compares them with qiskit-experiments (:func:`qiskit_linear_inversion`).

Verification of delivered pairs (a fraction sacrificed): :func:`verify_pairs`,
:func:`verify_fidelities`, :func:`verify_copies`; inside a run: :func:`verify_run`,
:func:`calibrate_links` (scenario block ``verification``).

Network tomography: :func:`network_tomography_problem`, :func:`estimate_links`,
:func:`identifiability`, :func:`bench_network_tomography`.

Names are imported lazily (torch and qiskit-experiments only when used).

Example:
    >>> import numpy as np
    >>> from qnetai.tomography import bell_state, measure_state, linear_inversion, fidelity
    >>> data = measure_state(bell_state(), shots=1000, rng=np.random.default_rng(0))
    >>> fidelity(bell_state(), linear_inversion(data).rho) > 0.97
    True
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "TomographyData": "measure",
    "measure_state": "measure",
    "Estimate": "estimators",
    "FidelityEstimate": "estimators",
    "linear_inversion": "estimators",
    "project_to_state": "estimators",
    "maximum_likelihood": "estimators",
    "bayesian_mean": "estimators",
    "direct_fidelity": "estimators",
    "log_likelihood": "estimators",
    "NeuralEstimator": "neural",
    "train_neural_estimator": "neural",
    "qiskit_linear_inversion": "reference",
    "bench_state_tomography": "bench",
    "bell_state": "states",
    "ghz_state": "states",
    "graph_state": "states",
    "network_pair": "states",
    "sample_network_pairs": "states",
    "fidelity": "states",
    "network_tomography_problem": "network",
    "NetworkTomography": "network",
    "estimate_links": "network",
    "identifiability": "network",
    "bench_network_tomography": "network",
    "Verification": "verification",
    "verify_pairs": "verification",
    "verify_fidelities": "verification",
    "verify_copies": "verification",
    "estimate_from_counts": "verification",
    "agree_probability": "verification",
    "RunVerification": "in_simulator",
    "verify_run": "in_simulator",
    "calibrate_links": "in_simulator",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'qnetai.tomography' has no attribute {name!r}")
    return getattr(importlib.import_module(f"qnetai.tomography.{module}"), name)
