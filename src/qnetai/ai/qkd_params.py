"""Learned finite-key decoy-state parameters: a small network trained on the rate itself.

:class:`DecoyParameterNet` maps link conditions (distance, Bob's efficiency, background,
misalignment, block size; :data:`CONDITION_NAMES`, plus two derived inputs: the overall
transmittance and the background over it) to the Lim et al. 2014 protocol parameters
``(mu1, mu2, p1, p2, q_x)`` (``mu3 = 0``) that
:func:`qnetai.qkd.optimise.optimise_finite_key` finds by differential evolution. The
network is a plain multi-layer perceptron whose weights live in an ``.npz`` file (inert
arrays, no pickle) with a ``.json`` description beside it; inference is numpy. Torch is
used only to train and to polish (:mod:`qnetai.ai.qkd_params_torch`, imported lazily):
labels come from batched gradient ascent on a differentiable copy of the Lim14 rate
(:func:`label_conditions`), and training ends on the loss ``1 - rate/optimum``
(:func:`train_decoy_net_on_rate`).

Outputs are the optimiser's own box parametrisation ``(mu1, t, p1, s, q_x)`` with
``mu2 = t mu1`` and ``p2 = (1 - p1) s``, squashed into its bounds by a sigmoid, so every
prediction is a valid protocol. :meth:`DecoyParameterNet.tune` (one condition) and
:meth:`DecoyParameterNet.tune_batch` (many, optionally with a few batched gradient steps)
add the fallback: where the parameters give no key they run the optimiser, so they never
return zero key where the optimum is positive.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> net = DecoyParameterNet.random(rng, hidden=(8,))
    >>> out = net.predict(np.array([[50.0, 0.045, 1.7e-6, 0.033, 1e10]]))
    >>> out["intensities"].shape, bool(np.all(out["intensities"][:, 1] < out["intensities"][:, 0]))
    ((1, 3), True)
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.qkd.channel import GYS, GYS_F_EC, ChannelModel
from qnetai.qkd.decoy import E0
from qnetai.qkd.finite_key import finite_key_length, finite_key_rate
from qnetai.qkd.optimise import optimise_finite_key

__all__ = [
    "CONDITION_BOUNDS",
    "CONDITION_NAMES",
    "DEFAULT_MODEL",
    "DERIVED_FEATURES",
    "LABEL_STARTS",
    "PARAM_BOUNDS",
    "DecoyParameterNet",
    "bench_qkd_params",
    "format_qkd_params",
    "label_conditions",
    "optimal_parameters",
    "optimiser_dataset",
    "polish",
    "rate_of",
    "rates_batch",
    "run_qkd_params_benchmark",
    "sample_conditions",
    "sample_training_conditions",
    "train_decoy_net",
    "train_decoy_net_on_rate",
]

#: Inputs, in column order.
CONDITION_NAMES: tuple[str, ...] = ("distance_km", "eta_bob", "y0", "e_detector", "block_size")
#: Sampling ranges of the conditions (eta_bob, y0 and block_size are sampled log-uniformly).
CONDITION_BOUNDS: dict[str, tuple[float, float]] = {
    "distance_km": (0.0, 200.0),
    "eta_bob": (0.02, 0.6),
    "y0": (1e-7, 1e-5),
    "e_detector": (0.005, 0.04),
    "block_size": (1e9, 1e13),
}
_LOG = ("eta_bob", "y0", "block_size")
#: The optimiser's box: (mu1, t, p1, s, q_x) with mu2 = t mu1, p2 = (1 - p1) s (mu3 = 0).
PARAM_BOUNDS: NDArray[np.float64] = np.array(
    [(0.05, 1.2), (0.01, 0.99), (0.01, 0.99), (0.01, 0.99), (0.1, 0.995)]
)


def sample_conditions(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``(n, 5)`` conditions drawn uniformly (log-uniformly for eta, y0, block size)."""
    cols = []
    for name in CONDITION_NAMES:
        lo, hi = CONDITION_BOUNDS[name]
        if name in _LOG:
            cols.append(10 ** rng.uniform(np.log10(lo), np.log10(hi), n))
        else:
            cols.append(rng.uniform(lo, hi, n))
    return np.column_stack(cols)


def sample_training_conditions(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Training conditions: half as :func:`sample_conditions`, half at the sharp edge.

    The edge half (active sampling where the first network lost most: long distance and
    small blocks) draws distance 50-200 km and blocks 1e9-1e11 pulses (log-uniform).
    """
    n_edge = n // 2
    uni = sample_conditions(n - n_edge, rng)
    edge = sample_conditions(n_edge, rng)
    edge[:, 0] = rng.uniform(50.0, 200.0, n_edge)
    edge[:, 4] = 10 ** rng.uniform(9.0, 11.0, n_edge)
    return np.vstack([uni, edge])


#: Fixed starts of :func:`label_conditions` (box coordinates ``(mu1, t, p1, s, q_x)``).
LABEL_STARTS: NDArray[np.float64] = np.array(
    [
        [0.5, 0.3, 0.6, 0.7, 0.8],
        [0.3, 0.5, 0.3, 0.7, 0.6],
        [0.7, 0.2, 0.8, 0.5, 0.9],
        [0.4, 0.4, 0.5, 0.8, 0.7],
    ]
)


def label_conditions(
    cond: ArrayLike,
    *,
    steps: int = 300,
    final_steps: int = 300,
    chunk: int = 4000,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Near-optimal ``(mu1, t, p1, s, q_x)`` and rate per pulse for each condition.

    Batched gradient ascent on the differentiable rate
    (:func:`qnetai.ai.qkd_params_torch.local_optimise`) from the :data:`LABEL_STARTS`
    (``steps`` each), then ``final_steps`` more from the best: ~10 ms a condition instead
    of differential evolution's ~70-400 ms, and at least as good on the benchmark's
    held-out conditions (``benchmarks/README.md``). Rates are clipped at 0.
    """
    from qnetai.ai.qkd_params_torch import local_optimise

    c = np.atleast_2d(np.asarray(cond, dtype=float))
    xs, rs = np.zeros((len(c), 5)), np.zeros(len(c))
    for a in range(0, len(c), chunk):
        cc = c[a : a + chunk]
        best_x, best_r = np.zeros((len(cc), 5)), np.full(len(cc), -np.inf)
        for start in LABEL_STARTS:
            x, r = local_optimise(cc, np.tile(start, (len(cc), 1)), PARAM_BOUNDS, steps=steps)
            better = r > best_r
            best_x[better], best_r[better] = x[better], r[better]
        if final_steps > 0:
            best_x, best_r = local_optimise(cc, best_x, PARAM_BOUNDS, steps=final_steps, lr=0.01)
        xs[a : a + chunk], rs[a : a + chunk] = best_x, np.maximum(best_r, 0.0)
        if progress is not None:
            progress(min(a + chunk, len(c)), len(c))
    return xs, rs


def _channel(cond: NDArray[np.float64]) -> ChannelModel:
    return ChannelModel(
        attenuation_db_per_km=GYS.attenuation_db_per_km,
        eta_bob=float(cond[1]),
        y0=float(cond[2]),
        e_detector=float(cond[3]),
    )


def _to_protocol(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """(mu1, t, p1, s, q_x) rows -> intensities (n, 3), probabilities (n, 3), q_x (n,)."""
    mu1, t, p1, s, qx = x.T
    mus = np.column_stack([mu1, t * mu1, np.zeros_like(mu1)])
    p2 = (1 - p1) * s
    ps = np.column_stack([p1, p2, 1 - p1 - p2])
    return mus, ps, qx


def rates_batch(cond: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
    """Lim14 key length per pulse (before the floor) of each ``x`` row under its ``cond`` row.

    One vectorised call. The expected counts are those of :meth:`ChannelModel.gain_at` /
    ``error_gain_at`` (no after-pulses) with each row's own channel; the key length is
    :func:`qnetai.qkd.finite_key.finite_key_length`, the one Lim14 implementation. Equal to
    :func:`rate_of` row by row (tested); ~100x cheaper per row on a batch.

    Example:
        >>> c = np.array([[50.0, 0.045, 1.7e-6, 0.033, 1e12]])
        >>> x = np.array([[0.5, 0.2, 0.8, 0.75, 0.8]])
        >>> bool(abs(rates_batch(c, x)[0] - rate_of(c[0], x[0])) < 1e-15)
        True
    """
    c = np.atleast_2d(np.asarray(cond, dtype=float))
    xx = np.atleast_2d(np.asarray(x, dtype=float))
    mus, ps, qx = _to_protocol(xx)
    eta = c[:, 1] * 10.0 ** (-GYS.attenuation_db_per_km * c[:, 0] / 10.0)
    det = -np.expm1(-eta[:, None] * mus)
    y0 = c[:, 2:3]
    gain = y0 + det
    err = E0 * y0 + c[:, 3:4] * det
    wx = (c[:, 4] * qx**2)[:, None] * ps
    wz = (c[:, 4] * (1.0 - qx) ** 2)[:, None] * ps
    out = finite_key_length(
        intensities=mus,
        probabilities=ps,
        n_x=wx * gain,
        m_x=wx * err,
        n_z=wz * gain,
        m_z=wz * err,
        f_ec=GYS_F_EC,
    )
    return np.asarray(out["key_length"], dtype=float) / c[:, 4]


def rate_of(cond: ArrayLike, x: ArrayLike) -> float:
    """Lim14 key rate per pulse (clipped at 0) of parameters ``x`` under condition ``cond``."""
    c = np.asarray(cond, dtype=float)
    mus, ps, qx = _to_protocol(np.asarray(x, dtype=float).reshape(1, 5))
    r = finite_key_rate(
        float(c[0]),
        block_size=float(c[4]),
        intensities=mus[0],
        probabilities=ps[0],
        q_x=float(qx[0]),
        channel=_channel(c),
    )
    return float(max(np.asarray(r.key_rate_per_pulse, dtype=float).reshape(-1)[0], 0.0))


def optimal_parameters(cond: ArrayLike, *, maxiter: int = 60) -> tuple[NDArray[np.float64], float]:
    """The optimiser's ``(mu1, t, p1, s, q_x)`` and key rate per pulse for one condition."""
    c = np.asarray(cond, dtype=float)
    opt = optimise_finite_key(
        float(c[0]), block_size=float(c[4]), channel=_channel(c), maxiter=maxiter
    )
    mu1, mu2, _ = opt.intensities
    p1, p2, _ = opt.probabilities
    x = np.array([mu1, mu2 / mu1, p1, p2 / max(1 - p1, 1e-12), opt.q_x])
    return np.clip(x, PARAM_BOUNDS[:, 0], PARAM_BOUNDS[:, 1]), opt.key_rate_per_pulse


def _unclipped_rate(c: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    mus, ps, qx = _to_protocol(np.clip(x, PARAM_BOUNDS[:, 0], PARAM_BOUNDS[:, 1]).reshape(1, 5))
    r = finite_key_rate(
        float(c[0]),
        block_size=float(c[4]),
        intensities=mus[0],
        probabilities=ps[0],
        q_x=float(qx[0]),
        channel=_channel(c),
    )
    return float(np.asarray(r.key_length, dtype=float).reshape(-1)[0]) / float(c[4])


def polish(cond: ArrayLike, x0: ArrayLike, *, evaluations: int = 60) -> NDArray[np.float64]:
    """Nelder-Mead from ``x0`` (``evaluations`` rate evaluations, simplex of 2 % of the box).

    Returns the better of ``x0`` and the search's end point (never worse than ``x0``).
    """
    from scipy import optimize

    c = np.asarray(cond, dtype=float).reshape(-1)
    x0 = np.asarray(x0, dtype=float).reshape(-1)
    scale = abs(_unclipped_rate(c, x0)) or 1e-12

    def neg(x: NDArray[np.float64]) -> float:
        return -_unclipped_rate(c, x) / scale

    step = np.diag(0.02 * (PARAM_BOUNDS[:, 1] - PARAM_BOUNDS[:, 0]))
    simplex = np.clip(x0 + np.vstack([np.zeros(5), step]), PARAM_BOUNDS[:, 0], PARAM_BOUNDS[:, 1])
    res = optimize.minimize(
        neg,
        x0,
        method="Nelder-Mead",
        bounds=PARAM_BOUNDS,
        options={"maxfev": int(evaluations), "initial_simplex": simplex},
    )
    return np.asarray(res.x, dtype=float) if res.fun < neg(x0) else x0


#: Derived inputs of the v2 feature set: the overall transmittance and the background over
#: it (the two numbers the rate depends on most), with their scaling ranges.
DERIVED_FEATURES: dict[str, tuple[float, float]] = {
    "log10_eta_total": (-6.0, 0.0),
    "log10_y0_over_eta_total": (-7.0, 1.0),
}
_LOG_IDX = np.array([CONDITION_NAMES.index(n) for n in _LOG])
_V = {
    n: np.log10(CONDITION_BOUNDS[n]) if n in _LOG else CONDITION_BOUNDS[n] for n in CONDITION_NAMES
}
_LO = np.array([_V[n][0] for n in CONDITION_NAMES] + [v[0] for v in DERIVED_FEATURES.values()])
_SCALE = 2.0 / (
    np.array([_V[n][1] for n in CONDITION_NAMES] + [v[1] for v in DERIVED_FEATURES.values()]) - _LO
)
_DB_PER_KM = GYS.attenuation_db_per_km


def _features(cond: ArrayLike, n_features: int = 7) -> NDArray[np.float64]:
    """Inputs scaled to about [-1, 1]: the 5 conditions (log where wide), then the derived."""
    c = np.atleast_2d(np.asarray(cond, dtype=float))
    if c.ndim != 2 or c.shape[1] != len(CONDITION_NAMES):
        raise InputError(f"conditions must have {len(CONDITION_NAMES)} columns {CONDITION_NAMES}")
    v = np.empty((c.shape[0], 7))
    v[:, :5] = c
    v[:, _LOG_IDX] = np.log10(c[:, _LOG_IDX])
    v[:, 5] = v[:, 1] - _DB_PER_KM * c[:, 0] / 10.0
    v[:, 6] = v[:, 2] - v[:, 5]
    out = (v - _LO) * _SCALE - 1.0
    return out[:, :n_features]


@dataclass(frozen=True, eq=False)
class DecoyParameterNet:
    """Inert MLP weights (tanh hidden layers, sigmoid outputs into :data:`PARAM_BOUNDS`)."""

    weights: tuple[NDArray[np.float64], ...]
    biases: tuple[NDArray[np.float64], ...]
    meta: dict[str, Any]

    @classmethod
    def random(
        cls, rng: np.random.Generator, hidden: tuple[int, ...] = (64, 64), *, n_features: int = 7
    ) -> DecoyParameterNet:
        """Untrained network (for tests and as a training start)."""
        sizes = (n_features, *hidden, 5)
        ws = tuple(rng.normal(0, 1 / np.sqrt(a), size=(a, b)) for a, b in itertools.pairwise(sizes))
        bs = tuple(np.zeros(b) for b in sizes[1:])
        return cls(ws, bs, {"hidden": list(hidden)})

    def raw(self, cond: ArrayLike) -> NDArray[np.float64]:
        """``(n, 5)`` parameters ``(mu1, t, p1, s, q_x)`` for ``(n, 5)`` conditions."""
        h = _features(cond, self.weights[0].shape[0])
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.tanh(h @ w + b)
        z = h @ self.weights[-1] + self.biases[-1]
        lo, hi = PARAM_BOUNDS[:, 0], PARAM_BOUNDS[:, 1]
        return lo + (hi - lo) / (1 + np.exp(-z))

    def predict(self, cond: ArrayLike) -> dict[str, NDArray[np.float64]]:
        """Intensities ``(n, 3)``, probabilities ``(n, 3)`` and ``q_x`` ``(n,)``."""
        mus, ps, qx = _to_protocol(self.raw(cond))
        return {"intensities": mus, "probabilities": ps, "q_x": qx}

    def tune(
        self, cond: ArrayLike, *, polish_evaluations: int = 0
    ) -> tuple[NDArray[np.float64], float, bool]:
        """Parameters for one condition, with the optimiser as fallback.

        With ``polish_evaluations > 0`` a Nelder-Mead search of that many rate evaluations
        starts from the network's parameters (:func:`polish`). Returns
        ``(x, rate, fell_back)``: the network's (polished) parameters when they give a
        positive key, else the full optimiser's (``fell_back`` True).
        """
        c = np.asarray(cond, dtype=float).reshape(-1)
        x = self.raw(c)[0]
        if polish_evaluations > 0:
            x = polish(c, x, evaluations=polish_evaluations)
        r = float(rates_batch(c, x)[0])
        if r > 0:
            return x, r, False
        x_opt, r_opt = optimal_parameters(c)
        return x_opt, r_opt, True

    def tune_batch(
        self,
        cond: ArrayLike,
        *,
        polish_steps: int = 0,
        polish_lr: float = 0.04,
        escalate_above: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """:meth:`tune` for ``(n, 5)`` conditions at once: ``(x, rate, used_optimiser)``.

        ``polish_steps > 0``: that many batched gradient-ascent steps on the differentiable
        rate from the network's parameters (:func:`qnetai.ai.qkd_params_torch.local_optimise`,
        needs torch; never worse than the start). Rows whose parameters give no key are
        handed to the optimiser, so no row has zero key where the optimum is positive. With
        ``escalate_above`` (e.g. 1.05) rows where the polish raised the rate by more than
        that factor (the network was far off: the sharp edge near the cut-off) also go to the
        optimiser, whose answer is kept where it is better.
        """
        c = np.atleast_2d(np.asarray(cond, dtype=float))
        x = self.raw(c)
        r_raw = rates_batch(c, x)
        if polish_steps > 0:
            from qnetai.ai.qkd_params_torch import local_optimise

            x, _ = local_optimise(
                c, x, PARAM_BOUNDS, steps=polish_steps, lr=polish_lr, track_best=False
            )
            r = np.maximum(rates_batch(c, x), 0.0)
        else:
            r = np.maximum(r_raw, 0.0)
        fell = r <= 0
        if escalate_above is not None:
            fell |= r > escalate_above * np.maximum(r_raw, 1e-300)
        for i in np.flatnonzero(fell):
            x_opt, r_opt = optimal_parameters(c[i])
            if r_opt > r[i] or r[i] <= 0:
                x[i], r[i] = x_opt, r_opt
        return x, r, fell

    def save(self, path: str | Path) -> None:
        """Write ``path`` (``.npz`` arrays) and ``path`` with ``.json`` (description)."""
        p = Path(path)
        arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(self.weights)}
        arrays.update({f"b{i}": b for i, b in enumerate(self.biases)})
        np.savez(p, **arrays)
        meta = {**self.meta, "layers": len(self.weights), "inputs": list(CONDITION_NAMES)}
        p.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> DecoyParameterNet:
        """Read weights saved by :meth:`save` (``allow_pickle=False``)."""
        p = Path(path)
        meta = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
        n = int(meta["layers"])
        with np.load(p, allow_pickle=False) as z:
            ws = tuple(np.asarray(z[f"w{i}"], dtype=float) for i in range(n))
            bs = tuple(np.asarray(z[f"b{i}"], dtype=float) for i in range(n))
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            want = ws[0].shape[0] if i == 0 else ws[i - 1].shape[1]
            if w.shape[0] != want or b.shape != (w.shape[1],):
                raise InputError(f"{p}: layer {i} has shape {w.shape}, bias {b.shape}")
        if ws[0].shape[0] not in (5, 7):
            raise InputError(f"{p}: the first layer must take 5 or 7 inputs (got {ws[0].shape[0]})")
        if ws[-1].shape[1] != 5:
            raise InputError(f"{p}: the last layer must have 5 outputs")
        return cls(ws, bs, meta)


def train_decoy_net(
    conditions: NDArray[np.float64],
    targets: NDArray[np.float64],
    *,
    seed: int = 0,
    hidden: tuple[int, ...] = (64, 64),
    epochs: int = 3000,
    lr: float = 3e-3,
    n_features: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> DecoyParameterNet:
    """Fit the network to optimiser outputs (MSE on the box-normalised parameters).

    Full-batch Adam in torch (CPU, seeded); returns numpy weights.
    """
    import torch

    torch.manual_seed(seed)
    lo = torch.tensor(PARAM_BOUNDS[:, 0])
    span = torch.tensor(PARAM_BOUNDS[:, 1] - PARAM_BOUNDS[:, 0])
    x = torch.tensor(_features(conditions, n_features))
    y = (torch.tensor(np.asarray(targets, dtype=float)) - lo) / span
    sizes = (x.shape[1], *hidden, 5)
    layers: list[Any] = []
    for a, b in itertools.pairwise(sizes[:-1]):
        layers += [torch.nn.Linear(a, b).double(), torch.nn.Tanh()]
    layers.append(torch.nn.Linear(sizes[-2], 5).double())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    t0 = time.perf_counter()
    for ep in range(epochs):
        opt.zero_grad()
        loss = torch.mean((torch.sigmoid(model(x)) - y) ** 2)
        loss.backward()
        opt.step()
        sched.step()
        if progress is not None and ep % 200 == 0:
            progress(ep, epochs)
    lin = [m for m in model if isinstance(m, torch.nn.Linear)]
    ws = tuple(m.weight.detach().numpy().T.copy() for m in lin)
    bs = tuple(m.bias.detach().numpy().copy() for m in lin)
    meta = {
        "hidden": list(hidden),
        "epochs": epochs,
        "seed": seed,
        "train_points": len(conditions),
        "final_mse": float(loss.detach()),
        "train_s": time.perf_counter() - t0,
    }
    return DecoyParameterNet(ws, bs, meta)


def train_decoy_net_on_rate(
    conditions: NDArray[np.float64],
    targets: NDArray[np.float64],
    optimum_rates: NDArray[np.float64],
    *,
    seed: int = 0,
    hidden: tuple[int, ...] = (64, 64),
    mse_epochs: int = 1500,
    rate_epochs: int = 2000,
    tail: float = 0.02,
    tail_weight: float = 4.0,
    lr: float = 3e-4,
    init: DecoyParameterNet | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DecoyParameterNet:
    """Two stages: MSE on the labels (:func:`train_decoy_net`), then the rate itself.

    The second stage (:func:`qnetai.ai.qkd_params_torch.fit_on_rate`) minimises the mean
    shortfall ``1 - rate/optimum`` plus ``tail_weight`` times the mean of the worst
    ``tail`` share, through the differentiable Lim14 rate, on the conditions with a
    positive optimum. With ``init`` the first stage is skipped and the rate stage starts
    from that network (a 5-input one gets zero weights for the two derived features, so it
    starts as the same function).
    """
    from qnetai.ai.qkd_params_torch import fit_on_rate

    pos = np.asarray(optimum_rates) > 0
    cond, tgt, ropt = conditions[pos], targets[pos], np.asarray(optimum_rates)[pos]
    if init is not None:
        w0 = init.weights[0]
        if w0.shape[0] == 5:
            w0 = np.vstack([w0, np.zeros((2, w0.shape[1]))])
        net = DecoyParameterNet(
            (w0, *init.weights[1:]), init.biases, {**init.meta, "init": "previous weights"}
        )
    else:
        net = train_decoy_net(
            cond,
            tgt,
            seed=seed,
            hidden=hidden,
            epochs=mse_epochs,
            progress=None if progress is None else (lambda a, b: progress("mse", a, b)),
        )
    t0 = time.perf_counter()
    ws, bs, info = fit_on_rate(
        _features(cond),
        cond,
        ropt,
        list(net.weights),
        list(net.biases),
        PARAM_BOUNDS,
        epochs=rate_epochs,
        lr=lr,
        tail=tail,
        tail_weight=tail_weight,
        seed=seed,
        progress=None if progress is None else (lambda a, b, *_: progress("rate", a, b)),
    )
    meta = {
        **net.meta,
        "features": [*CONDITION_NAMES, *DERIVED_FEATURES],
        "rate_epochs": rate_epochs,
        "rate_lr": lr,
        "tail": tail,
        "tail_weight": tail_weight,
        "rate_train_s": time.perf_counter() - t0,
        **info,
    }
    return DecoyParameterNet(tuple(ws), tuple(bs), meta)


#: Shipped weights (trained by ``benchmarks/bench_qkd_params.py --train``).
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "data" / "models" / "decoy-params.npz"


def _ratio_stats(ratio: NDArray[np.float64]) -> dict[str, float | None]:
    if ratio.size == 0:
        return {
            "worst_ratio": None,
            "p01_ratio": None,
            "mean_ratio": None,
            "share_below_0.99": None,
        }
    return {
        "worst_ratio": float(ratio.min()),
        "p01_ratio": float(np.quantile(ratio, 0.01)),
        "mean_ratio": float(ratio.mean()),
        "share_below_0.99": float((ratio < 0.99).mean()),
    }


def bench_qkd_params(
    net: DecoyParameterNet,
    conditions: NDArray[np.float64],
    optimum_params: NDArray[np.float64],
    optimum_rates: NDArray[np.float64],
    *,
    optimiser_s_per_query: float | None = None,
    polish_evaluations: int = 60,
    gradient_steps: int = 10,
    escalate_above: float = 1.05,
    timing_repeats: int = 200,
) -> dict[str, Any]:
    """The network against the optimiser on held-out conditions.

    Per condition with a positive optimum: the network's rate over the optimum's (raw, and
    with the :meth:`DecoyParameterNet.tune` fallback); the worst case, 1st percentile and
    mean; the share of conditions where the raw network gives zero key; CPU time per query
    (``time.process_time``: one condition at a time over ``timing_repeats`` queries,
    batched, and :meth:`~DecoyParameterNet.tune` with its rate check) against the
    optimiser's ``optimiser_s_per_query`` (CPU seconds); the batched path
    :meth:`~DecoyParameterNet.tune_batch` with its rate check and fallback, without and
    with ``gradient_steps`` of batched gradient polish (0: skipped; needs torch), timed on
    the conditions with a positive optimum (``fell_back``: how many of them went to the
    optimiser; beyond the cut-off every path ends in one optimiser run), also with the
    ``escalate_above`` rule of :meth:`~DecoyParameterNet.tune_batch`; and the
    network followed by a Nelder-Mead :func:`polish` of ``polish_evaluations`` (0: skipped).
    """
    cond = np.asarray(conditions, dtype=float)
    opt_r = np.asarray(optimum_rates, dtype=float)
    pos = opt_r > 0
    t0 = time.process_time()
    x_net = net.raw(cond)
    batch_s = (time.process_time() - t0) / max(len(cond), 1)
    reps = max(1, int(timing_repeats))
    picks = cond[np.arange(reps) % len(cond)]
    t0 = time.process_time()
    for c in picks:
        net.raw(c)
    single_s = (time.process_time() - t0) / reps
    r_net = np.array([rate_of(c, x) for c, x in zip(cond, x_net, strict=True)])
    ratio = r_net[pos] / opt_r[pos]
    zero = pos & (r_net <= 0)
    fallback_ratio = ratio.copy()
    fallback_ratio[r_net[pos] <= 0] = 1.0  # tune() runs the optimiser there
    n_tune = min(50, len(cond))
    t0 = time.process_time()
    for c in cond[:n_tune]:
        if rate_of(c, net.raw(c)[0]) > 0:  # what tune() does before any fallback
            continue
    tune_s = (time.process_time() - t0) / max(n_tune, 1)
    out: dict[str, Any] = {
        "conditions": len(cond),
        "positive_optimum": int(pos.sum()),
        **_ratio_stats(ratio),
        "zero_key_where_optimum_positive": int(zero.sum()),
        "worst_ratio_with_fallback": float(fallback_ratio.min()) if ratio.size else None,
        "net_s_per_query_single": single_s,
        "net_s_per_query_batched": batch_s,
        "tune_s_per_query": tune_s,
        "optimiser_s_per_query": optimiser_s_per_query,
        "timing": "CPU seconds (time.process_time)",
    }
    if optimiser_s_per_query:
        out["speedup_single"] = optimiser_s_per_query / single_s
        out["speedup_batched"] = optimiser_s_per_query / max(batch_s, 1e-12)
        out["speedup_tune"] = optimiser_s_per_query / tune_s
    variants: list[tuple[str, int, float | None]] = [("tune_batch", 0, None)]
    if gradient_steps > 0:
        variants += [("gradient_polish", gradient_steps, None)]
        variants += [("gradient_polish_escalated", gradient_steps, escalate_above)]
    for key, steps, esc in variants if pos.any() else ():
        if steps > 0:
            net.tune_batch(cond[pos][:2], polish_steps=1)  # torch's set-up, not timed
        # conditions with key only: beyond the cut-off every method ends in the optimiser
        t0 = time.process_time()
        _, r_tb, fell = net.tune_batch(cond[pos], polish_steps=steps, escalate_above=esc)
        tb_s = (time.process_time() - t0) / int(pos.sum())
        out[key] = {
            "steps": steps,
            "escalate_above": esc,
            **_ratio_stats(r_tb / opt_r[pos]),
            "fell_back": int(fell.sum()),
            "s_per_query": tb_s,
            "speedup": optimiser_s_per_query / tb_s if optimiser_s_per_query else None,
        }
    if polish_evaluations > 0:
        t0 = time.process_time()
        x_pol = [
            polish(c, x, evaluations=polish_evaluations) for c, x in zip(cond, x_net, strict=True)
        ]
        pol_s = (time.process_time() - t0) / max(len(cond), 1)
        r_pol = np.array([rate_of(c, x) for c, x in zip(cond, x_pol, strict=True)])
        pr = r_pol[pos] / opt_r[pos]
        out["polished"] = {
            "evaluations": polish_evaluations,
            **_ratio_stats(pr),
            "s_per_query": pol_s,
            "speedup": optimiser_s_per_query / pol_s if optimiser_s_per_query else None,
        }
    if ratio.size:
        worst = int(np.flatnonzero(pos)[int(np.argmin(ratio))])
        out["worst_condition"] = dict(zip(CONDITION_NAMES, cond[worst].tolist(), strict=True))
    return out


def optimiser_dataset(
    n: int, *, seed: int, progress: Callable[[int, int], None] | None = None
) -> dict[str, NDArray[np.float64]]:
    """``n`` conditions from ``seed`` with the optimiser's parameters, rates and CPU seconds."""
    cond = sample_conditions(n, np.random.default_rng(seed))
    xs, rs = np.zeros((n, 5)), np.zeros(n)
    t0 = time.process_time()
    for i, c in enumerate(cond):
        xs[i], rs[i] = optimal_parameters(c)
        if progress is not None:
            progress(i + 1, n)
    secs = np.array([(time.process_time() - t0) / max(n, 1)])
    return {"conditions": cond, "params": xs, "rates": rs, "s_per_query": secs}


def run_qkd_params_benchmark(
    *,
    seed: int = 2,
    n_conditions: int = 60,
    model: str | Path = DEFAULT_MODEL,
    polish_evaluations: int = 60,
    gradient_steps: int = 10,
    retune_blocks: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """``qnetai bench qkd-params``: the shipped network against the optimiser.

    Held-out conditions come from ``seed`` (the shipped model's training conditions come
    from other seeds: its ``.json`` lists them). With ``retune_blocks > 0`` a ``retune``
    section adds :func:`qnetai.ai.qkd_params_retune.run_retune_benchmark` (fading links,
    fixed vs re-tuned vs the optimiser per block).
    """
    if n_conditions < 1:
        raise InputError(f"n_conditions must be >= 1 (got {n_conditions})")
    if retune_blocks < 0:
        raise InputError(f"retune_blocks must be >= 0 (got {retune_blocks})")
    net = DecoyParameterNet.load(model)
    data = optimiser_dataset(n_conditions, seed=seed, progress=progress)
    out = bench_qkd_params(
        net,
        data["conditions"],
        data["params"],
        data["rates"],
        optimiser_s_per_query=float(data["s_per_query"][0]),
        polish_evaluations=polish_evaluations,
        gradient_steps=gradient_steps,
    )
    out["model"] = {k: v for k, v in net.meta.items() if k != "inputs"}
    out["seed"] = seed
    if retune_blocks > 0:
        from qnetai.ai.qkd_params_retune import run_retune_benchmark

        out["retune"] = run_retune_benchmark(net, n_blocks=retune_blocks)
    return out


def format_qkd_params(out: dict[str, Any]) -> str:
    """Plain-text summary of :func:`run_qkd_params_benchmark`'s result (the CLI's output)."""

    def f(v: float | None, spec: str = ".4f") -> str:
        return "-" if v is None else format(v, spec)

    lines = [
        f"{out['positive_optimum']} of {out['conditions']} held-out conditions with key; "
        f"network / optimum rate: worst {f(out['worst_ratio'])}, 1st percentile "
        f"{f(out['p01_ratio'])}, mean {f(out['mean_ratio'])}; zero key where the optimum "
        f"is positive: {out['zero_key_where_optimum_positive']}",
        f"CPU time per query: network {1e3 * out['net_s_per_query_single']:.3f} ms "
        f"({1e6 * out['net_s_per_query_batched']:.1f} us batched; with tune()'s rate check "
        f"{1e3 * out['tune_s_per_query']:.3f} ms), optimiser "
        f"{1e3 * (out['optimiser_s_per_query'] or 0.0):.1f} ms "
        f"({f(out.get('speedup_single'), '.0f')}x single, "
        f"{f(out.get('speedup_batched'), '.0f')}x batched, "
        f"{f(out.get('speedup_tune'), '.0f')}x with the check)",
    ]
    for key, what in (
        ("tune_batch", "batched, checked"),
        ("gradient_polish", "+ gradient"),
        ("gradient_polish_escalated", "+ gradient + escalation"),
    ):
        if key in out:
            g = out[key]
            lines.append(
                f"network {what} ({g['steps']} steps, fallback on {g['fell_back']}): worst "
                f"{f(g['worst_ratio'])}, 1st percentile {f(g['p01_ratio'])}, mean "
                f"{f(g['mean_ratio'], '.5f')}, {1e3 * g['s_per_query']:.3f} ms per query "
                f"({f(g['speedup'], '.0f')}x)"
            )
    if "polished" in out:
        p = out["polished"]
        lines.append(
            f"network + {p['evaluations']} Nelder-Mead evaluations: worst {f(p['worst_ratio'])}"
            f", mean {f(p['mean_ratio'], '.5f')}, {1e3 * p['s_per_query']:.1f} ms per query "
            f"({f(p['speedup'], '.1f')}x)"
        )
    for r in out.get("retune", []):
        kb = r["key_bits"]
        nk = r["blocks_without_key"]
        ceil = kb.get("optimiser_per_block")
        lines.append(
            f"re-tune {r['link']} ({r['blocks']} blocks, loss {r['loss_db']['min']:.1f}-"
            f"{r['loss_db']['max']:.1f} dB): key fixed {kb['fixed']:.4g} bits, re-tuned "
            f"{kb['retuned']:.4g} ({f(r['retuned_over_fixed'], '.3f')}x fixed"
            + (
                f"), optimiser per block {ceil:.4g} (re-tuned keeps "
                f"{f(r['retuned_over_ceiling'], '.3f')}, fixed {f(r['fixed_over_ceiling'], '.3f')})"
                if ceil is not None
                else ")"
            )
            + f"; blocks without key: fixed {nk['fixed']}, re-tuned {nk['retuned']}"
        )
    return "\n".join(lines)
