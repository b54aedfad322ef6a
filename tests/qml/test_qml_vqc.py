"""Variational classifier: exact gradients, reproducibility, ablation without CNOTs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pennylane")
pytest.importorskip("torch")

import torch

from qnetai.qml.circuits import circuit_operations, count_multi_qubit, reuploading_layers
from qnetai.qml.classifiers import VariationalClassifier


def _toy(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
def test_gradient_matches_central_finite_differences(device: str) -> None:
    """Backprop (default.qubit) and adjoint (lightning.qubit) against float64 differences."""
    n = 2
    circuit = VariationalClassifier(n_layers=2, device=device)._qnode(n)
    reference = VariationalClassifier(n_layers=2)._qnode(n)  # default.qubit, float64
    w0 = np.random.default_rng(1).uniform(0, 6, (2, n, 3))
    s = torch.ones((2, n), dtype=torch.float64)
    x = torch.tensor([[0.3, -0.7]], dtype=torch.float64)

    def f(w: np.ndarray) -> float:
        with torch.no_grad():
            return float(torch.stack(list(reference(torch.tensor(w), s, x))).sum())

    w = torch.tensor(w0, requires_grad=True)
    torch.stack(list(circuit(w, s, x))).sum().backward()
    grad = w.grad.numpy()
    h = 1e-5
    fd = np.zeros_like(w0)
    for idx in np.ndindex(w0.shape):
        e = np.zeros_like(w0)
        e[idx] = h
        fd[idx] = (f(w0 + e) - f(w0 - e)) / (2 * h)
    # lightning's results reach torch as float32 (PennyLane 0.45), hence the wider tolerance
    assert np.allclose(grad, fd, atol=1e-9 if device == "default.qubit" else 1e-6)


def test_same_random_state_same_model_and_learns() -> None:
    X, y = _toy()
    a = VariationalClassifier(max_steps=25, batch_size=8, random_state=4).fit(X, y)
    b = VariationalClassifier(max_steps=25, batch_size=8, random_state=4).fit(X, y)
    c = VariationalClassifier(max_steps=25, batch_size=8, random_state=5).fit(X, y)
    assert np.array_equal(a.decision_function(X), b.decision_function(X))
    assert not np.array_equal(a.decision_function(X), c.decision_function(X))
    assert a.loss_curve_[-1] < a.loss_curve_[0]
    assert a.score(X, y) >= 0.8
    p = a.predict_proba(X)
    assert np.allclose(p.sum(axis=1), 1.0) and np.array_equal(p.argmax(1), a.predict(X))


def test_ablation_has_no_entangling_gates() -> None:
    w, s, x = np.zeros((2, 3, 3)), np.ones((2, 3)), np.zeros(3)
    full = circuit_operations(reuploading_layers, x, w, s, n_qubits=3)
    none = circuit_operations(reuploading_layers, x, w, s, n_qubits=3, entangling=False)
    assert count_multi_qubit(full) == 6 and count_multi_qubit(none) == 0
    assert len(full) - len(none) == 6


def test_ablation_output_is_additive_over_features() -> None:
    """Without CNOTs <Z_i> depends on x_i only, so the logit is a sum of one-feature terms."""
    X, y = _toy(12)
    clf = VariationalClassifier(entangling=False, max_steps=3, random_state=0).fit(X, y)
    g = clf.decision_function
    a, b = np.array([[0.2, -0.4]]), np.array([[0.9, 0.5]])
    mixed = g(np.array([[0.2, 0.5]])) + g(np.array([[0.9, -0.4]]))
    assert np.allclose(g(a) + g(b), mixed, atol=1e-12)


def test_pickle_and_clone_round_trip() -> None:
    import pickle

    from sklearn.base import clone

    X, y = _toy(12)
    clf = VariationalClassifier(max_steps=2, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.decision_function(X), clf.decision_function(X))
    assert clone(clf).get_params() == clf.get_params()


def test_sklearn_estimator_checks() -> None:
    from sklearn.utils.estimator_checks import (
        check_estimators_unfitted,
        check_get_params_invariance,
        check_n_features_in,
        check_no_attributes_set_in_init,
        check_set_params,
    )

    from qnetai.qml.classifiers import QuantumKernelClassifier

    for est in (VariationalClassifier(max_steps=1), QuantumKernelClassifier()):
        name = type(est).__name__
        check_no_attributes_set_in_init(name, est)
        check_get_params_invariance(name, est)
        check_set_params(name, est)
        check_estimators_unfitted(name, est)
        check_n_features_in(name, est)
