"""Lazy access to PennyLane and torch, with errors that name the extra to install."""

from __future__ import annotations

from typing import Any

from qnetai._optional import require
from qnetai.errors import InputError

__all__ = ["DEVICES", "MAX_QUBITS", "check_qubits", "device", "pennylane", "torch"]

#: Simulators a model may name, with the differentiation method each uses.
DEVICES: dict[str, str] = {"default.qubit": "backprop", "lightning.qubit": "adjoint"}
#: Most qubits a model accepts (a 2**n state vector per sample).
MAX_QUBITS = 24


def pennylane() -> Any:
    """The ``pennylane`` module (``pip install 'qnetai[qml]'``)."""
    return require("pennylane", extra="qml")


def torch() -> Any:
    """The ``torch`` module (``pip install 'qnetai[ai]'``)."""
    return require("torch", extra="ai")


def check_qubits(n_qubits: int, *, name: str = "n_qubits") -> int:
    """``n_qubits`` if it is in ``[1, MAX_QUBITS]``, else an :class:`InputError`."""
    if not 1 <= int(n_qubits) <= MAX_QUBITS:
        raise InputError(f"{name} must be in [1, {MAX_QUBITS}] (got {n_qubits})")
    return int(n_qubits)


def device(name: str, n_qubits: int) -> tuple[Any, str]:
    """A PennyLane device and its differentiation method (``backprop`` or ``adjoint``).

    Example:
        >>> dev, diff = device("default.qubit", 2)
        >>> diff
        'backprop'
    """
    if name not in DEVICES:
        raise InputError(f"device must be one of {sorted(DEVICES)} (got {name!r})")
    qml = pennylane()
    return qml.device(name, wires=check_qubits(n_qubits)), DEVICES[name]
