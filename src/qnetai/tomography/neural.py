"""Neural state estimator: measurement frequencies -> a valid density matrix.

An MLP maps the readout-corrected Pauli averages of the counts (a fixed linear map of the
frequencies: the linear-inversion coefficients) and ``1/sqrt(shots)`` to the ``d**2`` real
parameters of a lower-triangular ``T`` (real diagonal, complex below); the estimate is
``T T^dagger / tr(T T^dagger)``, positive and of unit trace by construction (the Cholesky
parametrisation of Carrasquilla et al. 2019 and Torlai et al. 2018, here as a direct regressor).
By default (``residual=True``) the output is a correction added to the Cholesky factor of the
projected linear-inversion state, scaled by ``sqrt(100 / shots)``, so that at many shots the
estimate tends to linear inversion instead of being limited by the network's capacity.
It is trained (torch, imported lazily) on simulated counts of the states a network delivers
(:func:`qnetai.tomography.states.sample_network_pairs`) at shots drawn log-uniformly, with the
squared Frobenius distance as the loss; inference runs in numpy, batched.

The weights are stored as inert files: ``STEM.npz`` (float arrays, loaded with
``allow_pickle=False``) and ``STEM.json`` (format tag, architecture, training figures).

Example:
    >>> est = train_neural_estimator(n_train=512, steps=20, rng=np.random.default_rng(0))
    >>> from qnetai.tomography.states import bell_state
    >>> from qnetai.tomography.measure import measure_state
    >>> rho = est.estimate(measure_state(bell_state(), shots=100, rng=np.random.default_rng(1)))
    >>> bool(np.isclose(np.trace(rho).real, 1.0))
    True
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai._atomic_files import write_stream_atomic
from qnetai._optional import require
from qnetai.errors import InputError
from qnetai.tomography._pauli import (
    _parity_matrix,
    _pauli_of_setting_mask,
    check_qubits,
    setting_probabilities,
)
from qnetai.tomography.measure import TomographyData
from qnetai.tomography.states import sample_network_pairs

#: Format tag of ``STEM.json``.
FORMAT = "qnetai-tomography-model/1"
#: Largest accepted model files (bytes).
MAX_JSON_BYTES = 1_000_000
MAX_NPZ_BYTES = 32_000_000
_MAX_WIDTH = 2048


def _pauli_map(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``M`` ``(3**n * 2**n, 4**n)``: (setting, mask) -> Pauli; and Pauli weights ``(4**n,)``."""
    index, weight = _pauli_of_setting_mask(n)
    m = np.zeros((index.size, 4**n))
    m[np.arange(index.size), index.ravel()] = 1.0
    w = np.zeros(4**n)
    w[index.ravel()] = weight.ravel()
    return m, w


def features(counts: NDArray[np.int64], n: int, readout_error: float) -> NDArray[np.float64]:
    """Network inputs ``(N, 4**n)`` of counts ``(N, 3**n, 2**n)``.

    The ``4**n - 1`` readout-corrected Pauli averages (identity dropped) and ``1/sqrt(shots)``
    (mean shots per setting).
    """
    c = np.asarray(counts, dtype=np.float64)
    m, w = _pauli_map(n)
    parities = (c @ _parity_matrix(n)).reshape(c.shape[0], -1) @ m
    shots = np.broadcast_to(c.sum(axis=2, keepdims=True), c.shape).reshape(c.shape[0], -1) @ m
    shrink = (1.0 - 2.0 * readout_error) ** w
    coeffs = parities / np.maximum(shots, 1.0) / shrink
    mean_shots = c.sum(axis=(1, 2)) / c.shape[1]
    return np.concatenate([coeffs[:, 1:], 1.0 / np.sqrt(mean_shots)[:, None]], axis=1)


def linear_cholesky(
    counts: NDArray[np.int64], n: int, readout_error: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Packed Cholesky factors ``(N, d*d)`` of projected linear inversion, and residual scales.

    The scale is ``sqrt(100 / shots)`` ``(N,)`` (1 at 100 shots per setting). The residual
    network adds ``scale * output`` to these factors, so its correction fades as the data
    alone become accurate.
    """
    from qnetai.tomography._pauli import pauli_coefficients_from_counts, pauli_to_density
    from qnetai.tomography.estimators import project_to_state

    c = np.asarray(counts)
    d = 2**n
    rows, cols = np.tril_indices(d, -1)
    out = np.empty((c.shape[0], d * d))
    for i in range(c.shape[0]):
        coeffs, _ = pauli_coefficients_from_counts(c[i], n, readout_error)
        rho = project_to_state(pauli_to_density(coeffs, n))
        low = np.linalg.cholesky((rho + 1e-3 * np.eye(d)) / (1.0 + 1e-3 * d))
        out[i, :d] = np.diagonal(low).real
        out[i, d : d + rows.size] = low[rows, cols].real
        out[i, d + rows.size :] = low[rows, cols].imag
    mean_shots = c.sum(axis=(1, 2)) / c.shape[1]
    return out, np.sqrt(100.0 / mean_shots)


def cholesky_to_density(out: NDArray[np.float64], d: int) -> NDArray[np.complex128]:
    """``(N, d*d)`` network outputs -> ``(N, d, d)`` density matrices ``T T^dagger / tr``."""
    t = _lower(out, d)
    rho = t @ np.conj(np.swapaxes(t, -1, -2))
    tr = np.trace(rho, axis1=-2, axis2=-1).real
    return rho / np.maximum(tr, 1e-300)[:, None, None]


def _lower(out: NDArray[np.float64], d: int) -> NDArray[np.complex128]:
    rows, cols = np.tril_indices(d, -1)
    k = rows.size
    t = np.zeros((out.shape[0], d, d), dtype=np.complex128)
    t[:, np.arange(d), np.arange(d)] = out[:, :d]
    t[:, rows, cols] = out[:, d : d + k] + 1j * out[:, d + k : d + 2 * k]
    return t


@dataclass
class NeuralEstimator:
    """A trained MLP (numpy weights) for ``n_qubits`` (2) at a fixed ``readout_error``."""

    n_qubits: int
    readout_error: float
    weights: list[NDArray[np.float64]]
    biases: list[NDArray[np.float64]]
    info: dict[str, Any] = field(default_factory=dict)
    residual: bool = False

    def estimate_batch(self, counts: NDArray[np.int64]) -> NDArray[np.complex128]:
        """Density matrices ``(N, d, d)`` from counts ``(N, 3**n, 2**n)``."""
        x = features(counts, self.n_qubits, self.readout_error)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ w + b
            if i < len(self.weights) - 1:
                x = np.maximum(x, 0.0)
        if self.residual:
            base, scale = linear_cholesky(counts, self.n_qubits, self.readout_error)
            x = base + scale[:, None] * x
        return cholesky_to_density(x, 2**self.n_qubits)

    def estimate(self, data: TomographyData) -> NDArray[np.complex128]:
        """One density matrix from :class:`TomographyData` (same qubits and readout error)."""
        if data.n_qubits != self.n_qubits:
            raise InputError(
                f"the neural estimator is for {self.n_qubits} qubits (data: {data.n_qubits})"
            )
        if abs(data.readout_error - self.readout_error) > 1e-12:
            raise InputError(
                f"the neural estimator was trained at readout_error={self.readout_error} "
                f"(data: {data.readout_error})"
            )
        return self.estimate_batch(np.asarray(data.counts)[None])[0]

    def save(self, stem: str | Path) -> tuple[Path, Path]:
        """Write ``STEM.npz`` and ``STEM.json`` atomically; returns both paths."""
        stem = Path(stem)
        arrays = {f"w{i}": w for i, w in enumerate(self.weights)}
        arrays.update({f"b{i}": b for i, b in enumerate(self.biases)})
        meta = {
            "format": FORMAT,
            "architecture": {
                "type": "mlp-cholesky",
                "n_qubits": self.n_qubits,
                "readout_error": self.readout_error,
                "widths": [int(w.shape[0]) for w in self.weights]
                + [int(self.weights[-1].shape[1])],
                "activation": "relu",
                "residual": self.residual,
            },
            "info": self.info,
        }
        npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
        _atomic_write(npz, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]  # numpy stub: **kwds typed as allow_pickle
        _atomic_write(js, lambda f: f.write(json.dumps(meta, indent=2).encode()))
        return npz, js

    @classmethod
    def load(cls, stem: str | os.PathLike[str]) -> NeuralEstimator:
        """Read ``STEM.npz`` + ``STEM.json`` written by :meth:`save`; every field is checked."""
        stem = Path(os.fspath(stem))
        if stem.suffix in (".npz", ".json"):
            stem = stem.with_suffix("")
        npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
        for p, limit in ((npz, MAX_NPZ_BYTES), (js, MAX_JSON_BYTES)):
            if not p.is_file():
                raise InputError(f"{p}: no such model file")
            if p.stat().st_size > limit:
                raise InputError(f"{p}: larger than {limit} bytes")
        try:
            meta = json.loads(js.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{js}: not JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InputError(f"{js}: format must be {FORMAT!r}")
        arch = meta.get("architecture")
        if not isinstance(arch, dict) or arch.get("type") != "mlp-cholesky":
            raise InputError(f"{js}: architecture.type must be 'mlp-cholesky'")
        try:
            n = check_qubits(arch.get("n_qubits"))  # type: ignore[arg-type]
        except InputError as exc:
            raise InputError(f"{js}: architecture.{exc}") from None
        e = arch.get("readout_error")
        if not isinstance(e, float | int) or not 0.0 <= e < 0.5:
            raise InputError(f"{js}: architecture.readout_error must be in [0, 0.5)")
        widths = arch.get("widths")
        if (
            not isinstance(widths, list)
            or len(widths) < 2
            or not all(isinstance(w, int) and 1 <= w <= _MAX_WIDTH for w in widths)
            or widths[0] != 4**n
            or widths[-1] != 4**n
        ):
            raise InputError(f"{js}: architecture.widths must be a list from {4**n} to {4**n}")
        try:
            with np.load(npz, allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
        except (ValueError, OSError) as exc:
            raise InputError(f"{npz}: not a numpy .npz of arrays ({exc})") from None
        weights, biases = [], []
        for i in range(len(widths) - 1):
            w, b = arrays.get(f"w{i}"), arrays.get(f"b{i}")
            if w is None or b is None:
                raise InputError(f"{npz}: missing w{i} or b{i}")
            if w.shape != (widths[i], widths[i + 1]) or b.shape != (widths[i + 1],):
                raise InputError(f"{npz}: w{i}/b{i} shapes do not match architecture.widths")
            if not (np.issubdtype(w.dtype, np.floating) and np.isfinite(w).all()):
                raise InputError(f"{npz}: w{i} must be finite floats")
            if not (np.issubdtype(b.dtype, np.floating) and np.isfinite(b).all()):
                raise InputError(f"{npz}: b{i} must be finite floats")
            weights.append(w.astype(np.float64))
            biases.append(b.astype(np.float64))
        residual = arch.get("residual", False)
        if not isinstance(residual, bool):
            raise InputError(f"{js}: architecture.residual must be true or false")
        info = meta.get("info")
        return cls(n, float(e), weights, biases, info if isinstance(info, dict) else {}, residual)


def _atomic_write(path: Path, write: Callable[[Any], Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_stream_atomic(path, write)


def simulate_training_counts(
    count: int,
    rng: np.random.Generator,
    *,
    readout_error: float = 0.0,
    shots_range: tuple[int, int] = (50, 20000),
) -> tuple[NDArray[np.int64], NDArray[np.complex128]]:
    """Counts ``(count, 9, 4)`` and true states ``(count, 4, 4)`` of random delivered pairs.

    Shots per setting are log-uniform in ``shots_range`` (the same for the 9 settings of one
    sample).
    """
    states = sample_network_pairs(count, rng)
    probs = np.stack([setting_probabilities(s, 2, readout_error) for s in states])
    probs /= probs.sum(axis=-1, keepdims=True)
    lo, hi = shots_range
    shots = np.exp(rng.uniform(math.log(lo), math.log(hi), size=count)).astype(np.int64)
    counts = rng.multinomial(shots[:, None], probs).astype(np.int64)
    return counts, states


def train_neural_estimator(
    *,
    rng: np.random.Generator,
    readout_error: float = 0.0,
    n_train: int = 60_000,
    steps: int = 4000,
    hidden: tuple[int, ...] = (256, 256),
    batch: int = 256,
    learning_rate: float = 1e-3,
    shots_range: tuple[int, int] = (50, 20000),
    residual: bool = True,
) -> NeuralEstimator:
    """Train the two-qubit estimator on ``n_train`` simulated delivered pairs (CPU torch).

    ``info`` records the CPU seconds, the final training loss and the settings.
    """
    torch = require("torch", extra="ai")
    if n_train < 1 or steps < 1 or batch < 1 or not hidden:
        raise InputError("n_train, steps and batch must be >= 1 and hidden non-empty")
    cpu0 = time.process_time()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is faster and kinder to a shared host
    try:
        return _train(
            torch,
            rng,
            readout_error,
            n_train,
            steps,
            hidden,
            batch,
            learning_rate,
            shots_range,
            cpu0,
            residual,
        )
    finally:
        torch.set_num_threads(threads)


def _train(
    torch: Any,
    rng: np.random.Generator,
    readout_error: float,
    n_train: int,
    steps: int,
    hidden: tuple[int, ...],
    batch: int,
    learning_rate: float,
    shots_range: tuple[int, int],
    cpu0: float,
    residual: bool,
) -> NeuralEstimator:
    counts, states = simulate_training_counts(
        n_train, rng, readout_error=readout_error, shots_range=shots_range
    )
    x = features(counts, 2, readout_error)
    torch.manual_seed(int(rng.integers(2**31)))
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(np.stack([states.real, states.imag], axis=1), dtype=torch.float32)
    if residual:
        base_np, scale_np = linear_cholesky(counts, 2, readout_error)
    else:
        base_np, scale_np = np.zeros((n_train, 16)), np.ones(n_train)
    base = torch.tensor(base_np, dtype=torch.float32)
    scale = torch.tensor(scale_np[:, None], dtype=torch.float32)
    widths = [x.shape[1], *hidden, 16]
    layers: list[Any] = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    rows, cols = np.tril_indices(4, -1)
    diag = torch.arange(4)
    loss_value = math.nan
    for _ in range(steps):
        idx = torch.as_tensor(rng.integers(0, n_train, size=batch))
        out = base[idx] + scale[idx] * net(xt[idx])
        tr = torch.zeros(batch, 4, 4)
        ti = torch.zeros(batch, 4, 4)
        tr[:, diag, diag] = out[:, :4]
        tr[:, rows, cols] = out[:, 4:10]
        ti[:, rows, cols] = out[:, 10:16]
        # rho = T T^dagger with T = tr + i ti
        re = tr @ tr.transpose(1, 2) + ti @ ti.transpose(1, 2)
        im = ti @ tr.transpose(1, 2) - tr @ ti.transpose(1, 2)
        trace = re.diagonal(dim1=1, dim2=2).sum(-1).clamp_min(1e-12)[:, None, None]
        target = yt[idx]
        loss = ((re / trace - target[:, 0]) ** 2 + (im / trace - target[:, 1]) ** 2).sum((1, 2))
        loss = loss.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loss_value = float(loss.detach())
    weights = [layer.weight.detach().numpy().T.astype(np.float64) for layer in net[::2]]
    biases = [layer.bias.detach().numpy().astype(np.float64) for layer in net[::2]]
    info = {
        "n_train": n_train,
        "steps": steps,
        "batch": batch,
        "hidden": list(hidden),
        "shots_range": list(shots_range),
        "final_loss_frobenius2": loss_value,
        "train_cpu_s": round(time.process_time() - cpu0, 2),
        "family": "sample_network_pairs (Werner/Bell-diagonal F in [0.5,1], local noise)",
    }
    info["residual_over_linear_inversion"] = residual
    return NeuralEstimator(2, float(readout_error), weights, biases, info, residual)
