"""Circuit building blocks shared by the models, each with a "no entanglement" switch.

Every function here queues PennyLane operations inside a QNode; ``entangling=False`` drops
every multi-qubit gate (the ablation of Bowles, Ahmed and Schuld 2024, arXiv 2403.07059),
so the state stays a product state and each qubit is simulated on its own.

Example:
    >>> import numpy as np
    >>> ops = circuit_operations(iqp_embedding, np.zeros(3), n_qubits=3, entangling=False)
    >>> count_multi_qubit(ops)
    0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qnetai.qml._backend import pennylane

__all__ = [
    "circuit_operations",
    "count_multi_qubit",
    "iqp_embedding",
    "product_ansatz",
    "reuploading_layers",
]


def iqp_embedding(
    x: Any, *, n_qubits: int, entangling: bool = True, repeats: int = 2, bandwidth: float = 1.0
) -> None:
    """IQP feature map (Havlicek et al. 2019): ``repeats`` x [H, RZ(x_i), ZZ(x_i x_j)].

    The ZZ phases couple neighbours on a ring (a line for two qubits); ``x`` may carry a
    leading batch axis (PennyLane parameter broadcasting). ``bandwidth`` scales ``x``.
    """
    qml = pennylane()
    z = x * bandwidth
    pairs = _ring(n_qubits)
    for _ in range(repeats):
        for i in range(n_qubits):
            qml.Hadamard(wires=i)
            qml.RZ(z[..., i], wires=i)
        if entangling:
            for i, j in pairs:
                qml.IsingZZ(z[..., i] * z[..., j], wires=[i, j])


def reuploading_layers(
    x: Any, weights: Any, scales: Any, *, n_qubits: int, entangling: bool = True
) -> None:
    """Data re-uploading (Perez-Salinas et al. 2020): per layer RX(s x_i), Rot(w), CNOT ring.

    ``weights`` has shape ``(layers, n_qubits, 3)``, ``scales`` ``(layers, n_qubits)``.
    """
    qml = pennylane()
    pairs = _ring(n_qubits)
    for layer in range(weights.shape[0]):
        for i in range(n_qubits):
            qml.RX(scales[layer, i] * x[..., i], wires=i)
            qml.Rot(weights[layer, i, 0], weights[layer, i, 1], weights[layer, i, 2], wires=i)
        if entangling:
            for i, j in pairs:
                qml.CNOT(wires=[i, j])


def product_ansatz(weights: Any, *, n_qubits: int, entangling: bool = True) -> None:
    """Hardware-efficient ansatz: per layer RY, RZ on every qubit, then a CZ ring.

    ``weights`` has shape ``(layers, n_qubits, 2)``; with ``entangling=False`` it prepares
    product states only.
    """
    qml = pennylane()
    pairs = _ring(n_qubits)
    for layer in range(weights.shape[0]):
        for i in range(n_qubits):
            qml.RY(weights[layer, i, 0], wires=i)
            qml.RZ(weights[layer, i, 1], wires=i)
        if entangling and layer < weights.shape[0] - 1:
            for i, j in pairs:
                qml.CZ(wires=[i, j])


def _ring(n_qubits: int) -> list[tuple[int, int]]:
    if n_qubits < 2:
        return []
    if n_qubits == 2:
        return [(0, 1)]
    return [(i, (i + 1) % n_qubits) for i in range(n_qubits)]


def circuit_operations(fn: Callable[..., None], *args: Any, **kwargs: Any) -> list[Any]:
    """The operations ``fn(*args, **kwargs)`` queues (for inspection and tests)."""
    qml = pennylane()
    with qml.queuing.AnnotatedQueue() as q:
        fn(*args, **kwargs)
    return list(qml.tape.QuantumScript.from_queue(q).operations)


def count_multi_qubit(ops: Sequence[Any]) -> int:
    """How many operations act on more than one wire (entangling gates)."""
    return sum(1 for op in ops if len(op.wires) > 1)
