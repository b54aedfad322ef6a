"""Quantum kernels: PSD with unit diagonal, compute-uncompute overlap, product-state ablation."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pennylane")

from qnetai.qml.circuits import circuit_operations, count_multi_qubit, iqp_embedding
from qnetai.qml.classifiers import QuantumKernelClassifier


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(7, 3))


@pytest.mark.parametrize("kernel", ["fidelity", "projected"])
@pytest.mark.parametrize("entangling", [True, False])
def test_kernel_psd_unit_diagonal_symmetric(X: np.ndarray, kernel: str, entangling: bool) -> None:
    K = QuantumKernelClassifier(kernel=kernel, entangling=entangling).kernel_matrix(X)
    assert np.allclose(np.diag(K), 1.0, atol=1e-12)
    assert np.allclose(K, K.T, atol=1e-12)
    assert np.linalg.eigvalsh(K).min() > -1e-10
    assert ((K >= -1e-12) & (K <= 1 + 1e-12)).all()


def test_fidelity_kernel_equals_compute_uncompute_circuit(X: np.ndarray) -> None:
    """K(x, x') = P(|0...0>) after U(x) then U(x')^dagger: an independent circuit."""
    import pennylane as qml

    n = X.shape[1]
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def overlap(a: np.ndarray, b: np.ndarray) -> object:
        iqp_embedding(a, n_qubits=n, bandwidth=0.7)
        qml.adjoint(iqp_embedding)(b, n_qubits=n, bandwidth=0.7)
        return qml.probs(wires=range(n))

    K = QuantumKernelClassifier(bandwidth=0.7).kernel_matrix(X[:3], X[3:6])
    for i in range(3):
        for j in range(3):
            assert K[i, j] == pytest.approx(float(overlap(X[i], X[3 + j])[0]), abs=1e-10)


def test_no_entanglement_kernel_is_a_product_of_one_qubit_kernels(X: np.ndarray) -> None:
    """Without ZZ gates each qubit is (RZ(x) H)^2 |0>: closed form per qubit, multiplied."""
    ops = circuit_operations(iqp_embedding, X[0], n_qubits=3, entangling=False)
    assert count_multi_qubit(ops) == 0
    assert count_multi_qubit(circuit_operations(iqp_embedding, X[0], n_qubits=3)) > 0
    h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)

    def one(x: float) -> np.ndarray:
        rz = np.diag([np.exp(-0.5j * x), np.exp(0.5j * x)])
        return rz @ h @ rz @ h @ np.array([1.0, 0.0])

    K = QuantumKernelClassifier(entangling=False).kernel_matrix(X)
    expect = np.ones_like(K)
    for q in range(3):
        s = np.array([one(x) for x in X[:, q]])
        expect *= np.abs(s.conj() @ s.T) ** 2
    assert np.allclose(K, expect, atol=1e-10)


def test_kernel_classifier_reproducible_and_separates() -> None:
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1, 0.2, (10, 2)), rng.normal(1, 0.2, (10, 2))])
    y = np.repeat(["a", "b"], 10)
    a = QuantumKernelClassifier(bandwidth=0.5, C=10, random_state=1).fit(X, y)
    b = QuantumKernelClassifier(bandwidth=0.5, C=10, random_state=1).fit(X, y)
    assert np.array_equal(a.decision_function(X), b.decision_function(X))
    assert a.score(X, y) == 1.0
    assert set(a.predict(X)) == {"a", "b"}


def test_bad_parameters_are_input_errors() -> None:
    from qnetai.errors import InputError

    with pytest.raises(InputError, match="kernel must be one of"):
        QuantumKernelClassifier(kernel="rbf").fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="binary"):
        QuantumKernelClassifier().fit([[0.0], [1.0], [2.0]], [0, 1, 2])
