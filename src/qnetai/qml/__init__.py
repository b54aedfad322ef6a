"""Quantum machine learning models beside classical baselines (PennyLane, scikit-learn API).

Public names, imported lazily (PennyLane itself only when a circuit is built; install the
``[qml]`` extra):

* :class:`VariationalClassifier`, :class:`QuantumKernelClassifier` (fidelity and projected
  kernels), :class:`BornMachine`: scikit-learn estimators with ``random_state`` and an
  ``entangling=False`` ablation;
* :func:`solve_maxcut`, :func:`maxcut_graph`: QAOA on max-cut of Waxman/grid topologies with
  the exact optimum, a product-state ablation and local search;
* :func:`allocation_instance`, :func:`solve_allocation`: QAOA on a path-allocation QUBO
  (requests, candidate paths, link capacity) with the exact optimum, a product-state
  ablation and a greedy allocation;
* :func:`make_task`, :data:`TASKS`: standard and quantum-network classification tasks;
* :func:`run_qml_benchmark`: ``qnetai bench qml``.

Example:
    >>> from qnetai.qml import TASKS
    >>> "entanglement" in TASKS
    True
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "VariationalClassifier": "classifiers",
    "QuantumKernelClassifier": "classifiers",
    "BornMachine": "born",
    "bars_and_stripes": "born",
    "rbm_probabilities": "born",
    "solve_maxcut": "qaoa",
    "maxcut_graph": "qaoa",
    "cut_values": "qaoa",
    "allocation_instance": "allocation",
    "solve_allocation": "allocation",
    "make_task": "datasets",
    "TASKS": "datasets",
    "run_qml_benchmark": "benchmark",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"qnetai.qml.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'qnetai.qml' has no attribute {name!r}")
