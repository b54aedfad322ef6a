"""Differentiable Lim14 finite-key rate in torch, for training the decoy-parameter network only.

A transcription of :func:`qnetai.qkd.finite_key.finite_key_rate` (expected statistics of a
block of ``N`` pulses, vacuum third decoy ``mu3 = 0``, no after-pulses, GYS fibre loss) so
that the network can be trained on the rate itself (``-rate / optimum``) instead of on the
optimiser's parameters. The numpy version stays the one source of every reported figure;
``tests/ai/security/test_qkd_params_rate_torch.py`` checks the two agree to 1e-9.

Example:
    >>> import numpy as np, torch
    >>> from qnetai.qkd.channel import GYS, GYS_F_EC
    >>> cond = np.array([[50.0, 0.045, 1.7e-6, 0.033, 1e12]])
    >>> x = np.array([[0.5, 0.2, 0.8, 0.75, 0.8]])  # (mu1, t, p1, s, q_x)
    >>> r = key_length_per_pulse(torch.tensor(cond), torch.tensor(x))
    >>> bool(r.item() > 0)
    True
"""

from __future__ import annotations

import math
from typing import Any

from qnetai._optional import require
from qnetai.qkd.channel import GYS, GYS_F_EC
from qnetai.qkd.decoy import E0

__all__ = ["key_length_per_pulse"]


def _h2(torch: Any, p: Any) -> Any:
    """Binary entropy in bits, 0 at the ends (p clipped into [1e-300, 1 - 1e-16])."""
    q = torch.clamp(p, 1e-300, 1.0 - 1e-16)
    return -q * torch.log2(q) - (1.0 - q) * torch.log2(1.0 - q)


def key_length_per_pulse(
    cond: Any,
    x: Any,
    *,
    f_ec: float = GYS_F_EC,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
    attenuation_db_per_km: float = GYS.attenuation_db_per_km,
) -> Any:
    """Lim14 key length per pulse *before* the floor at 0 (torch, differentiable in ``x``).

    ``cond``: ``(n, 5)`` (distance_km, eta_bob, y0, e_detector, block_size); ``x``: ``(n, 5)``
    the optimiser's box coordinates ``(mu1, t, p1, s, q_x)``: ``mu2 = t mu1``, ``mu3 = 0``,
    ``p2 = (1 - p1) s``.
    """
    torch = require("torch", extra="ai")
    d, eta_bob, y0, e_d, n_pulses = (cond[:, j] for j in range(5))
    mu1, t, p1, s, qx = (x[:, j] for j in range(5))
    mu2 = t * mu1
    p2 = (1.0 - p1) * s
    p3 = 1.0 - p1 - p2
    mu = torch.stack([mu1, mu2, torch.zeros_like(mu1)], dim=1)
    p = torch.stack([p1, p2, p3], dim=1)
    eta = (eta_bob * 10.0 ** (-attenuation_db_per_km * d / 10.0))[:, None]
    det = -torch.expm1(-eta * mu)
    gain = y0[:, None] + det
    err = E0 * y0[:, None] + e_d[:, None] * det
    wx = (n_pulses * qx**2)[:, None] * p
    wz = (n_pulses * (1.0 - qx) ** 2)[:, None] * p
    nx, mx, nz, mz = wx * gain, wx * err, wz * gain, wz * err
    coeff = 0.5 * math.log(21.0 / eps_sec)
    e_mu = torch.exp(-mu)
    tau0 = torch.sum(p * e_mu, dim=1)
    tau1 = torch.sum(p * e_mu * mu, dim=1)
    scale = torch.exp(mu) / p

    def vac_single(n: Any) -> tuple[Any, Any]:
        delta = torch.sqrt(n.sum(dim=1) * coeff)[:, None]
        n_plus, n_minus = scale * (n + delta), scale * (n - delta)
        s0 = torch.clamp(tau0 * n_minus[:, 2], min=0.0)  # mu3 = 0: Eq. (2)
        s1 = (
            tau1
            * mu1
            * (n_minus[:, 1] - n_plus[:, 2] - mu2**2 / mu1**2 * (n_plus[:, 0] - s0 / tau0))
            / (mu1 * mu2 - mu2**2)
        )
        return s0, s1

    s_x0, s_x1 = vac_single(nx)
    _, s_z1 = vac_single(nz)
    dm = torch.sqrt(mz.sum(dim=1) * coeff)[:, None]
    m_plus, m_minus = scale * (mz + dm), scale * (mz - dm)
    v_z1 = torch.clamp(tau1 * (m_plus[:, 1] - m_minus[:, 2]) / mu2, min=0.0)
    ok = (s_z1 > 0) & (s_x1 > 0)
    sz = torch.where(ok, s_z1, torch.ones_like(s_z1))
    sx = torch.where(ok, s_x1, torch.ones_like(s_x1))
    b = torch.clamp(v_z1 / sz, 1e-300, 0.5)
    ratio = (sz + sx) / (sz * sx)
    inner = torch.log2(ratio) - torch.log2((1.0 - b) * b) + 2 * math.log2(21.0 / eps_sec)
    gamma = torch.sqrt(torch.clamp(ratio * (1.0 - b) * b / math.log(2.0) * inner, min=0.0))
    phi = torch.where(ok, torch.clamp(b + gamma, max=0.5), torch.full_like(b, 0.5))
    nx_tot = nx.sum(dim=1)
    e_x = mx.sum(dim=1) / nx_tot
    lam = f_ec * nx_tot * _h2(torch, e_x)
    single = torch.where(s_x1 > 0, s_x1 * (1.0 - _h2(torch, phi)), torch.zeros_like(s_x1))
    overhead = 6 * math.log2(21.0 / eps_sec) + math.log2(2.0 / eps_cor)
    return (s_x0 + single - lam - overhead) / n_pulses


def _box(torch: Any, bounds: Any) -> tuple[Any, Any]:
    b = torch.as_tensor(bounds, dtype=torch.float64)
    return b[:, 0], b[:, 1] - b[:, 0]


def local_optimise(
    cond: Any,
    x0: Any,
    bounds: Any,
    *,
    steps: int = 300,
    lr: float = 0.05,
    lr_end: float | None = None,
    track_best: bool = True,
) -> tuple[Any, Any]:
    """Batched Adam on each row's key length per pulse, from ``x0``, inside ``bounds``.

    Every condition is optimised independently (Adam keeps one state per element) in the
    logit coordinates of the box, on its rate scaled by ``|rate(x0)|``. With
    ``track_best`` the best point seen is kept, else the end point where it beats the
    start (cheaper per step); either way no row ends worse than it started. Returns numpy
    ``(x, rate per pulse)`` (rate before the floor at 0). ``lr_end``: the step size decays
    geometrically from ``lr`` to it over the steps (default: constant). Labels training
    conditions ~20x cheaper than differential evolution; with ~10 steps it is the
    network's batched polish.
    """
    torch = require("torch", extra="ai")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: extra threads cost ~15x CPU (measured)
    try:
        return _local_optimise(torch, cond, x0, bounds, steps, lr, lr_end, track_best)
    finally:
        torch.set_num_threads(threads)


def _local_optimise(
    torch: Any,
    cond: Any,
    x0: Any,
    bounds: Any,
    steps: int,
    lr: float,
    lr_end: float | None,
    track_best: bool,
) -> tuple[Any, Any]:
    lo, span = _box(torch, bounds)
    c = torch.as_tensor(cond, dtype=torch.float64)
    x_start = torch.as_tensor(x0, dtype=torch.float64)
    u0 = torch.clamp((x_start - lo) / span, 1e-4, 1 - 1e-4)
    z = torch.log(u0 / (1 - u0)).clone().requires_grad_(True)
    with torch.no_grad():
        best = key_length_per_pulse(c, x_start)
        scale = best.abs().clamp(min=1e-14)
    best_x = x_start.clone()
    opt = torch.optim.Adam([z], lr=lr)
    decay = 1.0 if lr_end is None or steps < 2 else (lr_end / lr) ** (1.0 / (steps - 1))
    for _ in range(steps):
        opt.zero_grad()
        x = lo + span * torch.sigmoid(z)
        r = key_length_per_pulse(c, x)
        if track_best:
            with torch.no_grad():
                better = r > best
                best = torch.where(better, r, best)
                best_x = torch.where(better[:, None], x, best_x)
        (-(r / scale).sum()).backward()
        opt.step()
        for g in opt.param_groups:
            g["lr"] *= decay
    with torch.no_grad():
        x = lo + span * torch.sigmoid(z)
        r = key_length_per_pulse(c, x)
        better = r > best
        best = torch.where(better, r, best)
        best_x = torch.where(better[:, None], x, best_x)
    return best_x.detach().numpy(), best.detach().numpy()


def fit_on_rate(
    features: Any,
    cond: Any,
    optimum_rates: Any,
    weights: list[Any],
    biases: list[Any],
    bounds: Any,
    *,
    epochs: int = 2000,
    lr: float = 1e-3,
    tail: float = 0.02,
    tail_weight: float = 4.0,
    seed: int = 0,
    progress: Any = None,
) -> tuple[list[Any], list[Any], dict[str, float]]:
    """Train an MLP (tanh, sigmoid into ``bounds``) on the rate it achieves.

    Loss: the mean shortfall ``min(1 - rate/optimum, 1)`` plus ``tail_weight`` times the
    mean of the worst ``tail`` share of shortfalls (a CVaR term: the issue's target is the worst
    case). Full-batch Adam with cosine decay, from the given numpy weights (``(in, out)``
    matrices); returns the new weights and the final figures.
    """
    torch = require("torch", extra="ai")
    torch.manual_seed(seed)
    lo, span = _box(torch, bounds)
    f = torch.as_tensor(features, dtype=torch.float64)
    c = torch.as_tensor(cond, dtype=torch.float64)
    r_opt = torch.as_tensor(optimum_rates, dtype=torch.float64)
    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in biases]
    opt = torch.optim.Adam([*ws, *bs], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    k = max(1, int(tail * len(f)))

    def forward() -> Any:
        h = f
        for w, b in zip(ws[:-1], bs[:-1], strict=True):
            h = torch.tanh(h @ w + b)
        return lo + span * torch.sigmoid(h @ ws[-1] + bs[-1])

    short = torch.zeros(1)
    for ep in range(epochs):
        opt.zero_grad()
        # clipped at 1 (no key): such points get no gradient here, tune() falls back there
        short = torch.clamp(1.0 - key_length_per_pulse(c, forward()) / r_opt, max=1.0)
        loss = short.mean() + tail_weight * torch.topk(short, k).values.mean()
        loss.backward()
        opt.step()
        sched.step()
        if progress is not None and ep % 100 == 0:
            progress(ep, epochs, float(short.detach().max()), float(short.detach().mean()))
    with torch.no_grad():
        short = 1.0 - key_length_per_pulse(c, forward()) / r_opt
    info = {
        "train_worst_ratio": float(1 - short.max()),
        "train_mean_ratio": float(1 - short.mean()),
    }
    return (
        [w.detach().numpy().copy() for w in ws],
        [b.detach().numpy().copy() for b in bs],
        info,
    )
