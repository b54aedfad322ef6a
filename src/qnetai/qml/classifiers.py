"""Quantum classifiers as scikit-learn estimators: a variational classifier and kernel SVMs.

* :class:`VariationalClassifier`: data re-uploading circuit, logit ``a * mean_i <Z_i> + b``,
  trained with Adam on the logistic loss (torch, through PennyLane's torch interface);
* :class:`QuantumKernelClassifier`: an IQP feature map; the fidelity kernel
  ``|<phi(x)|phi(x')>|^2`` or the projected kernel of Huang et al. 2021 (an RBF kernel on the
  one-qubit reduced states), into scikit-learn's ``SVC(kernel="precomputed")``.

Both take one qubit per feature, ``entangling=False`` for the no-entanglement ablation and
``random_state`` for every random draw. Binary classification only.

Example:
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.1], [0.1, 0.0], [2.0, 2.1], [2.1, 2.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> QuantumKernelClassifier(random_state=0).fit(X, y).predict(X).tolist()
    [0, 0, 1, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from qnetai.errors import InputError
from qnetai.qml._backend import check_qubits, device, pennylane, torch
from qnetai.qml.circuits import iqp_embedding, reuploading_layers

__all__ = ["KERNELS", "QuantumKernelClassifier", "VariationalClassifier"]

#: Kernels of :class:`QuantumKernelClassifier`.
KERNELS = ("fidelity", "projected")
#: Largest state-vector store (bytes) a kernel model keeps for its training set.
MAX_STATE_BYTES = 2 * 1024**3


def _binary_targets(est: Any, y: ArrayLike) -> NDArray[np.float64]:
    y_arr = np.asarray(y)
    check_classification_targets(y_arr)
    est.classes_ = np.unique(y_arr)
    if len(est.classes_) != 2:
        raise ValueError(
            f"{type(est).__name__} is a binary classifier; y has {len(est.classes_)} classes"
        )
    return (y_arr == est.classes_[1]).astype(np.float64)


class VariationalClassifier(ClassifierMixin, BaseEstimator):
    """Data re-uploading variational quantum classifier (one qubit per feature).

    Parameters: ``n_layers`` re-uploading layers; ``learning_rate``, ``max_steps`` and
    ``batch_size`` of Adam; ``entangling`` (False: no CNOTs, the ablation); ``device``
    (``default.qubit`` with backprop, or ``lightning.qubit`` with adjoint gradients).

    Example:
        >>> import numpy as np
        >>> X = np.array([[-1.0, 0.0], [-0.8, 0.2], [1.0, 0.0], [0.8, -0.2]])
        >>> clf = VariationalClassifier(max_steps=30, random_state=0).fit(X, [0, 0, 1, 1])
        >>> clf.predict(X).tolist(), clf.n_params_
        ([0, 0, 1, 1], 18)
    """

    def __init__(
        self,
        n_layers: int = 2,
        learning_rate: float = 0.1,
        max_steps: int = 60,
        batch_size: int = 32,
        entangling: bool = True,
        device: str = "default.qubit",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.learning_rate = learning_rate
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.entangling = entangling
        self.device = device
        self.random_state = random_state

    def _qnode(self, n_qubits: int) -> Any:
        qml = pennylane()
        dev, diff = device(self.device, n_qubits)
        entangling = bool(self.entangling)

        def circuit(weights: Any, scales: Any, x: Any) -> Any:
            reuploading_layers(x, weights, scales, n_qubits=n_qubits, entangling=entangling)
            return [qml.expval(qml.PauliZ(i)) for i in range(n_qubits)]

        return qml.QNode(circuit, dev, interface="torch", diff_method=diff)

    def _logits(self, params: dict[str, Any], X: Any) -> Any:
        th = torch()
        out = self._circuit_(params["weights"], params["scales"], X)
        z = th.stack(list(out), dim=-1) if isinstance(out, (list, tuple)) else out
        z = z.reshape(X.shape[0], -1)
        return params["a"] * z.mean(dim=-1) + params["b"]

    def fit(self, X: ArrayLike, y: ArrayLike) -> VariationalClassifier:
        """Train on ``X`` (one column per qubit) and binary labels ``y``; returns ``self``."""
        X_arr = validate_data(self, X, dtype=np.float64)
        target = _binary_targets(self, y)
        if self.n_layers < 1 or self.max_steps < 0 or self.batch_size < 1:
            raise InputError("n_layers and batch_size must be >= 1 and max_steps >= 0")
        if not self.learning_rate > 0:
            raise InputError(f"learning_rate must be > 0 (got {self.learning_rate})")
        n = check_qubits(X_arr.shape[1], name="number of features (qubits)")
        th = torch()
        rng = np.random.default_rng(self.random_state)
        self._circuit_ = self._qnode(n)
        params = {
            "weights": th.tensor(rng.uniform(0, 2 * np.pi, (self.n_layers, n, 3))),
            "scales": th.ones((self.n_layers, n), dtype=th.float64),
            "a": th.tensor(3.0, dtype=th.float64),
            "b": th.tensor(0.0, dtype=th.float64),
        }
        for p in params.values():
            p.requires_grad_(True)
        opt = th.optim.Adam(list(params.values()), lr=self.learning_rate)
        Xt, yt = th.tensor(X_arr), th.tensor(target)
        loss_fn = th.nn.BCEWithLogitsLoss()
        self.loss_curve_: list[float] = []
        for _ in range(self.max_steps):
            idx = rng.choice(len(X_arr), size=min(self.batch_size, len(X_arr)), replace=False)
            ib = th.as_tensor(idx)
            opt.zero_grad()
            loss = loss_fn(self._logits(params, Xt[ib]), yt[ib])
            loss.backward()
            opt.step()
            self.loss_curve_.append(float(loss.detach()))
        self.params_ = {k: v.detach().clone() for k, v in params.items()}
        self.n_qubits_ = n
        self.n_params_ = int(sum(v.numel() for v in params.values()))
        return self

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """The logit of class ``classes_[1]``."""
        check_is_fitted(self, "params_")
        X_arr = validate_data(self, X, dtype=np.float64, reset=False)
        th = torch()
        with th.no_grad():
            return np.asarray(self._logits(self.params_, th.tensor(X_arr)).numpy(), dtype=float)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities (sigmoid of the logit)."""
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.stack([1.0 - p1, p1], axis=1)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted labels."""
        score = self.decision_function(X)  # first: raises NotFittedError before fit
        return np.asarray(self.classes_[(score > 0).astype(int)])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_circuit_", None)  # a QNode holds a device; rebuilt on demand
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "n_qubits_" in state:
            self._circuit_ = self._qnode(state["n_qubits_"])


class QuantumKernelClassifier(ClassifierMixin, BaseEstimator):
    """SVC on a quantum kernel of the IQP feature map (one qubit per feature).

    ``kernel``: ``fidelity`` (``|<phi(x)|phi(x')>|^2``) or ``projected``
    (``exp(-gamma ||r(x) - r(x')||^2)``, ``r`` the Bloch vectors of every qubit);
    ``repeats`` and ``bandwidth`` shape the feature map; ``C`` is the SVC's.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(5, 3))
        >>> K = QuantumKernelClassifier().kernel_matrix(X)
        >>> bool(np.allclose(np.diag(K), 1.0)), bool(np.linalg.eigvalsh(K).min() > -1e-9)
        (True, True)
    """

    def __init__(
        self,
        kernel: str = "fidelity",
        entangling: bool = True,
        repeats: int = 2,
        bandwidth: float = 1.0,
        gamma: float = 1.0,
        C: float = 1.0,
        device: str = "default.qubit",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.kernel = kernel
        self.entangling = entangling
        self.repeats = repeats
        self.bandwidth = bandwidth
        self.gamma = gamma
        self.C = C
        self.device = device
        self.random_state = random_state

    def _check(self) -> None:
        if self.kernel not in KERNELS:
            raise InputError(f"kernel must be one of {KERNELS} (got {self.kernel!r})")
        if self.repeats < 1 or not self.bandwidth > 0 or not self.gamma > 0 or not self.C > 0:
            raise InputError("repeats must be >= 1 and bandwidth, gamma, C > 0")

    def _embed(self, X: NDArray[np.float64]) -> NDArray[Any]:
        """State vectors (fidelity) or Bloch vectors (projected) of every row of ``X``."""
        qml = pennylane()
        n = check_qubits(X.shape[1], name="number of features (qubits)")
        dev, _ = device(self.device, n)
        kwargs: dict[str, Any] = {
            "n_qubits": n,
            "entangling": bool(self.entangling),
            "repeats": int(self.repeats),
            "bandwidth": float(self.bandwidth),
        }
        if self.kernel == "fidelity":

            def states(x: Any) -> Any:
                iqp_embedding(x, **kwargs)
                return qml.state()

            fn = qml.QNode(states, dev, interface="numpy", diff_method=None)
            return np.asarray(fn(X), dtype=np.complex128).reshape(len(X), 2**n)

        paulis = (qml.PauliX, qml.PauliY, qml.PauliZ)

        def bloch(x: Any) -> Any:
            iqp_embedding(x, **kwargs)
            return [qml.expval(p(i)) for i in range(n) for p in paulis]

        fn = qml.QNode(bloch, dev, interface="numpy", diff_method=None)
        out = np.asarray(fn(X), dtype=np.float64)
        return out.reshape(3 * n, len(X)).T

    def _gram(self, A: NDArray[Any], B: NDArray[Any]) -> NDArray[np.float64]:
        if self.kernel == "fidelity":
            return np.asarray(np.abs(A.conj() @ B.T) ** 2, dtype=np.float64)
        d2 = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
        return np.asarray(np.exp(-self.gamma * np.maximum(d2, 0.0)), dtype=np.float64)

    def kernel_matrix(self, X: ArrayLike, Y: ArrayLike | None = None) -> NDArray[np.float64]:
        """The kernel between the rows of ``X`` and ``Y`` (``X`` itself if ``None``)."""
        self._check()
        A = self._embed(np.asarray(X, dtype=np.float64))
        B = A if Y is None else self._embed(np.asarray(Y, dtype=np.float64))
        return self._gram(A, B)

    def fit(self, X: ArrayLike, y: ArrayLike) -> QuantumKernelClassifier:
        """Embed the training set and fit the SVC on its kernel; returns ``self``."""
        from sklearn.svm import SVC

        self._check()
        X_arr = validate_data(self, X, dtype=np.float64)
        target = _binary_targets(self, y)
        n = check_qubits(X_arr.shape[1], name="number of features (qubits)")
        width = 2**n * 16 if self.kernel == "fidelity" else 3 * n * 8
        if len(X_arr) * width > MAX_STATE_BYTES:
            raise InputError(
                f"{len(X_arr)} samples x {n} qubits need {len(X_arr) * width / 1e9:.1f} GB "
                f"of states (limit {MAX_STATE_BYTES / 1e9:.1f} GB)"
            )
        seed = np.random.default_rng(self.random_state).integers(2**31)
        self.train_embedding_ = self._embed(X_arr)
        self.svc_ = SVC(kernel="precomputed", C=self.C, random_state=int(seed))
        self.svc_.fit(self._gram(self.train_embedding_, self.train_embedding_), target)
        self.n_qubits_ = n
        self.n_params_ = 0
        return self

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """The SVC's signed distance (positive: ``classes_[1]``)."""
        check_is_fitted(self, "svc_")
        X_arr = validate_data(self, X, dtype=np.float64, reset=False)
        K = self._gram(self._embed(X_arr), self.train_embedding_)
        return np.asarray(self.svc_.decision_function(K), dtype=np.float64)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted labels."""
        score = self.decision_function(X)  # first: raises NotFittedError before fit
        return np.asarray(self.classes_[(score > 0).astype(int)])
