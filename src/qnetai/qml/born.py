"""A quantum circuit Born machine (Liu and Wang 2018) and a classical generative counterpart.

:class:`BornMachine` learns a distribution over bit strings: a layered RY/RZ + CZ circuit
whose measurement probabilities ``|<z|psi(theta)>|^2`` are the model, trained by Adam on the
squared maximum mean discrepancy (MMD, a mixture of Gaussian kernels on the bits) to the
empirical distribution of the training samples. ``entangling=False`` (no CZ) can only make
product distributions: the ablation. :func:`rbm_probabilities` gives the exact distribution
of a scikit-learn ``BernoulliRBM`` (enumerating all visible strings) for comparison.

Bit string ``b`` of ``n`` bits has index ``sum_i b_i 2**(n-1-i)`` (wire 0 most significant,
PennyLane's convention).

Example:
    >>> import numpy as np
    >>> X = bars_and_stripes(2, 2)
    >>> len(X), total_variation(empirical_distribution(X), np.full(16, 1 / 16))
    (6, 0.625)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from qnetai.errors import InputError
from qnetai.qml._backend import check_qubits, device, pennylane, torch
from qnetai.qml.circuits import product_ansatz

__all__ = [
    "BornMachine",
    "bars_and_stripes",
    "bits_to_index",
    "boltzmann_probabilities",
    "empirical_distribution",
    "kl_divergence",
    "rbm_probabilities",
    "total_variation",
]


def bars_and_stripes(rows: int, cols: int) -> NDArray[np.int64]:
    """Every distinct bars-and-stripes image of ``rows x cols`` pixels, flattened row-major.

    There are ``2**rows + 2**cols - 2`` of them (empty and full images counted once).
    """
    if rows < 1 or cols < 1 or rows * cols > 20:
        raise InputError(f"rows x cols must be 1..20 pixels (got {rows} x {cols})")
    imgs = set()
    for m in range(2**rows):
        on = [(m >> r) & 1 for r in range(rows)]
        imgs.add(tuple(on[r] for r in range(rows) for _ in range(cols)))
    for m in range(2**cols):
        on = [(m >> c) & 1 for c in range(cols)]
        imgs.add(tuple(on[c] for _ in range(rows) for c in range(cols)))
    return np.array(sorted(imgs), dtype=np.int64)


def bits_to_index(X: ArrayLike) -> NDArray[np.int64]:
    """Index of each row of bits (wire 0 most significant)."""
    b = np.asarray(X, dtype=np.int64)
    n = b.shape[1]
    return np.asarray(b @ (1 << np.arange(n - 1, -1, -1)), dtype=np.int64)


def empirical_distribution(X: ArrayLike) -> NDArray[np.float64]:
    """The distribution of the rows of ``X`` over all ``2**n`` bit strings."""
    b = np.asarray(X, dtype=np.int64)
    counts = np.bincount(bits_to_index(b), minlength=2 ** b.shape[1])
    return np.asarray(counts / counts.sum(), dtype=np.float64)


def total_variation(p: ArrayLike, q: ArrayLike) -> float:
    """``0.5 * sum |p - q|``."""
    return float(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum())


def kl_divergence(p: ArrayLike, q: ArrayLike, *, eps: float = 1e-12) -> float:
    """``KL(p || q)`` in nats (``q`` floored at ``eps``)."""
    pa, qa = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    m = pa > 0
    return float((pa[m] * np.log(pa[m] / np.maximum(qa[m], eps))).sum())


def _all_bits(n: int) -> NDArray[np.float64]:
    idx = np.arange(2**n)
    return np.asarray((idx[:, None] >> np.arange(n - 1, -1, -1)) & 1, dtype=np.float64)


def rbm_probabilities(rbm: Any) -> NDArray[np.float64]:
    """Exact visible distribution of a fitted ``sklearn.neural_network.BernoulliRBM``.

    ``p(v) ~ exp(v.b + sum_j log(1 + exp(c_j + W_j.v)))``, normalised over all strings.
    """
    W = np.asarray(rbm.components_)
    v = _all_bits(W.shape[1])
    logp = v @ rbm.intercept_visible_ + np.logaddexp(0.0, v @ W.T + rbm.intercept_hidden_).sum(1)
    logp -= logp.max()
    p = np.exp(logp)
    return np.asarray(p / p.sum(), dtype=np.float64)


def boltzmann_probabilities(
    X: ArrayLike, *, steps: int = 200, learning_rate: float = 0.1
) -> tuple[NDArray[np.float64], int]:
    """A fully visible Boltzmann machine (Ising model) fitted by exact maximum likelihood.

    ``p(v) ~ exp(v.b + sum_(i<j) J_ij v_i v_j)`` over all ``2**n`` strings (enumerated), Adam
    on the exact negative log-likelihood from zero parameters (deterministic). Returns the
    model distribution and its parameter count ``n + n(n-1)/2``.
    """
    th = torch()
    b = np.asarray(X, dtype=np.int64)
    n = b.shape[1]
    target = th.tensor(empirical_distribution(b))
    v = th.tensor(2 * _all_bits(n) - 1)  # +-1 spins
    iu = np.triu_indices(n, 1)
    pairs = v[:, iu[0]] * v[:, iu[1]]
    h = th.zeros(n, dtype=th.float64, requires_grad=True)
    J = th.zeros(len(iu[0]), dtype=th.float64, requires_grad=True)
    opt = th.optim.Adam([h, J], lr=learning_rate)
    for _ in range(steps):
        opt.zero_grad()
        logp = th.log_softmax(v @ h + pairs @ J, dim=0)
        loss = -(target * logp).sum()
        loss.backward()
        opt.step()
    with th.no_grad():
        p = th.softmax(v @ h + pairs @ J, dim=0).numpy()
    return np.asarray(p, dtype=np.float64), n + len(iu[0])


class BornMachine(BaseEstimator):
    """Quantum circuit Born machine on ``n`` qubits for ``n``-bit samples.

    Example:
        >>> X = bars_and_stripes(2, 2)
        >>> qcbm = BornMachine(n_layers=2, max_steps=5, random_state=0).fit(X)
        >>> qcbm.probabilities().shape, qcbm.n_params_
        ((16,), 16)
    """

    def __init__(
        self,
        n_layers: int = 3,
        learning_rate: float = 0.1,
        max_steps: int = 150,
        bandwidths: tuple[float, ...] = (0.25, 1.0, 4.0),
        entangling: bool = True,
        device: str = "default.qubit",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.learning_rate = learning_rate
        self.max_steps = max_steps
        self.bandwidths = bandwidths
        self.entangling = entangling
        self.device = device
        self.random_state = random_state

    def _qnode(self, n: int) -> Any:
        qml = pennylane()
        dev, diff = device(self.device, n)
        entangling = bool(self.entangling)

        def circuit(weights: Any) -> Any:
            product_ansatz(weights, n_qubits=n, entangling=entangling)
            return qml.probs(wires=range(n))

        return qml.QNode(circuit, dev, interface="torch", diff_method=diff)

    def fit(self, X: ArrayLike, y: Any = None) -> BornMachine:
        """Fit to bit strings ``X`` (rows of 0/1); returns ``self``."""
        b = np.asarray(X)
        if b.ndim != 2 or not np.isin(b, (0, 1)).all():
            raise InputError("X must be a 2-D array of bits (0 or 1)")
        if self.n_layers < 1 or self.max_steps < 0 or not self.learning_rate > 0:
            raise InputError("n_layers >= 1, max_steps >= 0 and learning_rate > 0 are needed")
        n = check_qubits(b.shape[1], name="number of bits (qubits)")
        th = torch()
        rng = np.random.default_rng(self.random_state)
        target = th.tensor(empirical_distribution(b))
        bits = _all_bits(n)
        d2 = ((bits[:, None, :] - bits[None, :, :]) ** 2).sum(-1)
        K = th.tensor(np.mean([np.exp(-d2 / (2 * s)) for s in self.bandwidths], axis=0))
        circuit = self._qnode(n)
        w = th.tensor(rng.uniform(-np.pi / 4, np.pi / 4, (self.n_layers, n, 2)))
        w.requires_grad_(True)
        opt = th.optim.Adam([w], lr=self.learning_rate)
        self.loss_curve_: list[float] = []
        for _ in range(self.max_steps):
            opt.zero_grad()
            diff = circuit(w) - target
            loss = diff @ K @ diff
            loss.backward()
            opt.step()
            self.loss_curve_.append(float(loss.detach()))
        self.weights_ = w.detach().clone()
        with th.no_grad():
            p = np.asarray(circuit(self.weights_).numpy(), dtype=np.float64)
        self.probabilities_ = p / p.sum()
        self.n_qubits_ = n
        self.n_params_ = int(w.numel())
        return self

    def probabilities(self) -> NDArray[np.float64]:
        """The model distribution over all ``2**n`` strings."""
        if not hasattr(self, "probabilities_"):
            raise InputError("BornMachine is not fitted; call fit first")
        return np.asarray(self.probabilities_)

    def sample(self, n_samples: int, *, rng: np.random.Generator) -> NDArray[np.int64]:
        """``n_samples`` bit strings drawn from the model."""
        p = self.probabilities()
        idx = rng.choice(len(p), size=n_samples, p=p)
        return np.asarray(_all_bits(self.n_qubits_)[idx], dtype=np.int64)

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean log-likelihood of the rows of ``X`` (probabilities floored at 1e-12)."""
        p = self.probabilities()
        return float(np.log(np.maximum(p[bits_to_index(X)], 1e-12)).mean())
